/**
 * patchRows (lib/sync/patch.ts) against a naive model: after any batch of inserts, updates and
 * deletes, the patched rows equal filtering, ordering and windowing the whole table again — or the
 * patch says only a refetch can tell, which it may do only for a window a row left.
 */
import fc from 'fast-check';
import { compileRequest, from } from '../../lib/postgrest';
import type { RealtimeChange } from '../../lib/sync/changes';
import { patchRows, type KeyIndex, type Row } from '../../lib/sync/patch';

const TYPES = { id: 'int4', grp: 'int4', score: 'int4', title: 'text' } as const;
type TableRow = { id: number; grp: number; score: number | null; title: string };

const rowArb = (id: number) =>
  fc.record({ id: fc.constant(id), grp: fc.integer({ min: 0, max: 2 }), score: fc.option(fc.integer({ min: 0, max: 5 })), title: fc.constantFrom('a', 'b') });
const stepArb = fc.oneof(
  fc.record({ kind: fc.constant('upsert' as const), id: fc.integer({ min: 1, max: 30 }) }).chain(({ kind, id }) => rowArb(id).map((row) => ({ kind, row }))),
  fc.record({ kind: fc.constant('delete' as const), id: fc.integer({ min: 1, max: 30 }) }),
);
const requests = {
  unwindowed: from('t').select('id,score').eq('grp', 1).order('score', { nullsFirst: true }),
  descending: from('t').select('id,score,title').neq('grp', 0).order('score', { ascending: false }).order('id'),
  top3: from('t').select('id,score').eq('grp', 1).order('score').order('id').limit(3),
  top5ties: from('t').select('id,score').order('score').limit(5),
};

/** The model: the whole table filtered, ordered (key breaking ties, as patchRows does), windowed, projected. */
function evaluate(name: keyof typeof requests, table: Map<number, TableRow>): Row[] {
  const query = compileRequest(requests[name].toRequest(), TYPES);
  const keyOf = (row: Row) => JSON.stringify([row.id]);
  const rows = [...table.values()].filter((row) => query.matches(row)).map((row) => query.project(row));
  rows.sort((a, b) => query.compare(a, b) || (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  return query.window.limit === null ? rows : rows.slice(0, query.window.limit);
}

const change = (eventType: RealtimeChange['eventType'], row: Record<string, unknown>, old: Record<string, unknown>): RealtimeChange => ({
  eventType,
  schema: 'public',
  table: 't',
  commit_timestamp: null,
  new: eventType === 'DELETE' ? {} : row,
  old,
  errors: null,
  ids: [],
  columns: [],
  position: null,
});

test.each(Object.keys(requests) as Array<keyof typeof requests>)('%s: patched rows equal the recomputed result after every batch', (name) => {
  fc.assert(
    fc.property(fc.array(rowArb(0), { maxLength: 20 }), fc.array(fc.array(stepArb, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 }), (initial, batches) => {
      const table = new Map<number, TableRow>();
      initial.forEach((row, index) => table.set(index + 1, { ...row, id: index + 1 }));
      const query = compileRequest(requests[name].toRequest(), TYPES);
      expect(query.exact).toBe(true);
      let rows: readonly Row[] = evaluate(name, table);
      let index: KeyIndex | undefined;
      for (const batch of batches) {
        const changes: RealtimeChange[] = [];
        for (const step of batch) {
          if (step.kind === 'delete') {
            if (!table.delete(step.id)) continue;
            changes.push(change('DELETE', {}, { id: step.id }));
          } else {
            const existed = table.has(step.row.id);
            table.set(step.row.id, step.row);
            changes.push(change(existed ? 'UPDATE' : 'INSERT', step.row, existed ? { id: step.row.id } : {}));
          }
        }
        const before = rows;
        const result = patchRows({ query, primaryKey: ['id'], rows, index, changes });
        if (result.kind === 'refetch') {
          expect(query.window.limit).not.toBeNull(); // only a window may need rows from beyond it
          rows = evaluate(name, table);
          index = undefined;
          continue;
        }
        expect(before).toBe(rows); // the cached rows are never mutated
        if (result.kind === 'patched') rows = result.rows;
        index = result.index;
        expect(rows).toEqual(evaluate(name, table));
      }
    }),
    { numRuns: 300, seed: 1 },
  );
});

test('a change without the key asks for a refetch', () => {
  const query = compileRequest(requests.unwindowed.toRequest(), TYPES);
  expect(patchRows({ query, primaryKey: ['id'], rows: [], index: undefined, changes: [change('INSERT', { grp: 1, score: 1 }, {})] })).toEqual({ kind: 'refetch' });
});

test('an unchanged batch keeps the rows by identity', () => {
  const query = compileRequest(requests.unwindowed.toRequest(), TYPES);
  const rows = [{ id: 1, score: 1 }];
  const result = patchRows({ query, primaryKey: ['id'], rows, index: undefined, changes: [change('INSERT', { id: 2, grp: 0, score: 1, title: 'a' }, {})] });
  expect(result.kind).toBe('unchanged');
});

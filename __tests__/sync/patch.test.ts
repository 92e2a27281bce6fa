/**
 * patchRows (lib/sync/patch.ts) against a naive model: after any batch of inserts, updates and
 * deletes, the patched rows equal filtering, ordering and windowing the whole table again — or the
 * patch says only a refetch can tell, which it may do only for a window a row left.
 */
import fc from 'fast-check';
import { compileRequest, from } from '../../lib/postgrest';
import type { RealtimeChange } from '../../lib/sync/changes';
import { patchRows, type KeyIndex, type Row } from '../../lib/sync/patch';
import { rowChange } from './support/rowChange';

const TYPES = { id: 'int4', grp: 'int4', score: 'int4', title: 'text' } as const;
type TableRow = { id: number; grp: number; score: number | null; title: string };

const rowArb = (id: number) =>
  fc.record({ id: fc.constant(id), grp: fc.integer({ min: 0, max: 2 }), score: fc.option(fc.integer({ min: 0, max: 5 })), title: fc.constantFrom('a', 'b') });
type Step = { kind: 'upsert'; row: TableRow } | { kind: 'delete'; id: number };
const stepArb: fc.Arbitrary<Step> = fc.oneof(
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

const change = rowChange;

/** Applies one random step to the table; the change event it makes, if any. */
function write(table: Map<number, TableRow>, step: Step): RealtimeChange | undefined {
  if (step.kind === 'delete') return table.delete(step.id) ? change('DELETE', {}, { id: step.id }) : undefined;
  const existed = table.has(step.row.id);
  table.set(step.row.id, step.row);
  return change(existed ? 'UPDATE' : 'INSERT', step.row, existed ? { id: step.row.id } : {});
}

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
        const changes = batch.map((step) => write(table, step)).filter((made): made is RealtimeChange => made !== undefined);
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

/** The whole result (no window), ordered as patchRows orders it. */
function evaluateAll(name: keyof typeof requests, table: Map<number, TableRow>): Row[] {
  const query = compileRequest(requests[name].toRequest(), TYPES);
  const keyOf = (row: Row) => JSON.stringify([row.id]);
  const rows = [...table.values()].filter((row) => query.matches(row)).map((row) => query.project(row));
  return rows.sort((a, b) => query.compare(a, b) || (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
}

describe.each([0, 1, 3])('top-N windows with %i spare rows (the known prefix)', (spareRows) => {
  test.each(['top3', 'top5ties'] as const)('%s: cached rows equal the top N, spares the known rows past them; refetch only when the known rows fall short', (name) => {
    fc.assert(
      fc.property(fc.array(rowArb(0), { maxLength: 20 }), fc.array(fc.array(stepArb, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 10 }), (initial, batches) => {
        const table = new Map<number, TableRow>();
        initial.forEach((row, index) => table.set(index + 1, { ...row, id: index + 1 }));
        const query = compileRequest(requests[name].toRequest(), TYPES);
        const limit = query.window.limit!;
        const capacity = limit + spareRows;
        const keyOf = (row: Row) => JSON.stringify([row.id]);
        // What a fetch of limit + spareRows rows gives: the cached rows, the spares, and whether it was all.
        const fetched = () => {
          const all = evaluateAll(name, table);
          return { rows: all.slice(0, limit), spares: all.slice(limit, capacity), complete: all.length < capacity };
        };
        let state: { rows: readonly Row[]; spares: readonly Row[]; complete: boolean } = fetched();
        let index: KeyIndex | undefined;
        // The model of the known prefix: the known rows as a set of keys, edited naively.
        let modelKeys = [...state.rows, ...state.spares].map(keyOf);
        let modelComplete = state.complete;
        for (const batch of batches) {
          const changes: RealtimeChange[] = [];
          for (const step of batch) {
            const made = write(table, step);
            if (!made) continue;
            changes.push(made);
            if (step.kind === 'delete') {
              modelKeys = modelKeys.filter((key) => key !== JSON.stringify([step.id]));
            } else {
              const key = JSON.stringify([step.row.id]);
              modelKeys = modelKeys.filter((known) => known !== key);
              if (!query.matches(step.row)) continue;
              // Known rows in the table's current order; the new row's place among them.
              const order = evaluateAll(name, table).map(keyOf);
              const ordered = [...modelKeys, key].sort((a, b) => order.indexOf(a) - order.indexOf(b));
              if (ordered[ordered.length - 1] === key && !modelComplete) continue; // beyond what is known
              modelKeys = ordered;
              if (modelKeys.length > capacity) {
                modelKeys.pop();
                modelComplete = false;
              }
            }
          }
          const all = evaluateAll(name, table);
          // The model's known rows are the exact first rows of the whole result (all of it when complete).
          expect(modelKeys).toEqual(all.slice(0, modelKeys.length).map(keyOf));
          if (modelComplete) expect(modelKeys.length).toBe(all.length);
          const before = state.rows;
          const result = patchRows({ query, primaryKey: ['id'], rows: state.rows, index, changes, spares: state.spares, spareRows, complete: state.complete });
          expect(result.kind === 'refetch').toBe(!modelComplete && modelKeys.length < limit);
          if (result.kind === 'refetch') {
            state = fetched();
            modelKeys = [...state.rows, ...state.spares].map(keyOf);
            modelComplete = state.complete;
            index = undefined;
            continue;
          }
          expect(before).toBe(state.rows); // the cached rows are never mutated
          state = { rows: result.kind === 'patched' ? result.rows : state.rows, spares: result.spares, complete: result.complete };
          index = result.index;
          expect(state.rows).toEqual(all.slice(0, limit));
          expect([...state.rows, ...state.spares].map(keyOf)).toEqual(modelKeys);
          expect(state.complete).toBe(modelComplete);
        }
      }),
      { numRuns: 300, seed: 2 },
    );
  });
});

test('a window with spares fills in from them instead of refetching', () => {
  const query = compileRequest(requests.top3.toRequest(), TYPES);
  const rows = [1, 2, 3].map((id) => ({ id, score: id }));
  const spares = [4, 5].map((id) => ({ id, score: id }));
  const result = patchRows({ query, primaryKey: ['id'], rows, index: undefined, changes: [change('DELETE', {}, { id: 2 })], spares, spareRows: 2, complete: false });
  expect(result).toMatchObject({ kind: 'patched', rows: [{ id: 1 }, { id: 3 }, { id: 4 }], spares: [{ id: 5 }], complete: false });
  // Without spares the same change needs a refetch (today's top-N behaviour).
  expect(patchRows({ query, primaryKey: ['id'], rows, index: undefined, changes: [change('DELETE', {}, { id: 2 })] })).toEqual({ kind: 'refetch' });
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

/**
 * The optimistic layer against a model: random tables, random entries (filters, order, top-N windows
 * with spare rows) and random sequences of inserts, updates, upserts and deletes. Re-applying the
 * writes on top of the entries' server rows must give exactly what each entry's query answers on the
 * table with the writes applied (the evaluator that answers it is itself property-tested against
 * PostgreSQL), or say it can't tell — which only a window may (its rows past the known ones are
 * unknown). The entries include one of the whole table, as an app with a list view has: the layer can
 * only move rows it knows.
 */
import fc from 'fast-check';
import { compileRequest, from, type CompiledQuery, type PostgrestRequest } from '../../../lib/postgrest/index.js';
import { applyLayer, type LayerEntry, type LayerWrite } from '../../../lib/sync/optimistic/layer.js';

type Item = { id: number; grp: number; score: number; title: string };
const COLUMNS = { id: 'int4', grp: 'int4', score: 'int4', title: 'text' };
const primaryKey = ['id'];

/** What PostgREST answers for `query` on `table`: matching rows in order (key breaks ties), windowed. */
function answer(query: CompiledQuery, table: readonly Item[]): Item[] {
  const rows = table.filter((row) => query.matches(row)).sort((a, b) => query.compare(a, b) || a.id - b.id);
  const { offset, limit } = query.window;
  return rows.slice(offset, limit === null ? undefined : offset + limit);
}

const item = (id: number) => fc.record({ id: fc.constant(id), grp: fc.integer({ min: 0, max: 3 }), score: fc.integer({ min: 0, max: 20 }), title: fc.string({ maxLength: 3 }) });

const entryRequest = fc.oneof(
  fc.record({ grp: fc.integer({ min: 0, max: 3 }), limit: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }) }).map(({ grp, limit }) => {
    const base = from('items').select('*').eq('grp', grp).order('score').order('id');
    return (limit === undefined ? base : base.limit(limit)).toRequest();
  }),
  fc.integer({ min: 0, max: 20 }).map((score) => from('items').select('*').gte('score', score).order('score', { ascending: false }).order('id').toRequest()),
);

type Write = { request: PostgrestRequest; rows?: Item[] };
const write = (nextId: () => number): fc.Arbitrary<Write> =>
  fc.oneof(
    item(0).map((row) => {
      const inserted = { ...row, id: nextId() };
      return { request: from('items').insert(inserted).select().optimistic().toRequest(), rows: [inserted] };
    }),
    fc.tuple(item(0), fc.integer({ min: 1, max: 12 }), fc.boolean()).map(([row, id, ignore]) => {
      const upserted = { ...row, id };
      return { request: from('items').upsert(upserted, { ignoreDuplicates: ignore }).optimistic().toRequest(), rows: [upserted] };
    }),
    fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 3 }), fc.oneof(fc.constant('grp'), fc.constant('id'), fc.constant('score'))).map(([score, value, by]) => {
      const update = from('items').update({ score });
      const filtered = by === 'grp' ? update.eq('grp', value) : by === 'id' ? update.eq('id', value + 1) : update.lt('score', score);
      return { request: filtered.optimistic().toRequest() };
    }),
    fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })).map(([grp, value]) => ({ request: from('items').update({ grp }).eq('grp', value).optimistic().toRequest() })),
    fc.integer({ min: 1, max: 12 }).map((id) => ({ request: from('items').delete().eq('id', id).optimistic().toRequest() })),
  );

/** The model: the table after `writes`, as PostgreSQL would leave it. */
function applyToTable(table: Item[], writes: readonly Write[]): Item[] {
  let rows = table.map((row) => ({ ...row }));
  for (const { request: { optimistic: _optimistic, ...request }, rows: given } of writes) {
    const filters = compileRequest({ ...request, action: 'select', method: 'GET', query: request.query.filter(([key]) => !['select', 'on_conflict', 'columns'].includes(key)), headers: {} }, COLUMNS);
    if (request.action === 'insert') rows.push(...given!.map((row) => ({ ...row })));
    else if (request.action === 'upsert') {
      const ignore = /ignore-duplicates/.test(request.headers.Prefer ?? '');
      for (const row of given!) {
        const existing = rows.find((candidate) => candidate.id === row.id);
        if (!existing) rows.push({ ...row });
        else if (!ignore) Object.assign(existing, row);
      }
    } else if (request.action === 'update') rows = rows.map((row) => (filters.matches(row) ? { ...row, ...(request.body as Partial<Item>) } : row));
    else if (request.action === 'delete') rows = rows.filter((row) => !filters.matches(row));
  }
  return rows;
}

test('entries with the layer re-applied equal their queries on the table with the writes applied', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 10 }).chain((size) => fc.tuple(...Array.from({ length: size }, (_, i) => item(i + 1)))),
      fc.array(entryRequest, { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 0, max: 4 }),
      fc.integer({ min: 1, max: 8 }).chain((count) => {
        let id = 100;
        return fc.array(write(() => ++id), { minLength: count, maxLength: count });
      }),
      (table, requests, spareRows, writes) => {
        const all = [from('items').select('*').order('id').toRequest(), ...requests];
        const queries = all.map((request) => compileRequest(request, COLUMNS));
        const entries: LayerEntry[] = queries.map((query) => {
          if (query.window.limit === null) return { query, rows: answer(query, table) };
          // A window fetched with spare rows, as live entries are.
          const fetched = answer({ ...query, window: { offset: 0, limit: query.window.limit + spareRows } }, table);
          return { query, rows: fetched.slice(0, query.window.limit), spares: fetched.slice(query.window.limit), spareRows, complete: fetched.length < query.window.limit + spareRows };
        });
        const layered = applyLayer(entries, writes as LayerWrite[], { primaryKey, columns: COLUMNS });
        const after = applyToTable(table as Item[], writes);
        layered.forEach((result, i) => {
          if (result.kind === 'undecidable') {
            // Only a window may not know enough rows.
            expect(queries[i]!.window.limit).not.toBeNull();
            return;
          }
          expect(result.rows).toEqual(answer(queries[i]!, after));
        });
      },
    ),
    { numRuns: 400 },
  );
});

test('an entry no write touches keeps its rows by identity; a write the client cannot evaluate leaves entries to the server', () => {
  const table: Item[] = [{ id: 1, grp: 0, score: 1, title: 'a' }, { id: 2, grp: 1, score: 2, title: 'b' }];
  const query = compileRequest(from('items').select('*').eq('grp', 0).order('id').toRequest(), COLUMNS);
  const other = compileRequest(from('items').select('*').eq('grp', 1).order('id').toRequest(), COLUMNS);
  const entries: LayerEntry[] = [{ query, rows: answer(query, table) }, { query: other, rows: answer(other, table) }];
  const [touched, untouched] = applyLayer(entries, [{ request: from('items').update({ score: 5 }).eq('id', 1).toRequest() }], { primaryKey, columns: COLUMNS });
  expect(touched).toEqual({ kind: 'rows', rows: [{ id: 1, grp: 0, score: 5, title: 'a' }] });
  expect(untouched!.kind === 'rows' && untouched!.rows).toBe(entries[1]!.rows);
  const fts = applyLayer(entries, [{ request: from('items').update({ score: 5 }).textSearch('title', 'a').toRequest() }], { primaryKey, columns: COLUMNS });
  expect(fts.map((result) => result.kind)).toEqual(['undecidable', 'undecidable']);
  expect(fts[0]).toEqual({ kind: 'undecidable', reason: expect.stringMatching(/^the write's filters: /) });
});

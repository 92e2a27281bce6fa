/**
 * patchPages (lib/sync/patchPages.ts) against a naive model, with the page param functions of a real
 * keysetPages definition: after any batches of inserts, updates and deletes, the patched pages are
 * exactly the list's rows between the first and last loaded row (from the list's start when no
 * previous page can be fetched, to its end when no next one can), in order — so the rows outside
 * are the ones fetchPreviousPage / fetchNextPage bring, each once — or the patch says only a
 * refetch can tell. Plus the cases that pin the rules down one by one.
 */
import fc from 'fast-check';
import { keysetPages, type KeysetPageParam } from '../../lib/api';
import { pagedListOf, type InfiniteData } from '../../lib/api/pages';
import { compileRequest, from } from '../../lib/postgrest';
import type { RealtimeChange } from '../../lib/sync/changes';
import { freezeDeep, type KeyIndex, type Row } from '../../lib/sync/patch';
import { patchPages } from '../../lib/sync/patchPages';
import { rowChange } from './support/rowChange';

const TYPES = { id: 'int4', grp: 'int4', rank: 'int4', title: 'text' } as const;
type TableRow = { id: number; grp: number; rank: number; title: string };
const PAGE = 3;

function setup(ascending: boolean) {
  const definition = keysetPages<Row>({ request: from('t').select('id,rank').eq('grp', 1), pageSize: PAGE, cursor: 'rank', ascending });
  const paged = pagedListOf(definition)!;
  if (paged.kind !== 'keyset') throw new Error('not recorded as keyset pages');
  const list = paged.list(undefined);
  if (typeof list === 'string') throw new Error(list);
  const query = compileRequest(list, TYPES);
  const options = definition.infiniteQueryOptions;
  return {
    query,
    hasNext: (data: InfiniteData) => paged.hasNext(data, undefined),
    hasPrevious: (data: InfiniteData) => paged.hasPrevious(data, undefined),
    bounds: (data: InfiniteData) => paged.bounds(data),
    /** The list now: the model. */
    rows: (table: Map<number, TableRow>) => [...table.values()].filter((row) => query.matches(row)).sort((a, b) => query.compare(a, b)).map((row) => query.project(row)),
    /** `count` pages from `start` as RTK fetches them (each page the next PAGE rows after the last one's cursor), while there is a next page. */
    load(table: Map<number, TableRow>, start: KeysetPageParam, count: number): InfiniteData {
      const all = this.rows(table);
      const pageAt = (param: KeysetPageParam) => {
        const after = param.after === undefined ? all : all.filter((row) => query.compare(row, { rank: param.after }) > 0);
        return after.slice(0, PAGE);
      };
      const data: { pages: Row[][]; pageParams: KeysetPageParam[] } = { pages: [pageAt(start)], pageParams: [start] };
      while (data.pages.length < count) {
        const next = options.getNextPageParam(data.pages.at(-1)!, data.pages, data.pageParams.at(-1)!, data.pageParams, undefined);
        if (!next) break;
        data.pages.push(pageAt(next));
        data.pageParams.push(next);
      }
      return freezeDeep(data); // as the store holds it
    },
  };
}

const change = rowChange;

type Step = { kind: 'upsert'; id: number; grp: number; rank: number } | { kind: 'delete'; id: number };
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('upsert' as const), id: fc.integer({ min: 1, max: 24 }), grp: fc.integer({ min: 0, max: 3 }).map((g) => Math.min(g, 1)), rank: fc.integer({ min: 0, max: 60 }) }),
  fc.record({ kind: fc.constant('delete' as const), id: fc.integer({ min: 1, max: 24 }) }),
);

/** Applies `step` to the table (skipping one that would give two rows the same rank: the cursor is unique) and returns its change. */
function applyStep(table: Map<number, TableRow>, step: Step): RealtimeChange | undefined {
  const before = table.get(step.id);
  if (step.kind === 'delete') {
    if (!before) return undefined;
    table.delete(step.id);
    return change('DELETE', {}, { id: step.id }); // the key only, as a DELETE (or a LEAVE) carries it
  }
  if ([...table.values()].some((row) => row.rank === step.rank && row.id !== step.id)) return undefined;
  const row = { id: step.id, grp: step.grp, rank: step.rank, title: 'x' };
  table.set(step.id, row);
  return before ? change('UPDATE', row, { id: step.id }) : change('INSERT', row, {});
}

/** The model's answer for `data`: the list's rows from the first loaded one (or the start) to the last loaded one (or the end). */
function expectedRange(model: ReturnType<typeof setup>, table: Map<number, TableRow>, data: InfiniteData): Row[] {
  const flat = data.pages.flat() as Row[];
  const all = model.rows(table);
  const at = (row: Row | undefined) => (row === undefined ? -1 : all.findIndex((candidate) => candidate.id === row.id));
  if (flat.length > 0 && (at(flat[0]) < 0 || at(flat.at(-1)) < 0)) return [{ missing: 'a loaded end row is not in the list' }];
  // No previous page: from the list's start, or from past the first page's `after` cursor.
  const after = (data.pageParams[0] as KeysetPageParam).after;
  const from_ = model.hasPrevious(data) && flat.length > 0 ? at(flat[0]) : after === undefined ? 0 : all.filter((row) => model.query.compare(row, { rank: after }) <= 0).length;
  const to = model.hasNext(data) && flat.length > 0 ? at(flat.at(-1)) + 1 : all.length;
  return all.slice(from_, to);
}

describe('patchPages', () => {
  it.each([
    ['ascending, from the start', true, {}],
    ['descending, from the start', false, {}],
    ['ascending, from a cursor (more pages before)', true, { after: 6 }],
  ] as const)('%s: patched pages equal the model between their loaded ends, batch after batch (or ask for a refetch)', (_name, ascending, start) => {
    const model = setup(ascending);
    let patched = 0;
    let refetched = 0;
    fc.assert(
      fc.property(
        fc.array(fc.record({ id: fc.integer({ min: 1, max: 24 }), grp: fc.integer({ min: 0, max: 2 }).map((g) => Math.min(g, 1)) }), { maxLength: 24 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.array(stepArb, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 }),
        (seedRows, pageCount, batches) => {
          const table = new Map<number, TableRow>();
          // Distinct ranks 0, 2, 4 … (odd ones are free for inserts between them).
          seedRows.forEach((row, index) => table.set(row.id, { ...row, rank: index * 2, title: 'x' }));
          let data = model.load(table, start, pageCount);
          let index: KeyIndex | undefined;
          for (const batch of batches) {
            const changes = batch.map((step) => applyStep(table, step)).filter((c): c is RealtimeChange => c !== undefined);
            const result = patchPages({ query: model.query, primaryKey: ['id'], data, index, changes, hasNext: model.hasNext, hasPrevious: model.hasPrevious, bounds: model.bounds(data) });
            if (result.kind === 'refetch') {
              refetched++;
              return; // only a fetch can tell: what RTK's refetch of the pages brings is PostgREST's answer
            }
            if (result.kind === 'patched') {
              patched++;
              expect(Object.isFrozen(result.data) && result.data.pages.every((page) => Object.isFrozen(page))).toBe(true);
              expect(result.data.pageParams).toBe(data.pageParams);
              data = result.data;
            }
            index = result.index; // as the live entry keeps it, pointing at the stored data
            expect(data.pages.flat()).toEqual(expectedRange(model, table, data));
          }
        },
      ),
      { numRuns: 300 },
    );
    // The model would pass with nothing but refetches: most batches must have been patched.
    expect(patched).toBeGreaterThan(refetched);
  });

  const table = (ranks: number[], grp = 1) => new Map(ranks.map((rank, index) => [index + 1, { id: index + 1, grp, rank, title: 'x' }]));
  const ranksOf = (data: InfiniteData) => data.pages.map((page) => (page as Row[]).map((row) => row.rank));
  const run = (model: ReturnType<typeof setup>, data: InfiniteData, changes: RealtimeChange[]) => patchPages({ query: model.query, primaryKey: ['id'], data, index: undefined, changes, hasNext: model.hasNext, hasPrevious: model.hasPrevious, bounds: model.bounds(data) });

  it('copies only the pages a change touches; the others keep their identity', () => {
    const model = setup(true);
    const data = model.load(table([10, 20, 30, 40, 50, 60, 70]), {}, 3);
    const result = run(model, data, [change('INSERT', { id: 99, grp: 1, rank: 45, title: 'x' }, {})]);
    expect(result.kind).toBe('patched');
    const pages = (result as { data: InfiniteData }).data.pages;
    expect(ranksOf((result as { data: InfiniteData }).data)).toEqual([[10, 20, 30], [40, 45, 50, 60], [70]]);
    expect([pages[0] === data.pages[0], pages[1] === data.pages[1], pages[2] === data.pages[2]]).toEqual([true, false, true]);
  });

  it('a row before the first loaded one is left to fetchPreviousPage when there is a previous page, and joins the first page when not', () => {
    const model = setup(true);
    const rows = table([10, 20, 30, 40, 50, 60, 70]);
    const fromCursor = model.load(rows, { after: 20 }, 1); // [30, 40, 50]: rows before 30 come with fetchPreviousPage
    expect(run(model, fromCursor, [change('INSERT', { id: 99, grp: 1, rank: 25, title: 'x' }, {})]).kind).toBe('unchanged');
    const fromStart = model.load(rows, {}, 1);
    expect(ranksOf((run(model, fromStart, [change('INSERT', { id: 99, grp: 1, rank: 5, title: 'x' }, {})]) as { data: InfiniteData }).data)).toEqual([[5, 10, 20, 30]]);
  });

  it('a row past the loaded range is left to fetchNextPage while there is a next page, and joins the last page at the list end (also an empty last page)', () => {
    const model = setup(true);
    const open = model.load(table([10, 20, 30, 40, 50, 60, 70]), {}, 2);
    expect(run(model, open, [change('INSERT', { id: 99, grp: 1, rank: 65, title: 'x' }, {})]).kind).toBe('unchanged');
    // A full last page is followed by one empty page: the list's end.
    const ended = model.load(table([10, 20, 30]), {}, 2);
    expect(ranksOf(ended)).toEqual([[10, 20, 30], []]);
    expect(ranksOf((run(model, ended, [change('INSERT', { id: 99, grp: 1, rank: 35, title: 'x' }, {})]) as { data: InfiniteData }).data)).toEqual([[10, 20, 30], [35]]);
  });

  it('an update moves a row across pages; a key-only DELETE (as a LEAVE comes) and a row leaving the filter remove it', () => {
    const model = setup(true);
    const data = model.load(table([10, 20, 30, 40, 50, 60, 70, 80]), {}, 2);
    const result = run(model, data, [
      change('UPDATE', { id: 1, grp: 1, rank: 55, title: 'x' }, { id: 1 }),
      change('DELETE', {}, { id: 2 }),
      change('UPDATE', { id: 4, grp: 0, rank: 40, title: 'x' }, { id: 4 }),
    ]);
    expect(ranksOf((result as { data: InfiniteData }).data)).toEqual([[30], [50, 55, 60]]);
  });

  it('a change after which an open end no longer looks open (the last page fell short of a page while rows follow) asks for a refetch', () => {
    const model = setup(true);
    const data = model.load(table([10, 20, 30, 40, 50, 60, 70]), {}, 2);
    expect(ranksOf(data)).toEqual([[10, 20, 30], [40, 50, 60]]);
    expect(run(model, data, [change('DELETE', {}, { id: 5 })]).kind).toBe('refetch');
    // A page in the middle may shrink (even to nothing): the next page param comes from the last page.
    const emptied = run(model, data, [change('DELETE', {}, { id: 1 }), change('DELETE', {}, { id: 2 }), change('DELETE', {}, { id: 3 })]);
    expect(ranksOf((emptied as { data: InfiniteData }).data)).toEqual([[], [40, 50, 60]]);
  });

  it('a change lacking the order column as selected, or a page list with no pages, asks for a refetch', () => {
    const model = setup(true);
    const data = model.load(table([10, 20]), {}, 1);
    expect(run(model, data, [change('INSERT', { id: 99, grp: 1, title: 'x' }, {})]).kind).toBe('refetch');
    expect(run(model, { pages: [], pageParams: [] }, [change('DELETE', {}, { id: 1 })]).kind).toBe('refetch');
  });
});

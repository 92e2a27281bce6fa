/**
 * Reads against the real PostgREST 12, through postgrestBaseQuery: every filter operator and modifier
 * the builder offers, each compared with the same query written in SQL over a fixed seed (ids 1–40;
 * other files own other id ranges of `items`, so every query here is limited to the seed's range).
 */
import { from, rpc, type PostgrestBuilder } from '../../lib/postgrest';
import { closeSql, sql } from '../support/stack';
import { refOf, seed, SEED_NAMES } from './integrationSeed';
import { data, failure, idsOf, RANGES, run, sorted, type Item } from './integrationSupport';

type Query = PostgrestBuilder<Item, 'many', true, false>;
const END = RANGES.seed[1];

/** The seeded rows' ids, as a read of `id` only. */
const items = (): Query => from<Item>('items').select('id').lt('id', END);

async function sqlIds(where: string, params: unknown[] = [], order = 'id', paging = ''): Promise<number[]> {
  return idsOf(await sql<{ id: string }>(`select id from items where id < ${END} and (${where}) order by ${order} ${paging}`, params));
}

let total = 0;
beforeAll(async () => {
  await seed();
  total = (await sqlIds('true')).length;
});
afterAll(closeSql);

const may2025 = new Date(Date.UTC(2025, 4, 1));
type FilterCase = [name: string, build: (q: Query) => Query, where: string, params?: unknown[]];
const SPECIAL = ['a,b', 'quo"te', '(paren)', 'back\\slash', 'null', 'x,y)', 'dot.ted', 'co:lon', 'a\\"b', '{a,b}', 'in.(1,2)'];
const SPACED = ['\u00a0nbsp lead', ' leading space', 'trailing\u2003', ' ', '日本語', 'tab\tnew\nline'];

const FILTERS: FilterCase[] = [
  ['eq on an integer', (q) => q.eq('qty', 4), 'qty = 4'],
  ['eq on a negative integer', (q) => q.eq('qty', -3), 'qty = -3'],
  ['eq on numeric', (q) => q.eq('price', -0.75), 'price = -0.75'],
  ['eq on float8', (q) => q.eq('score', 1.5), 'score = 1.5'],
  ['eq with null (is null)', (q) => q.eq('qty', null), 'qty is null'],
  ['eq on a boolean', (q) => q.eq('active', false), 'active = false'],
  ['eq on a uuid', (q) => q.eq('ref', refOf(7)!), 'ref = $1', [refOf(7)]],
  ['eq on a date', (q) => q.eq('day', '2024-02-29'), "day = '2024-02-29'"],
  ['eq on timestamptz with a Date', (q) => q.eq('created_at', new Date(Date.UTC(2025, 3, 4, 3))), 'created_at = $1', ['2025-04-04T03:00:00Z']],
  ['eq with a bigint', (q) => q.eq('id', 7n), 'id = 7'],
  ['eq on a jsonb ->> path', (q) => q.eq('meta->>color', 'red'), "meta->>'color' = 'red'"],
  ['eq on a jsonb -> path', (q) => q.eq('meta->size', 2), "meta->'size' = '2'::jsonb"],
  ['neq on an integer (NULLs excluded)', (q) => q.neq('qty', 4), 'qty <> 4'],
  ['neq on text', (q) => q.neq('name', 'alpha'), "name <> 'alpha'"],
  ['neq with null (is not null)', (q) => q.neq('name', null), 'name is not null'],
  ['gt on an integer', (q) => q.gt('qty', 3), 'qty > 3'],
  ['gt on numeric excludes the bound', (q) => q.gt('price', -0.75), 'price > -0.75'],
  ['gte on numeric includes the bound', (q) => q.gte('price', -0.75), 'price >= -0.75'],
  ['lt on float8 (NaN sorts above all)', (q) => q.lt('score', 0), 'score < 0'],
  ['gt on float8 includes NaN', (q) => q.gt('score', 2), 'score > 2'],
  ['lte on a date with a Date', (q) => q.lte('day', new Date('2024-01-01T00:00:00Z')), "day <= '2024-01-01'"],
  ['gt on timestamptz with a Date', (q) => q.gt('created_at', may2025), 'created_at > $1', [may2025]],
  ['gte on text', (q) => q.gte('name', 'm'), "name >= 'm'"],
  ['like with %', (q) => q.like('name', '%lph%'), "name like '%lph%'"],
  ['like with * as %', (q) => q.like('name', 'al*'), "name like 'al%'"],
  ['like with _', (q) => q.like('name', '_lpha'), "name like '_lpha'"],
  ['ilike', (q) => q.ilike('name', 'ALP*'), "name ilike 'ALP%'"],
  ['ilike with a comma', (q) => q.ilike('name', '*,*'), "name ilike '%,%'"],
  ['is null', (q) => q.is('active', null), 'active is null'],
  ['is true', (q) => q.is('active', true), 'active is true'],
  ['is false', (q) => q.is('active', false), 'active is false'],
  ['is unknown', (q) => q.is('active', 'unknown'), 'active is unknown'],
  ['in on integers', (q) => q.in('qty', [1, 2, 3]), 'qty in (1, 2, 3)'],
  ['in on strings with , . : ( ) " \\ and reserved words', (q) => q.in('name', SPECIAL), 'name = any($1)', [SPECIAL]],
  ['in with unicode and leading spaces', (q) => q.in('name', SPACED), 'name = any($1)', [SPACED]],
  ['in with only the empty string', (q) => q.in('name', ['']), "name = ''"],
  ['in with the empty string among others', (q) => q.in('name', ['', 'beta']), "name in ('', 'beta')"],
  ['in on uuids', (q) => q.in('ref', [refOf(1)!, refOf(2)!]), 'ref = any($1::uuid[])', [[refOf(1), refOf(2)]]],
  ['in on dates', (q) => q.in('day', ['2024-02-29', '1999-12-31']), "day in ('2024-02-29', '1999-12-31')"],
  ['contains on text[]', (q) => q.contains('tags', ['red']), "tags @> '{red}'"],
  ['contains on text[] with a comma element', (q) => q.contains('tags', ['a,b']), 'tags @> $1::text[]', [['a,b']]],
  ['contains on text[] with the string "null"', (q) => q.contains('tags', ['null']), "tags @> array['null']"],
  ['contains on text[] with quote and backslash', (q) => q.contains('tags', ['quo"te', 'back\\slash']), 'tags @> $1::text[]', [['quo"te', 'back\\slash']]],
  ['contains on text[] with padded and empty elements', (q) => q.contains('tags', [' sp ', '']), 'tags @> $1::text[]', [[' sp ', '']]],
  ['contains on text[] with braces', (q) => q.contains('tags', ['{brace}']), 'tags @> $1::text[]', [['{brace}']]],
  ['contains on jsonb', (q) => q.contains('meta', { color: 'red' }), `meta @> '{"color":"red"}'`],
  ['contains on nested jsonb', (q) => q.contains('meta', { nested: { a: 1 } }), `meta @> '{"nested":{"a":1}}'`],
  ['contains on jsonb with a comma value', (q) => q.contains('meta', { k: 'a,b' }), `meta @> '{"k":"a,b"}'`],
  ['contains on a jsonb array (literal)', (q) => q.contains('meta', '[1]'), `meta @> '[1]'`],
  ['contains on a range', (q) => q.contains('during', '[2,3)'), "during @> '[2,3)'::int4range"],
  ['containedBy on text[]', (q) => q.containedBy('tags', ['red', 'blue', 'green']), "tags <@ '{red,blue,green}'"],
  ['containedBy on jsonb', (q) => q.containedBy('meta', { color: 'red', size: 1, extra: true }), `meta <@ '{"color":"red","size":1,"extra":true}'`],
  ['containedBy on a range', (q) => q.containedBy('during', '[0,8)'), "during <@ '[0,8)'::int4range"],
  ['overlaps on text[]', (q) => q.overlaps('tags', ['green', 'x']), "tags && '{green,x}'"],
  ['overlaps on a range', (q) => q.overlaps('during', '[4,6)'), "during && '[4,6)'::int4range"],
  ['rangeGt (>>)', (q) => q.rangeGt('during', '[1,5)'), "during >> '[1,5)'::int4range"],
  ['rangeGte (&>)', (q) => q.rangeGte('during', '[1,5)'), "during &> '[1,5)'::int4range"],
  ['rangeLt (<<)', (q) => q.rangeLt('during', '[3,6)'), "during << '[3,6)'::int4range"],
  ['rangeLte (&<)', (q) => q.rangeLte('during', '[3,6)'), "during &< '[3,6)'::int4range"],
  ['rangeAdjacent (-|-)', (q) => q.rangeAdjacent('during', '[5,7)'), "during -|- '[5,7)'::int4range"],
  ['textSearch (to_tsquery)', (q) => q.textSearch('fts', 'fat & rat'), "fts @@ to_tsquery('fat & rat')"],
  ['textSearch plain without config', (q) => q.textSearch('fts', 'cheese', { type: 'plain' }), "fts @@ plainto_tsquery('cheese')"],
  ['textSearch plain with config', (q) => q.textSearch('fts', 'fat rats', { type: 'plain', config: 'english' }), "fts @@ plainto_tsquery('english', 'fat rats')"],
  ['textSearch phrase', (q) => q.textSearch('fts', 'fat rats', { type: 'phrase', config: 'english' }), "fts @@ phraseto_tsquery('english', 'fat rats')"],
  ['textSearch websearch', (q) => q.textSearch('fts', '"fat rats" or cat -dogs', { type: 'websearch', config: 'english' }), `fts @@ websearch_to_tsquery('english', '"fat rats" or cat -dogs')`],
  // On a text column the config applies to the query only; the text gets the default config.
  ['textSearch on a text column', (q) => q.textSearch('body', 'rat', { config: 'simple' }), "body @@ to_tsquery('simple', 'rat')"],
  ['not eq', (q) => q.not('qty', 'eq', 4), 'not (qty = 4)'],
  ['not in with special strings', (q) => q.not('name', 'in', ['alpha', 'a,b', 'quo"te']), `not (name in ('alpha', 'a,b', 'quo"te'))`],
  ['not is null', (q) => q.not('active', 'is', null), 'active is not null'],
  ['not contains', (q) => q.not('tags', 'cs', ['red']), "not (tags @> '{red}')"],
  ['not like', (q) => q.not('name', 'like', 'a*'), "not (name like 'a%')"],
  ['not textSearch', (q) => q.not('fts', 'plfts(english)', 'cats'), "not (fts @@ plainto_tsquery('english', 'cats'))"],
  ['filter match (~)', (q) => q.filter('name', 'match', '^[a-z]+$'), "name ~ '^[a-z]+$'"],
  ['filter imatch (~*)', (q) => q.filter('name', 'imatch', '^alp'), "name ~* '^alp'"],
  ['filter isdistinct', (q) => q.filter('active', 'isdistinct', true), 'active is distinct from true'],
  ['filter not.eq', (q) => q.filter('qty', 'not.eq', 4), 'not (qty = 4)'],
  ['filter cs with a raw array literal', (q) => q.filter('tags', 'cs', '{red,blue}'), "tags @> '{red,blue}'"],
  ['filter like(any)', (q) => q.filter('name', 'like(any)', ['al*', '*ta']), "name like any (array['al%', '%ta'])"],
  ['filter ilike(all)', (q) => q.filter('name', 'ilike(all)', ['*a*', '*l*']), "name ilike all (array['%a%', '%l%'])"],
  ['filter eq(any)', (q) => q.filter('qty', 'eq(any)', [1, 2]), 'qty = any (array[1, 2])'],
  ['filter fts(english)', (q) => q.filter('fts', 'fts(english)', 'rat & cheese'), "fts @@ to_tsquery('english', 'rat & cheese')"],
  ['match on two columns', (q) => q.match({ active: true, label: 'plain' }), "active = true and label = 'plain'"],
  ['match with null and a special string', (q) => q.match({ active: null, label: 'plain,too' }), "active is null and label = 'plain,too'"],
  ['or of two eq', (q) => q.or((o) => o.eq('qty', 4).eq('name', 'a,b')), "qty = 4 or name = 'a,b'"],
  ['or with quoted values', (q) => q.or((o) => o.eq('name', 'quo"te').eq('name', 'x,y)').eq('name', 'back\\slash').in('name', ['(paren)', 'null', ''])), 'name = any($1)', [['quo"te', 'x,y)', 'back\\slash', '(paren)', 'null', '']]],
  ['or with reserved words and unicode spaces', (q) => q.or((o) => o.eq('name', 'true').eq('name', 'NULL').eq('name', 'not.is.null').eq('name', '\u00a0nbsp lead').eq('name', ' ')), 'name = any($1)', [['true', 'NULL', 'not.is.null', '\u00a0nbsp lead', ' ']]],
  ['or with a nested and', (q) => q.or((o) => o.and((a) => a.gt('qty', 3).lt('price', 0)).is('active', null)), '(qty > 3 and price < 0) or active is null'],
  ['or with containers inside the tree', (q) => q.or((o) => o.contains('tags', ['a,b']).contains('meta', { k: 'a,b' }).contains('during', '[8,9)')), `tags @> array['a,b'] or meta @> '{"k":"a,b"}' or during @> '[8,9)'::int4range`],
  ['or with not inside', (q) => q.or((o) => o.not('qty', 'gte', 0).is('qty', null)), 'not (qty >= 0) or qty is null'],
  ['or as a raw string', (q) => q.or('qty.eq.4,name.eq.alpha'), "qty = 4 or name = 'alpha'"],
  ['or with text search and patterns inside', (q) => q.or((o) => o.textSearch('fts', 'fat rats', { type: 'phrase', config: 'english' }).like('name', '*.*').ilike('name', '*(*').filter('name', 'match', '^[0-9 ]')), "fts @@ phraseto_tsquery('english', 'fat rats') or name like '%.%' or name ilike '%(%' or name ~ '^[0-9 ]'"],
  ['or with range operators inside', (q) => q.or((o) => o.rangeLt('during', '[5,6)').rangeAdjacent('during', '[10,20)')), "during << '[5,6)'::int4range or during -|- '[10,20)'::int4range"],
  ['or with a Date and a uuid inside', (q) => q.or((o) => o.gt('created_at', may2025).in('ref', [refOf(1)!])), 'created_at > $1 or ref = $2', [may2025, refOf(1)]],
  ['two or groups apply together', (q) => q.or((o) => o.is('active', true).is('active', false)).or((o) => o.lt('qty', 0).gt('qty', 5)), '(active is true or active is false) and (qty < 0 or qty > 5)'],
  ['and with a nested or', (q) => q.and((a) => a.or((o) => o.eq('active', true).eq('label', 'x')).gt('qty', 0)), "(active = true or label = 'x') and qty > 0"],
];

// Reordered so the title shows the SQL: "<name> selects exactly the rows SQL selects with: <where>".
const FILTER_TESTS = FILTERS.map(([name, build, where, params]) => [name, where, build, params ?? []] as const);

test.each(FILTER_TESTS)('%s selects exactly the rows SQL selects with: %s', async (_name, where, build, params) => {
  const expected = await sqlIds(where, params);
  // A case that matches nothing (or everything) could not catch a filter that was dropped or broken.
  expect(expected.length).toBeGreaterThan(0);
  expect(expected.length).toBeLessThan(total);
  expect(sorted(idsOf(await data(build(items()))))).toEqual(expected);
});

test('eq finds every seeded name, however special its characters, and only that row', async () => {
  const names = SEED_NAMES.filter((name): name is string => name !== null);
  const found = await Promise.all(names.map((name) => data(items().eq('name', name))));
  const expected = await Promise.all(names.map((name) => sqlIds('name = $1', [name])));
  expect(found.map(idsOf)).toEqual(expected);
  expect(expected.every((ids) => ids.length === 1)).toBe(true);
});

type OrderCase = [name: string, build: (q: Query) => Query, order: string, where?: string, paging?: string];

const ORDERS: OrderCase[] = [
  ['order ascending puts NULLs last', (q) => q.order('qty').order('id'), 'qty asc, id'],
  ['order descending puts NULLs first', (q) => q.order('qty', { ascending: false }).order('id'), 'qty desc, id'],
  ['order descending with nullsFirst false', (q) => q.order('qty', { ascending: false, nullsFirst: false }).order('id'), 'qty desc nulls last, id'],
  ['order ascending with nullsFirst true', (q) => q.order('price', { nullsFirst: true }).order('id', { ascending: false }), 'price asc nulls first, id desc'],
  ['several orders', (q) => q.order('active', { nullsFirst: true }).order('qty', { ascending: false, nullsFirst: false }).order('id', { ascending: false }), 'active asc nulls first, qty desc nulls last, id desc'],
  ['order on text', (q) => q.order('name').order('id'), 'name, id'],
  ['order on a jsonb path', (q) => q.order('meta->>color', { ascending: false }).order('id'), "meta->>'color' desc, id"],
  ['limit', (q) => q.order('id', { ascending: false }).limit(5), 'id desc', 'true', 'limit 5'],
  ['limit after filters', (q) => q.gt('qty', 0).order('price').order('id').limit(4), 'price, id', 'qty > 0', 'limit 4'],
  ['range', (q) => q.order('qty', { ascending: false }).order('id').range(3, 8), 'qty desc, id', 'true', 'offset 3 limit 6'],
  ['range past the end', (q) => q.order('id').range(35, 60), 'id', 'true', 'offset 35'],
  ['a later limit replaces range and keeps its offset', (q) => q.order('id').range(10, 19).limit(2), 'id', 'true', 'offset 10 limit 2'],
];

const ORDER_TESTS = ORDERS.map(([name, build, order, where, paging]) => [name, order, build, where ?? 'true', paging ?? ''] as const);

test.each(ORDER_TESTS)('%s: rows come in the order SQL gives for "order by %s"', async (_name, order, build, where, paging) => {
  const expected = await sqlIds(where, [], order, paging);
  expect(expected.length).toBeGreaterThan(1);
  expect(idsOf(await data(build(items())))).toEqual(expected);
});

test('limit 0 returns no rows', async () => {
  expect(await data(items().order('id').limit(0))).toEqual([]);
});

/** A row as PostgreSQL's JSON renders it, which is what PostgREST sends. */
async function sqlRow(id: number): Promise<unknown> {
  const [row] = await sql<{ j: unknown }>('select row_to_json(i) as j from items i where id = $1', [id]);
  return row?.j;
}

describe('single and maybeSingle', () => {
  it('single returns the one row as an object, equal to the row in the database', async () => {
    const row = await data(from<Item>('items').select('*').eq('id', 5).single());
    expect(row).toEqual(await sqlRow(5));
    expect(row.name).toBe('a,b');
  });

  it('maybeSingle returns the one row as an object when one matches', async () => {
    expect(await data(from<Item>('items').select('*').eq('name', 'quo"te').lt('id', END).maybeSingle())).toEqual(await sqlRow(9));
  });

  it('maybeSingle returns null when no row matches', async () => {
    const outcome = await run(from<Item>('items').select('*').eq('name', 'no such name').lt('id', END).maybeSingle());
    expect(outcome).toMatchObject({ data: null, meta: { status: 200 } });
  });
});

describe('select', () => {
  it('renames with aliases, casts and reads jsonb paths like SQL does', async () => {
    const rows = await data(
      from<Item>('items').select<unknown>('ident:id, qty_text:qty::text, color:meta->>color, size:meta->size, price_f:price::float8').lt('id', END).order('id'),
    );
    const expected = await sql<{ j: unknown }>(
      `select json_build_object('ident', id, 'qty_text', qty::text, 'color', meta->>'color', 'size', meta->'size', 'price_f', price::float8) as j
       from items where id < ${END} order by id`,
    );
    expect(rows).toEqual(expected.map((r) => r.j));
    expect(rows).toContainEqual({ ident: 6, qty_text: '6', color: 'red', size: 2, price_f: -4.5 });
  });

  it('embeds item_notes and applies or, order and limit to the embedded rows only', async () => {
    const rows = await data(
      from<Item>('items')
        .select<{ id: number; item_notes: Array<{ id: number }> }>('id, item_notes(id)')
        .lt('id', END)
        .or((o) => o.gte('stars', 4).eq('note', 'a,b'), { referencedTable: 'item_notes' })
        .order('id', { referencedTable: 'item_notes', ascending: false })
        .limit(1, { referencedTable: 'item_notes' })
        .order('id'),
    );
    const expected = await sql<{ id: string; notes: number[] }>(
      `select i.id, coalesce((select array_agg(id) from (select n.id from item_notes n where n.item_id = i.id and (n.stars >= 4 or n.note = 'a,b')
         order by n.id desc limit 1) s), '{}') as notes from items i where i.id < ${END} order by i.id`,
    );
    expect(rows.map((r) => [r.id, r.item_notes.map((n) => n.id)])).toEqual(expected.map((r) => [Number(r.id), r.notes.map(Number)]));
    expect(rows.length).toBe(total);
    // The seed has items whose notes the or filter removes entirely and items where limit 1 cuts matches.
    const [shape] = await sql<{ filtered_out: number; cut: number }>(
      `select count(*) filter (where notes > 0 and matching = 0)::int as filtered_out, count(*) filter (where matching > 1)::int as cut
       from (select (select count(*) from item_notes n where n.item_id = i.id) as notes,
                    (select count(*) from item_notes n where n.item_id = i.id and (n.stars >= 4 or n.note = 'a,b')) as matching
             from items i where i.id < ${END}) s`,
    );
    expect(shape!.filtered_out).toBeGreaterThan(0);
    expect(shape!.cut).toBeGreaterThan(0);
  });

  it('an !inner embed with a referenced-table or filters the parent rows', async () => {
    const rows = await data(items().select('id, item_notes!inner(id)').or('stars.eq.0,note.eq.meh', { referencedTable: 'item_notes' }).order('id'));
    const expected = await sqlIds("exists (select from item_notes n where n.item_id = items.id and (n.stars = 0 or n.note = 'meh'))");
    expect(idsOf(rows)).toEqual(expected);
    expect(expected.length).toBeGreaterThan(0);
  });
});

describe('count', () => {
  it('count exact gives { rows, count } with the total matching, not the page size', async () => {
    const result = await data(from<Item>('items').select('id', { count: 'exact' }).lt('id', END).gt('qty', 0).order('id').limit(3));
    const expected = await sqlIds('qty > 0');
    expect(result).toEqual({ rows: expected.slice(0, 3).map((id) => ({ id })), count: expected.length });
  });

  it('count exact with head sends HEAD and gives { rows: [], count }', async () => {
    const outcome = await run(from<Item>('items').select('*', { count: 'exact', head: true }).lt('id', END).is('active', true));
    expect(outcome.meta?.request.method).toBe('HEAD');
    expect(outcome.data).toEqual({ rows: [], count: (await sqlIds('active is true')).length });
  });

  it('head without a count sends HEAD and resolves with null', async () => {
    const outcome = await run(items().select('id', { head: true }));
    expect(outcome).toMatchObject({ data: null, meta: { status: 200, request: { method: 'HEAD' } } });
  });

  it('single with a count gives { rows: [row], count: 1 }', async () => {
    expect(await data(from<Item>('items').select('*', { count: 'exact' }).eq('id', 5).single())).toEqual({ rows: [await sqlRow(5)], count: 1 });
  });
});

describe('rpc', () => {
  it('POST sends the arguments as JSON and returns the scalar', async () => {
    const outcome = await run(rpc<number>('add_numbers', { a: 2, b: 40 }));
    expect(outcome).toMatchObject({ data: 42, meta: { status: 200, request: { method: 'POST' } } });
  });

  it('GET sends the arguments in the query string', async () => {
    const outcome = await run(rpc<number>('add_numbers', { a: -5, b: 7 }, { get: true }));
    expect(outcome).toMatchObject({ data: 2, meta: { status: 200, request: { method: 'GET', query: [['a', '-5'], ['b', '7']] } } });
  });

  it('HEAD runs the function and resolves with null', async () => {
    const outcome = await run(rpc<number>('add_numbers', { a: 1, b: 2 }, { head: true }));
    expect(outcome).toMatchObject({ data: null, meta: { status: 200, request: { method: 'HEAD', query: [['a', '1'], ['b', '2']] } } });
  });

  // PostgREST 12 can filter and order a function's rows only by selected columns (PostgREST#3965).
  it('a set-returning function takes select, filters, order and limit like a table', async () => {
    const rows = await data(
      rpc<Item[]>('items_named', { pattern: '%a%' }, { get: true }).select('id, name, qty').lt('id', END).gt('qty', 0).order('name', { ascending: false }).order('id').limit(5),
    );
    const expected = await sql<{ id: string; name: string; qty: number }>(
      `select id, name, qty from items_named($1) where id < ${END} and qty > 0 order by name desc, id limit 5`,
      ['%a%'],
    );
    expect(rows).toEqual(expected.map((r) => ({ ...r, id: Number(r.id) })));
    expect(rows.length).toBe(5);
  });

  it('GET arguments keep , ( ) " \\ and % verbatim', async () => {
    const patterns = ['a,b', '(paren)', '%"%', 'back\\\\slash', '%.%', '% %'];
    const found = await Promise.all(patterns.map((pattern) => data(rpc<Item[]>('items_named', { pattern }, { get: true }).select('id').lt('id', END))));
    const expected = await Promise.all(patterns.map((pattern) => sqlIds('name like $1', [pattern])));
    expect(found.map((rows) => sorted(idsOf(rows)))).toEqual(expected);
    expect(expected.every((ids) => ids.length > 0)).toBe(true);
  });

  it('POST on a set-returning function with single returns one row', async () => {
    const row = await data(rpc<Item[]>('items_named', { pattern: 'bet_' }).lt('id', END).single());
    expect(row).toEqual(await sqlRow(4));
  });

  it('HEAD with count exact counts the rows the function returns after filters', async () => {
    const outcome = await run(rpc<Item[]>('items_named', { pattern: '%a%' }, { head: true, count: 'exact' }).lt('id', END).is('active', false));
    expect(outcome.meta?.request.method).toBe('HEAD');
    expect(outcome.data).toEqual({ rows: [], count: (await sqlIds("name like '%a%' and active is false")).length });
  });
});

describe('errors come back as objects', () => {
  it('an unknown column in a filter is a 400 with code 42703', async () => {
    // @ts-expect-error: the typed row has no such column (a compile error); what PostgREST answers is tested here.
    const error = await failure(items().eq('no_such_column', 1));
    expect(error).toMatchObject({ status: 400, code: '42703', message: expect.stringContaining('no_such_column') });
  });

  it('single on several rows is a 406 PGRST116 naming the row count', async () => {
    const error = await failure(items().gt('qty', 3).single());
    const n = (await sqlIds('qty > 3')).length;
    expect(error).toMatchObject({ status: 406, code: 'PGRST116', details: `The result contains ${n} rows` });
  });

  it('single on no rows is a 406 PGRST116', async () => {
    expect(await failure(items().eq('id', -1).single())).toMatchObject({ status: 406, code: 'PGRST116', details: 'The result contains 0 rows' });
  });

  it('maybeSingle on several rows is a 406 PGRST116', async () => {
    expect(await failure(items().gt('qty', 3).maybeSingle())).toMatchObject({ status: 406, code: 'PGRST116' });
  });

  it('a value of the wrong type is a 400 with code 22P02', async () => {
    const error = await failure(items().eq('qty', 'abc'));
    expect(error).toMatchObject({ status: 400, code: '22P02', message: 'invalid input syntax for type integer: "abc"' });
  });

  it('an unknown table is a 404 with code 42P01', async () => {
    expect(await failure(from('no_such_table'))).toMatchObject({ status: 404, code: '42P01' });
  });

  it('an unknown function is a 404 with code PGRST202', async () => {
    expect(await failure(rpc('no_such_function'))).toMatchObject({ status: 404, code: 'PGRST202' });
  });
});

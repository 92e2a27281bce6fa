/**
 * Writes against the real PostgREST 12, through postgrestBaseQuery: after each one the database is read
 * back with SQL. This file owns `items` ids from 10000 (explicit) and identity ids from 1,000,000.
 */
import { from, rpc, type PostgrestRequestLike } from '../../lib/postgrest';
import { closeSql, sql } from '../support/stack';
import { data, failure, RANGES, run, type Item } from './integrationSupport';

const FIRST_ID = RANGES.writes[0];
const IDENTITY_START = 1_000_000;
let nextId = FIRST_ID;
/** `n` ids no other test of this file uses. */
const freshIds = (n: number): number[] => Array.from({ length: n }, () => nextId++);

const items = () => from<Item>('items');

/** The rows with `ids` as PostgreSQL renders them to JSON (what PostgREST returns), by id. */
async function dbRows(ids: readonly number[]): Promise<Item[]> {
  const rows = await sql<{ j: Item }>('select row_to_json(i) as j from items i where id = any($1) order by id', [ids]);
  return rows.map((r) => r.j);
}

/** Every row this file owns, to show that a write changed nothing. */
async function ownedRows(): Promise<Item[]> {
  const rows = await sql<{ j: Item }>('select row_to_json(i) as j from items i where id >= $1 order by id', [FIRST_ID]);
  return rows.map((r) => r.j);
}

/** Inserts rows with SQL, for writes to find: `[id, name, qty]`. */
async function given(rows: Array<[id: number, name: string, qty: number | null]>): Promise<void> {
  await sql('insert into items (id, name, qty) select * from unnest($1::bigint[], $2::text[], $3::int[])', [
    rows.map((r) => r[0]),
    rows.map((r) => r[1]),
    rows.map((r) => r[2]),
  ]);
}

beforeAll(async () => {
  await sql('delete from items where id >= $1', [FIRST_ID]);
  // Identity ids must not collide with the explicit ids the other files seed.
  await sql(`select setval(pg_get_serial_sequence('items', 'id'), greatest($1::bigint, (select coalesce(max(id), 0) from items)))`, [IDENTITY_START]);
});
afterAll(async () => {
  await sql('delete from items where id >= $1', [FIRST_ID]);
  await closeSql();
});

describe('insert', () => {
  it('one row without select: POST, 201, resolves with null, columns left out take their defaults', async () => {
    const [id] = freshIds(1) as [number];
    const outcome = await run(items().insert({ id, name: 'one', qty: 1 }));
    expect(outcome).toMatchObject({ data: null, meta: { status: 201, request: { method: 'POST', action: 'insert' } } });
    expect(await dbRows([id])).toEqual([expect.objectContaining({ id, name: 'one', qty: 1, label: 'plain', created_at: '2026-01-01T00:00:00+00:00' })]);
  });

  it('one row with select and single resolves with the row object as stored', async () => {
    const [id] = freshIds(1) as [number];
    const row = await data(items().insert({ id, name: 'with, "quotes"', tags: ['a,b', 'null'], meta: { k: [1, null] } }).select().single());
    expect([row]).toEqual(await dbRows([id]));
    expect(row).toMatchObject({ name: 'with, "quotes"', tags: ['a,b', 'null'], meta: { k: [1, null] } });
  });

  it('maybeSingle before select resolves with the inserted row as an object', async () => {
    const [id] = freshIds(1) as [number];
    const outcome = await run(items().insert({ id, name: 'maybe', during: '[1,3)', day: '2024-02-29' }).maybeSingle().select('id, name, during, day'));
    expect(outcome).toMatchObject({ data: { id, name: 'maybe', during: '[1,3)', day: '2024-02-29' }, meta: { status: 201, request: { method: 'POST' } } });
    expect(await dbRows([id])).toEqual([expect.objectContaining({ id, name: 'maybe', during: '[1,3)', day: '2024-02-29' })]);
  });

  it('many rows with different keys: missing columns become NULL by default, even where the column has a default', async () => {
    const [a, b] = freshIds(2) as [number, number];
    const rows = await data(items().insert([{ id: a, name: 'a', label: 'x' }, { id: b, qty: 2 }]).select('id, name, qty, label'));
    expect(rows).toEqual([
      { id: a, name: 'a', qty: null, label: 'x' },
      { id: b, name: null, qty: 2, label: null },
    ]);
    expect((await dbRows([a, b])).map(({ id, name, qty, label }) => ({ id, name, qty, label }))).toEqual(rows);
  });

  it('many rows with defaultToNull false: missing columns take their defaults (identity id, label, created_at), with a count', async () => {
    const result = await data(
      items()
        .insert([{ name: 'd1', created_at: '2030-01-01T00:00:00Z' }, { name: 'd2', label: 'mine' }], { defaultToNull: false, count: 'exact' })
        .select('id, name, label, created_at'),
    );
    expect(result.count).toBe(2);
    expect(result.rows.map(({ id, ...rest }) => [id >= IDENTITY_START, rest])).toEqual([
      [true, { name: 'd1', label: 'plain', created_at: '2030-01-01T00:00:00+00:00' }],
      [true, { name: 'd2', label: 'mine', created_at: '2026-01-01T00:00:00+00:00' }],
    ]);
    const stored = await dbRows(result.rows.map((r) => r.id));
    expect(stored.map(({ id, name, label, created_at }) => ({ id, name, label, created_at }))).toEqual(result.rows);
  });

  it('many rows with defaultToNull true and a NOT NULL column left out fails with 23502 and writes none of them', async () => {
    const [a, b] = freshIds(2) as [number, number];
    const error = await failure(items().insert([{ id: a, name: 'a', created_at: '2030-01-01T00:00:00Z' }, { id: b, name: 'b' }]));
    expect(error).toMatchObject({ status: 400, code: '23502' });
    expect(await dbRows([a, b])).toEqual([]);
  });

  it('a count without select resolves with { rows: [], count } and the rows are written', async () => {
    const [a, b] = freshIds(2) as [number, number];
    const outcome = await run(items().insert([{ id: a }, { id: b }], { count: 'exact' }));
    expect(outcome).toMatchObject({ data: { rows: [], count: 2 }, meta: { status: 201, request: { method: 'POST' } } });
    expect((await dbRows([a, b])).map((r) => r.id)).toEqual([a, b]);
  });

  it('a duplicate primary key fails with 409 / 23505 and leaves the row as it was', async () => {
    const [id] = freshIds(1) as [number];
    await given([[id, 'original', 1]]);
    const before = await dbRows([id]);
    expect(await failure(items().insert({ id, name: 'dupe' }).select().single())).toMatchObject({ status: 409, code: '23505' });
    expect(await dbRows([id])).toEqual(before);
  });
});

describe('upsert', () => {
  it('merges a duplicate primary key (only the sent columns) and inserts the new row', async () => {
    const [old, fresh] = freshIds(2) as [number, number];
    await given([[old, 'old', 1]]);
    await sql("update items set label = 'keep' where id = $1", [old]);
    const rows = await data(items().upsert([{ id: old, name: 'merged', qty: 2 }, { id: fresh, name: 'fresh', qty: 3 }]).select('id, name, qty, label'));
    expect(rows).toEqual([
      { id: old, name: 'merged', qty: 2, label: 'keep' },
      { id: fresh, name: 'fresh', qty: 3, label: 'plain' },
    ]);
    expect((await dbRows([old, fresh])).map(({ id, name, qty, label }) => ({ id, name, qty, label }))).toEqual(rows);
  });

  it('with ignoreDuplicates keeps the existing row and returns only the inserted one', async () => {
    const [old, fresh] = freshIds(2) as [number, number];
    await given([[old, 'old', 1]]);
    const before = await dbRows([old]);
    const rows = await data(items().upsert([{ id: old, name: 'ignored' }, { id: fresh, name: 'new' }], { ignoreDuplicates: true }).select('id, name'));
    expect(rows).toEqual([{ id: fresh, name: 'new' }]);
    expect(await dbRows([old])).toEqual(before);
    expect((await dbRows([fresh]))[0]).toMatchObject({ name: 'new' });
  });

  it('with onConflict on a unique column updates the row holding that value instead of inserting', async () => {
    const [id] = freshIds(1) as [number];
    const ref = '00000000-0000-4000-8000-99990000a001';
    await given([[id, 'by id', 1]]);
    await sql('update items set ref = $2 where id = $1', [id, ref]);
    const row = await data(items().upsert({ ref, name: 'by ref' }, { onConflict: 'ref' }).select('id, name, ref').single());
    expect(row).toEqual({ id, name: 'by ref', ref });
    expect(await sql('select id::int, name from items where ref = $1', [ref])).toEqual([{ id, name: 'by ref' }]);
  });

  it('with onConflict and ignoreDuplicates, maybeSingle resolves with null and nothing changes', async () => {
    const [id] = freshIds(1) as [number];
    const ref = '00000000-0000-4000-8000-99990000a002';
    await given([[id, 'kept', 1]]);
    await sql('update items set ref = $2 where id = $1', [id, ref]);
    const before = await ownedRows();
    const outcome = await run(items().upsert({ ref, name: 'ignored' }, { onConflict: 'ref', ignoreDuplicates: true }).select().maybeSingle());
    // PostgREST answers 406 for "0 rows" to the object the write asked for; meta keeps that status.
    expect(outcome).toMatchObject({ data: null, meta: { status: 406, request: { method: 'POST', action: 'upsert' } } });
    expect(outcome.error).toBeUndefined();
    expect(await ownedRows()).toEqual(before);
  });
});

const byId = <R extends { id: number }>(rows: R[]): R[] => [...rows].sort((x, y) => x.id - y.id);

type Returned = (outcome: unknown, row: Item) => void;
const asObject: Returned = (d, row) => expect(d).toEqual({ id: row.id, qty: row.qty });
const asArray: Returned = (d, row) => expect(d).toEqual([{ id: row.id, qty: row.qty }]);

describe('update', () => {
    const CHAINS: Array<[name: string, build: (id: number) => PostgrestRequestLike, shape: Returned]> = [
    ['select before eq, then single', (id) => items().update({ qty: 77 }).select('id, qty').eq('id', id).single(), asObject],
    ['eq before select, then single', (id) => items().update({ qty: 77 }).eq('id', id).select('id, qty').single(), asObject],
    ['single before eq and select', (id) => items().update({ qty: 77 }).single().eq('id', id).select('id, qty'), asObject],
    ['maybeSingle first', (id) => items().update({ qty: 77 }).maybeSingle().select('id, qty').eq('id', id), asObject],
    ['select and eq without single', (id) => items().update({ qty: 77 }).eq('id', id).select('id, qty'), asArray],
    ['filter in an or group before select', (id) => items().update({ qty: 77 }).or((o) => o.eq('id', id).eq('id', -1)).select('id, qty'), asArray],
  ];

  test.each(CHAINS)('%s: PATCH changes only the matched row and returns it in the documented shape', async (_name, build, shape) => {
    const [id, other] = freshIds(2) as [number, number];
    await given([[id, 'target', 1], [other, 'bystander', 1]]);
    const bystander = await dbRows([other]);
    const outcome = await run(build(id));
    expect(outcome.meta).toMatchObject({ status: 200, request: { method: 'PATCH', action: 'update' } });
    const [stored] = (await dbRows([id])) as [Item];
    expect(stored.qty).toBe(77);
    shape(outcome.data, stored);
    expect(await dbRows([other])).toEqual(bystander);
  });

  it('without select resolves with null (204) and changes exactly the filtered rows', async () => {
    const [a, b, c] = freshIds(3) as [number, number, number];
    await given([[a, 'a', 1], [b, 'b', 2], [c, 'c', 3]]);
    const outcome = await run(items().update({ label: 'bulk, "x"' }).in('id', [a, b]));
    expect(outcome).toMatchObject({ data: null, meta: { status: 204, request: { method: 'PATCH' } } });
    expect((await dbRows([a, b, c])).map((r) => r.label)).toEqual(['bulk, "x"', 'bulk, "x"', 'plain']);
  });

  it('with a count and select resolves with { rows, count }', async () => {
    const [a, b] = freshIds(2) as [number, number];
    await given([[a, 'a', 1], [b, 'b', 2]]);
    const result = await data(items().update({ active: true }, { count: 'exact' }).in('id', [a, b]).select('id, active'));
    expect(result.count).toBe(2);
    expect(byId(result.rows)).toEqual([{ id: a, active: true }, { id: b, active: true }]);
    expect((await dbRows([a, b])).map((r) => r.active)).toEqual([true, true]);
  });

  it('whose filter matches nothing changes nothing, in every result shape', async () => {
    const [id] = freshIds(1) as [number];
    await given([[id, 'untouched', 5]]);
    const before = await ownedRows();
    const none = () => items().update({ qty: 0 }).eq('name', 'untouched').eq('qty', 6);
    expect(await run(none())).toMatchObject({ data: null, meta: { status: 204 } });
    expect(await data(none().select())).toEqual([]);
    expect(await data(none().select().maybeSingle())).toBeNull();
    expect(await data(none().select('id', { count: 'exact' }))).toEqual({ rows: [], count: 0 });
    expect(await failure(none().select().single())).toMatchObject({ status: 406, code: 'PGRST116' });
    expect(await ownedRows()).toEqual(before);
  });

  it('single on several matching rows fails with 406 and rolls the update back', async () => {
    const [a, b] = freshIds(2) as [number, number];
    await given([[a, 'twin', 1], [b, 'twin', 1]]);
    const before = await dbRows([a, b]);
    expect(await failure(items().update({ qty: 9 }).eq('name', 'twin').gte('id', a).select().single())).toMatchObject({ status: 406, code: 'PGRST116' });
    expect(await dbRows([a, b])).toEqual(before);
  });

  it('maybeSingle on several matching rows fails with 406 and rolls the update back', async () => {
    const [a, b] = freshIds(2) as [number, number];
    await given([[a, 'pair', 1], [b, 'pair', 1]]);
    const before = await dbRows([a, b]);
    expect(await failure(items().update({ qty: 9 }).eq('name', 'pair').gte('id', a).select().maybeSingle())).toMatchObject({ status: 406, code: 'PGRST116' });
    expect(await dbRows([a, b])).toEqual(before);
  });
});

describe('delete', () => {
  it('eq, select and single: DELETE removes the row and returns it as it was', async () => {
    const [id, other] = freshIds(2) as [number, number];
    await given([[id, 'doomed', 1], [other, 'spared', 1]]);
    const [before] = (await dbRows([id])) as [Item];
    const outcome = await run(items().delete().eq('id', id).select().single());
    expect(outcome).toMatchObject({ data: before, meta: { status: 200, request: { method: 'DELETE', action: 'delete' } } });
    expect((await dbRows([id, other])).map((r) => r.id)).toEqual([other]);
  });

  // PostgREST 12 does not sort the rows a write returns, so they are compared by id.
  it('select before in returns every deleted row and removes only those', async () => {
    const [a, b, c] = freshIds(3) as [number, number, number];
    await given([[a, 'a', 1], [b, 'b', 2], [c, 'c', 3]]);
    const rows = await data(items().delete().select('id, name').in('id', [a, c]));
    expect(byId(rows)).toEqual([{ id: a, name: 'a' }, { id: c, name: 'c' }]);
    expect((await dbRows([a, b, c])).map((r) => r.id)).toEqual([b]);
  });

  it('without select resolves with null (204); with a count and no select, with { rows: [], count }', async () => {
    const [a, b, c] = freshIds(3) as [number, number, number];
    await given([[a, 'a', 1], [b, 'b', 2], [c, 'c', 3]]);
    expect(await run(items().delete().eq('id', a))).toMatchObject({ data: null, meta: { status: 204, request: { method: 'DELETE' } } });
    expect(await run(items().delete({ count: 'exact' }).in('id', [b, c]))).toMatchObject({ data: { rows: [], count: 2 }, meta: { request: { method: 'DELETE' } } });
    expect(await dbRows([a, b, c])).toEqual([]);
  });

  it('maybeSingle with the filter first removes the one matching row and returns it as an object', async () => {
    const [id, other] = freshIds(2) as [number, number];
    await given([[id, 'one of a kind', 1], [other, 'other', 1]]);
    const outcome = await run(items().delete().eq('name', 'one of a kind').gte('id', FIRST_ID).maybeSingle().select('id, name'));
    expect(outcome).toMatchObject({ data: { id, name: 'one of a kind' }, meta: { status: 200, request: { method: 'DELETE' } } });
    expect((await dbRows([id, other])).map((r) => r.id)).toEqual([other]);
  });

  it('maybeSingle on several matching rows fails with 406 and deletes none of them', async () => {
    const [a, b] = freshIds(2) as [number, number];
    await given([[a, 'dup', 1], [b, 'dup', 1]]);
    expect(await failure(items().delete().maybeSingle().eq('name', 'dup').gte('id', FIRST_ID))).toMatchObject({ status: 406, code: 'PGRST116' });
    expect((await dbRows([a, b])).map((r) => r.id)).toEqual([a, b]);
  });

  it('maybeSingle first on no matching row resolves with null and deletes nothing', async () => {
    const [id] = freshIds(1) as [number];
    await given([[id, 'stays', 1]]);
    const before = await ownedRows();
    expect(await run(items().delete().maybeSingle().select().eq('id', -1))).toMatchObject({ data: null, meta: { request: { method: 'DELETE' } } });
    expect(await ownedRows()).toEqual(before);
  });
});

describe('rpc on a volatile function', () => {
  it('POST runs it once: bump_qty adds to qty and returns the row', async () => {
    const [id] = freshIds(1) as [number];
    await given([[id, 'counter', 10]]);
    const outcome = await run(rpc<Item>('bump_qty', { item_id: id, amount: 5 }));
    expect(outcome.meta).toMatchObject({ status: 200, request: { method: 'POST', action: 'rpc' } });
    expect(outcome.data).toEqual((await dbRows([id]))[0]);
    expect(outcome.data?.qty).toBe(15);
  });

  it('GET runs it read-only: fails with 25006 and the row keeps its value', async () => {
    const [id] = freshIds(1) as [number];
    await given([[id, 'counter', 10]]);
    expect(await failure(rpc<Item>('bump_qty', { item_id: id, amount: 5 }, { get: true }))).toMatchObject({ status: 405, code: '25006' });
    expect((await dbRows([id]))[0]?.qty).toBe(10);
  });
});

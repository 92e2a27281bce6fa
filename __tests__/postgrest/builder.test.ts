/**
 * Builder → PostgrestRequest for reads, modifiers, writes in every chaining order, rpc, headers and
 * immutability. Exact query strings are asserted because PostgREST reads them literally.
 */
import { from, rpc, type PostgrestRequest } from '../../lib/postgrest';
import { expectBuilderError } from '../support/expectBuilderError';

const q = (builder: { toRequest(): PostgrestRequest }) => builder.toRequest().query;


describe('reads', () => {
  test('from() alone is a GET of every column', () => {
    expect(from('posts').toRequest()).toEqual({
      action: 'select',
      method: 'GET',
      relation: 'posts',
      query: [['select', '*']],
      headers: {},
      result: 'many',
    });
  });

  test('from().toRequest() equals select("*")', () => {
    expect(from('posts').toRequest()).toEqual(from('posts').select('*').toRequest());
    expect(from('posts').toRequest()).toEqual(from('posts').select().toRequest());
  });

  test('select passes embeds, aliases, casts and spreads through verbatim', () => {
    const columns = 'id,t:title,price::text,author:authors!posts_author_id_fkey(name),...editors(name)';
    expect(q(from('posts').select(columns))).toEqual([['select', columns]]);
  });

  test('select removes whitespace outside double quotes only', () => {
    const request = from('posts').select(`
      id,
      "my col",
      author:authors ( name )
    `).toRequest();
    expect(request.query).toEqual([['select', 'id,"my col",author:authors(name)']]);
  });

  test('select keeps an escaped quote inside a quoted identifier from ending the quotes', () => {
    expect(q(from('t').select('"a\\" b", c'))).toEqual([['select', '"a\\" b",c']]);
  });

  test('filters may come before select and the query keeps select first', () => {
    const request = from('posts').eq('id', 1).select('title').toRequest();
    expect(request.method).toBe('GET');
    expect(request.query).toEqual([['select', 'title'], ['id', 'eq.1']]);
  });

  test('count adds Prefer: count=… and the request count', () => {
    const request = from('posts').select('id', { count: 'planned' }).toRequest();
    expect(request.headers).toEqual({ Prefer: 'count=planned' });
    expect(request.count).toBe('planned');
    expect(request.method).toBe('GET');
  });

  test('head: true sends HEAD', () => {
    const request = from('posts').select('*', { count: 'exact', head: true }).toRequest();
    expect(request.method).toBe('HEAD');
    expect(request.headers).toEqual({ Prefer: 'count=exact' });
  });

  test('a later select keeps an earlier count and head unless it sets them', () => {
    const counted = from('posts').select('*', { count: 'exact', head: true });
    expect(counted.select('id').toRequest()).toMatchObject({ method: 'HEAD', count: 'exact' });
    expect(counted.select('id', { head: false }).toRequest().method).toBe('GET');
  });

  test('schema is carried on the request, not in its headers', () => {
    const request = from('posts', { schema: 'blog' }).toRequest();
    expect(request.schema).toBe('blog');
    expect(request.headers).toEqual({});
  });
});

describe('modifiers', () => {
  test('order calls accumulate into one order parameter', () => {
    const request = from('t').order('a', { ascending: false, nullsFirst: false }).order('b').order('c', { nullsFirst: true }).toRequest();
    expect(request.query).toEqual([['select', '*'], ['order', 'a.desc.nullslast,b.asc,c.asc.nullsfirst']]);
  });

  test('order on a referenced table uses its own key', () => {
    const request = from('authors').select('name,books(title)').order('title', { referencedTable: 'books' }).order('name').toRequest();
    expect(request.query).toEqual([['select', 'name,books(title)'], ['books.order', 'title.asc'], ['order', 'name.asc']]);
  });

  test('limit sets limit and a second call replaces it', () => {
    expect(q(from('t').limit(5).limit(10))).toEqual([['select', '*'], ['limit', '10']]);
  });

  test('range sets offset and an inclusive limit, and replaces an earlier range', () => {
    expect(q(from('t').range(0, 9))).toEqual([['select', '*'], ['offset', '0'], ['limit', '10']]);
    expect(q(from('t').range(0, 9).range(20, 24))).toEqual([['select', '*'], ['offset', '20'], ['limit', '5']]);
  });

  test('limit after range replaces only the limit', () => {
    expect(q(from('t').range(10, 19).limit(3))).toEqual([['select', '*'], ['offset', '10'], ['limit', '3']]);
  });

  test('limit and range on a referenced table use prefixed keys', () => {
    const request = from('authors').select('*,books(*)').limit(2, { referencedTable: 'books' }).range(4, 5, { referencedTable: 'books' }).limit(1);
    expect(q(request)).toEqual([['select', '*,books(*)'], ['books.limit', '2'], ['books.offset', '4'], ['limit', '1']]);
  });

  test('single sets result single and the object Accept header', () => {
    const request = from('t').eq('id', 1).single().toRequest();
    expect(request.result).toBe('single');
    expect(request.headers).toEqual({ Accept: 'application/vnd.pgrst.object+json' });
  });

  test('maybeSingle sets result maybeSingle without a special Accept header', () => {
    const request = from('t').eq('id', 1).maybeSingle().toRequest();
    expect(request.result).toBe('maybeSingle');
    expect(request.headers).toEqual({});
  });

  test('bad modifier input fails with a clear message', () => {
    expectBuilderError(() => from('t').limit(-1), 'INVALID_OPTION', /limit\(\): count must be a non-negative integer, got the number -1/);
    expectBuilderError(() => from('t').limit(1.5), 'INVALID_OPTION', /non-negative integer/);
    expectBuilderError(() => from('t').range(5, 2), 'INVALID_OPTION', /to \(2\) must not be less than from \(5\)/);
    expectBuilderError(() => from('t').order('a', { acending: false } as never), 'INVALID_OPTION', /unknown option "acending"/);
    expectBuilderError(() => from('t').order('a', { ascending: 'no' } as never), 'INVALID_OPTION', /ascending must be a boolean/);
    expectBuilderError(() => from('t').limit(1, { referencedTable: '' }), 'INVALID_NAME', /referencedTable must be a non-empty string/);
    expectBuilderError(() => from('t').select('*', { count: 'all' as never }), 'INVALID_OPTION', /count must be 'exact', 'planned' or 'estimated'/);
    expectBuilderError(() => from('t').select('  '), 'INVALID_OPTION', /must not be empty/);
  });
});

describe('writes', () => {
  type Post = { id: number; title: string; body?: string | null; published?: boolean };
  const posts = () => from<Post>('posts');

  test('insert of one row is a POST with return=minimal and no select', () => {
    expect(posts().insert({ id: 1, title: 'a' }).toRequest()).toEqual({
      action: 'insert',
      method: 'POST',
      relation: 'posts',
      query: [],
      headers: { Prefer: 'return=minimal' },
      body: { id: 1, title: 'a' },
      result: 'many',
    });
  });

  test('insert of rows with the same keys sends no columns parameter', () => {
    expect(q(posts().insert([{ id: 1, title: 'a' }, { title: 'b', id: 2 }]))).toEqual([]);
  });

  test('insert of rows with different keys sends the quoted union of keys as columns', () => {
    const request = posts().insert([{ id: 1, title: 'a' }, { id: 2, body: 'x' }]).toRequest();
    expect(request.query).toEqual([['columns', '"id","title","body"']]);
  });

  test('columns escapes quotes and backslashes in key names', () => {
    const request = from('t').insert([{ 'a"b': 1 }, { 'c\\d': 2 }]).toRequest();
    expect(request.query).toEqual([['columns', '"a\\"b","c\\\\d"']]);
  });

  test('insert with defaultToNull false adds Prefer: missing=default', () => {
    const request = posts().insert([{ id: 1, title: 'a' }, { id: 2 }], { defaultToNull: false }).toRequest();
    expect(request.headers.Prefer).toBe('return=minimal,missing=default');
  });

  test('insert with count adds count last in Prefer', () => {
    const request = posts().insert({ id: 1, title: 'a' }, { count: 'exact', defaultToNull: false }).select().toRequest();
    expect(request.headers.Prefer).toBe('return=representation,missing=default,count=exact');
    expect(request.count).toBe('exact');
  });

  test.each([
    ['select then single then eq', () => posts().update({ title: 'x' }).select('id').single().eq('id', 1)],
    ['eq then select then single', () => posts().update({ title: 'x' }).eq('id', 1).select('id').single()],
    ['single then eq then select', () => posts().update({ title: 'x' }).single().eq('id', 1).select('id')],
    ['eq then single then select', () => posts().update({ title: 'x' }).eq('id', 1).single().select('id')],
  ])('update stays a PATCH returning representation whatever the order: %s', (_name, build) => {
    expect(build().toRequest()).toEqual({
      action: 'update',
      method: 'PATCH',
      relation: 'posts',
      query: [['select', 'id'], ['id', 'eq.1']],
      headers: { Prefer: 'return=representation', Accept: 'application/vnd.pgrst.object+json' },
      body: { title: 'x' },
      result: 'single',
    });
  });

  test('update without select asks for return=minimal', () => {
    const request = posts().update({ title: 'x' }, { count: 'exact' }).eq('id', 1).toRequest();
    expect(request).toMatchObject({ method: 'PATCH', query: [['id', 'eq.1']], headers: { Prefer: 'return=minimal,count=exact' } });
  });

  test.each([
    ['select first', () => posts().delete().select().in('id', [1, 2]).order('id').limit(2)],
    ['filters first', () => posts().delete().in('id', [1, 2]).order('id').limit(2).select()],
  ])('delete stays a DELETE with filters, order and limit: %s', (_name, build) => {
    expect(build().toRequest()).toMatchObject({
      action: 'delete',
      method: 'DELETE',
      query: [['select', '*'], ['id', 'in.(1,2)'], ['order', 'id.asc'], ['limit', '2']],
      headers: { Prefer: 'return=representation' },
    });
  });

  test('insert then maybeSingle then select stays a POST', () => {
    const request = posts().insert({ id: 1, title: 'a' }).maybeSingle().select('id').toRequest();
    expect(request).toMatchObject({ method: 'POST', action: 'insert', result: 'maybeSingle', query: [['select', 'id']] });
    expect(request.headers).toEqual({ Prefer: 'return=representation', Accept: 'application/vnd.pgrst.object+json' });
  });

  test('maybeSingle on a write or POST rpc asks for one object, so PostgREST rolls back a write touching several rows', () => {
    const object = 'application/vnd.pgrst.object+json';
    expect(posts().update({ title: 'x' }).eq('published', true).maybeSingle().toRequest().headers).toEqual({ Prefer: 'return=minimal', Accept: object });
    expect(posts().delete().maybeSingle().select().toRequest().headers.Accept).toBe(object);
    expect(posts().upsert({ id: 1 }).select().maybeSingle().toRequest().headers.Accept).toBe(object);
    expect(rpc('bump').maybeSingle().toRequest().headers.Accept).toBe(object);
    // Reads are checked by the base query on plain JSON rows, where zero rows is not an error.
    expect(rpc('list', {}, { get: true }).maybeSingle().toRequest().headers.Accept).toBeUndefined();
    expect(posts().select().maybeSingle().toRequest().headers.Accept).toBeUndefined();
  });

  test('upsert merges duplicates by default with the on_conflict target', () => {
    const request = posts().upsert([{ id: 1, title: 'a' }], { onConflict: 'id, title' }).select('id').toRequest();
    expect(request).toMatchObject({
      action: 'upsert',
      method: 'POST',
      query: [['select', 'id'], ['on_conflict', 'id,title']],
      headers: { Prefer: 'return=representation,resolution=merge-duplicates' },
    });
  });

  test('upsert with ignoreDuplicates, defaultToNull false and count orders Prefer items stably', () => {
    const request = posts().upsert([{ id: 1 }, { id: 2, title: 'b' }], { ignoreDuplicates: true, defaultToNull: false, count: 'estimated' }).toRequest();
    expect(request.headers.Prefer).toBe('return=minimal,resolution=ignore-duplicates,missing=default,count=estimated');
    expect(request.query).toEqual([['columns', '"id","title"']]);
  });

  test('bodies are JSON-safe copies: Dates become ISO strings, bigints strings, undefined keys dropped', () => {
    const row = { id: 1, when: new Date('2024-01-02T03:04:05.000Z'), big: 9007199254740993n, gone: undefined, tags: ['a'] };
    const request = from('t').insert(row).toRequest();
    expect(request.body).toEqual({ id: 1, when: '2024-01-02T03:04:05.000Z', big: '9007199254740993', tags: ['a'] });
    row.tags.push('b');
    expect(request.body).toEqual({ id: 1, when: '2024-01-02T03:04:05.000Z', big: '9007199254740993', tags: ['a'] });
  });

  test('mutating the rows after insert does not change the builder', () => {
    const rows = [{ id: 1 }];
    const builder = from('t').insert(rows);
    rows.push({ id: 2 });
    rows[0]!.id = 99;
    expect(builder.toRequest().body).toEqual([{ id: 1 }]);
  });

  test('bad write input fails with a clear message', () => {
    expectBuilderError(() => from('t').insert('row' as never), 'INVALID_BODY', /insert\(\) needs plain objects as rows, got a string/);
    expectBuilderError(() => from('t').insert([{ a: 1 }, null] as never), 'INVALID_BODY', /got null at index 1/);
    expectBuilderError(() => from('t').update([{ a: 1 }] as never), 'INVALID_BODY', /update\(\) needs one plain object/);
    expectBuilderError(() => from('t').insert({ a: Number.NaN }), 'INVALID_VALUE', /insert\(\) row\.a: NaN is not a finite number/);
    expectBuilderError(() => from('t').insert({ a: new Map() }), 'INVALID_VALUE', /an instance of Map cannot be sent as JSON/);
    expectBuilderError(() => from('t').insert({ a: [1, undefined] }), 'INVALID_VALUE', /row\.a\[1\] is undefined/);
    expectBuilderError(() => from('t').upsert({ a: 1 }, { onConflict: 'a,(b)' }), 'INVALID_NAME', /onConflict column/);
    expectBuilderError(() => from('t').insert({ a: 1 }).select('*', { head: true }), 'INVALID_OPTION', /head is only for table reads/);
    expectBuilderError(() => from('t').delete({ count: 'all' } as never), 'INVALID_OPTION', /delete\(\): count must be/);
  });
});

describe('rpc', () => {
  test('rpc defaults to POST with the arguments as the JSON body', () => {
    expect(rpc('add', { a: 1, b: 2 }).toRequest()).toEqual({
      action: 'rpc',
      method: 'POST',
      relation: 'add',
      query: [],
      headers: {},
      body: { a: 1, b: 2 },
      result: 'many',
    });
  });

  test('rpc without arguments posts an empty object', () => {
    expect(rpc('now').toRequest().body).toEqual({});
  });

  test('rpc with get sends the arguments as query parameters, arrays as array literals', () => {
    const request = rpc('search', { term: 'a,b', ids: [1, 2], tags: ['x y', 'null'], skip: undefined, at: new Date(0) }, { get: true }).toRequest();
    expect(request.method).toBe('GET');
    expect(request.body).toBeUndefined();
    expect(request.query).toEqual([
      ['term', 'a,b'],
      ['ids', '{1,2}'],
      ['tags', '{"x y","null"}'],
      ['at', '1970-01-01T00:00:00.000Z'],
    ]);
  });

  test('rpc with head sends HEAD with the arguments in the query and the count', () => {
    const request = rpc('list_posts', { n: 3 }, { head: true, count: 'exact' }).toRequest();
    expect(request).toMatchObject({ method: 'HEAD', query: [['n', '3']], headers: { Prefer: 'count=exact' }, count: 'exact' });
  });

  test('filters, order, limit, select and single chain after rpc and keep its method', () => {
    const request = rpc('list_posts', {}, { get: true }).select('id,title').gt('id', 5).order('id').limit(1).single().toRequest();
    expect(request).toMatchObject({
      action: 'rpc',
      method: 'GET',
      query: [['select', 'id,title'], ['id', 'gt.5'], ['order', 'id.asc'], ['limit', '1']],
      result: 'single',
    });
    expect(rpc('list_posts').eq('id', 1).toRequest().method).toBe('POST');
  });

  test('rpc schema goes on the request', () => {
    expect(rpc('f', {}, { schema: 'api' }).toRequest().schema).toBe('api');
  });

  test('bad rpc input fails with a clear message', () => {
    expectBuilderError(() => rpc(''), 'INVALID_NAME', /rpc\(\) function name must be a non-empty string/);
    expectBuilderError(() => rpc('f', [1] as never), 'INVALID_VALUE', /args must be a plain object/);
    expectBuilderError(() => rpc('f', { a: null }, { get: true }), 'NULL_NOT_ALLOWED', /"a": null cannot be sent in a GET\/HEAD rpc/);
    expectBuilderError(() => rpc('f', { j: { k: 1 } }, { get: true }), 'INVALID_VALUE', /objects cannot be sent in a GET\/HEAD rpc/);
    expectBuilderError(() => rpc('f', {}, { post: true } as never), 'INVALID_OPTION', /unknown option "post"/);
    expectBuilderError(() => rpc('f').select('*', { head: true }), 'INVALID_OPTION', /pass \{ head: true \} to rpc\(\)/);
  });
});

describe('immutability', () => {
  test('a base builder branched twice gives two independent requests', () => {
    const base = from('posts').select('id').eq('published', true);
    const recent = base.order('created_at', { ascending: false }).limit(10);
    const mine = base.eq('author_id', 7).single();
    expect(q(base)).toEqual([['select', 'id'], ['published', 'eq.true']]);
    expect(base.toRequest().result).toBe('many');
    expect(q(recent)).toEqual([['select', 'id'], ['published', 'eq.true'], ['order', 'created_at.desc'], ['limit', '10']]);
    expect(q(mine)).toEqual([['select', 'id'], ['published', 'eq.true'], ['author_id', 'eq.7']]);
    expect(mine.toRequest().result).toBe('single');
  });

  test('order accumulation on one branch does not leak into another', () => {
    const base = from('t').order('a');
    base.order('b');
    expect(q(base.order('c'))).toEqual([['select', '*'], ['order', 'a.asc,c.asc']]);
  });

  test('a table builder stays a read after a write was built from it', () => {
    const table = from('t');
    table.insert({ a: 1 }).select();
    table.delete();
    expect(table.toRequest()).toEqual(from('t').toRequest());
  });

  test('toRequest returns a fresh object that survives mutation and a JSON round-trip', () => {
    const builder = from('t', { schema: 's' }).insert([{ a: 1 }, { b: [1, 2] }], { count: 'exact' }).select().single();
    const first = builder.toRequest();
    expect(JSON.parse(JSON.stringify(first))).toEqual(first);
    first.query.push(['x', 'y']);
    first.headers.Prefer = 'tampered';
    (first.body as Array<Record<string, unknown>>)[0]!.a = 2;
    const second = builder.toRequest();
    expect(second.query).toEqual([['select', '*'], ['columns', '"a","b"']]);
    expect(second.headers.Prefer).toBe('return=representation,count=exact');
    expect(second.body).toEqual([{ a: 1 }, { b: [1, 2] }]);
  });
});

/**
 * The client-side evaluator on requests the builder makes: each operator and value form, SQL's
 * three-valued logic, orders, projections, windows, and what is reported as inexact.
 */
import { compileRequest, from, type ColumnTypes, type EvaluateOptions, type PostgrestRequestLike } from '../../lib/postgrest';

const TYPES: ColumnTypes = {
  id: 'int8',
  n: 'int4',
  big: 'int8',
  price: 'numeric',
  score: 'float8',
  name: { type: 'text', collation: 'C' },
  title: 'text',
  ok: 'bool',
  at: 'timestamptz',
  local: 'timestamp',
  day: 'date',
  ref: 'uuid',
  tags: '_text',
  nums: '_int4',
  meta: 'jsonb',
  span: 'int4range',
  raw: 'json',
};

const t = () => from('t');
const compile = (request: PostgrestRequestLike, options?: EvaluateOptions) => compileRequest(request, TYPES, options);
/** Which of `rows` (by index) the request selects, asserting it is exact. */
function selected(request: PostgrestRequestLike, rows: Array<Record<string, unknown>>, options?: EvaluateOptions): number[] {
  const query = compile(request, options);
  expect(query.reasons).toEqual([]);
  expect(query.exact).toBe(true);
  return rows.flatMap((row, i) => (query.matches(row) ? [i] : []));
}

describe('comparison operators by type', () => {
  test.each([
    ['int eq', t().eq('n', 2), [{ n: 1 }, { n: 2 }, { n: null }], [1]],
    ['int neq never passes NULL', t().neq('n', 2), [{ n: 1 }, { n: 2 }, { n: null }], [0]],
    ['int gt', t().gt('n', 1), [{ n: 1 }, { n: 2 }, { n: null }], [1]],
    ['int8 beyond 2^53 as string rows', t().gt('big', '9007199254740993'), [{ big: '9007199254740992' }, { big: '9007199254740994' }], [1]],
    ['numeric exact decimal', t().lte('price', '0.30'), [{ price: 0.3 }, { price: 0.30000000000000004 }, { price: '0.2999999999999999999999' }], [0, 2]],
    ['numeric NaN is greatest', t().gt('price', '1e300'), [{ price: 'NaN' }, { price: 1e299 }, { price: 'Infinity' }], [0, 2]],
    ['float8', t().lt('score', 0.5), [{ score: 0.25 }, { score: 0.5 }, { score: 'NaN' }, { score: '-Infinity' }], [0, 3]],
    ['bool eq t', t().filter('ok', 'eq', 't'), [{ ok: true }, { ok: false }, { ok: null }], [0]],
    ['timestamptz by instant', t().eq('at', '2026-11-24T12:00:00+02:00'), [{ at: '2026-11-24T10:00:00+00:00' }, { at: '2026-11-24T12:00:00+00:00' }], [0]],
    ['timestamptz microseconds', t().gt('at', '2026-11-24T10:00:00.123456Z'), [{ at: '2026-11-24T10:00:00.123456+00:00' }, { at: '2026-11-24T10:00:00.123457+00:00' }], [1]],
    ['timestamptz rounds extra digits half to even, like rint', t().eq('at', '2026-11-24T10:00:00.1234565Z'), [{ at: '2026-11-24T10:00:00.123456+00:00' }, { at: '2026-11-24T10:00:00.123457+00:00' }], [0]],
    ['timestamptz rounds .1234575 up to even', t().eq('at', '2026-11-24T10:00:00.1234575Z'), [{ at: '2026-11-24T10:00:00.123458+00:00' }, { at: '2026-11-24T10:00:00.123457+00:00' }], [0]],
    ['timestamptz Date value', t().gte('at', new Date('2026-11-24T10:00:00.001Z')), [{ at: '2026-11-24T10:00:00.0009+00:00' }, { at: '2026-11-24T10:00:00.001+00:00' }], [1]],
    ['timestamp ignores a literal offset', t().eq('local', '2026-11-24T10:00:00+05:00'), [{ local: '2026-11-24T10:00:00' }, { local: '2026-11-24T05:00:00' }], [0]],
    ['date', t().lt('day', '2026-03-01'), [{ day: '2026-02-28' }, { day: '2026-03-01' }, { day: '-infinity' }], [0, 2]],
    ['uuid case-insensitive', t().eq('ref', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'), [{ ref: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' }, { ref: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12' }], [0]],
    ['text eq exact', t().eq('title', 'Ab'), [{ title: 'Ab' }, { title: 'ab' }, { title: 'Ab ' }], [0]],
    ['C text gt by code point', t().gt('name', 'Z'), [{ name: 'a' }, { name: 'B' }, { name: '😀' }, { name: '\uffff' }], [0, 2, 3]],
    ['isdistinct passes NULL', t().filter('n', 'isdistinct', 1), [{ n: 1 }, { n: 2 }, { n: null }], [1, 2]],
    ['in', t().in('n', [1, 3]), [{ n: 1 }, { n: 2 }, { n: 3 }, { n: null }], [0, 2]],
    ['in empty matches nothing', t().in('n', []), [{ n: 1 }, { n: null }], []],
    ['not in empty matches everything, NULL too (= ANY of an empty array is false)', t().not('n', 'in', []), [{ n: 1 }, { n: null }], [0, 1]],
    ['in with an empty string', t().in('title', ['']), [{ title: '' }, { title: '""' }], [0]],
    ['in with quoted values', t().in('title', ['a,b', 'x"y', 'null']), [{ title: 'a,b' }, { title: 'x"y' }, { title: 'null' }, { title: null }], [0, 1, 2]],
  ])('%s', (_name, builder, rows, expected) => {
    expect(selected(builder, rows)).toEqual(expected);
  });
});

describe('is', () => {
  const rows = [{ ok: true }, { ok: false }, { ok: null }];
  test.each([
    ['is null', t().is('ok', null), [2]],
    ['is true', t().is('ok', true), [0]],
    ['is false', t().is('ok', false), [1]],
    ['is unknown', t().is('ok', 'unknown'), [2]],
    ['not is null', t().not('ok', 'is', null), [0, 1]],
    ['not is true passes NULL (IS is two-valued)', t().not('ok', 'is', true), [1, 2]],
    ['eq null becomes is null', t().eq('ok', null), [2]],
  ])('%s', (_name, builder, expected) => {
    expect(selected(builder, rows)).toEqual(expected);
  });

  test('is.not_null is not exact: PostgREST 12 rejects it (PGRST100)', () => {
    const request = t().toRequest();
    request.query.push(['ok', 'is.not_null']);
    expect(compile(request).reasons).toEqual(['ok.is: unknown keyword "not_null"']);
  });
});

describe('three-valued logic', () => {
  const rows = [{ n: 1, name: 'a' }, { n: null, name: 'a' }, { n: null, name: null }, { n: 5, name: null }];
  test.each([
    ['not.eq of NULL does not pass', t().not('n', 'eq', 1), [3]],
    ['or with an unknown side', t().or('n.eq.1,name.eq.a'), [0, 1]],
    ['not.or: NOT (unknown OR false) is unknown', t().not('n', 'gt', 3).or((q) => q.eq('n', 1).eq('name', 'b')), [0]],
    ['nested and inside or', t().or((q) => q.eq('n', 5).and((a) => a.eq('name', 'a').is('n', null))), [1, 3]],
  ])('%s', (_name, builder, expected) => {
    expect(selected(builder, rows)).toEqual(expected);
  });

  test('a negated logic tree negates three-valued results', () => {
    const request = t().toRequest();
    request.query.push(['not.or', '(n.gt.3,name.eq.a)']);
    // row 0: (false OR true) → NOT true; row 1: (null OR true) → false; row 2: (null OR null) → null; row 3: true → false
    expect(selected(request, rows)).toEqual([]);
    const and = t().toRequest();
    and.query.push(['not.and', '(n.gt.3,name.eq.a)']);
    // row 3: NOT (true AND unknown) is unknown, so only row 0 passes
    expect(selected(and, rows)).toEqual([0]);
  });
});

describe('any / all', () => {
  const rows = [{ n: 1 }, { n: 2 }, { n: 5 }, { n: null }];
  test.each([
    ['eq(any)', t().filter('n', 'eq(any)', [1, 5]), [0, 2]],
    ['gt(all)', t().filter('n', 'gt(all)', [1, 0]), [1, 2]],
    ['eq(all) of an empty array is true even for NULL', t().filter('n', 'eq(all)', []), [0, 1, 2, 3]],
    ['eq(any) of an empty array is false', t().filter('n', 'eq(any)', []), []],
    ['lt(any) with a NULL element', t().filter('n', 'lt(any)', [2, null]), [0]],
    ['not gt(all) with a NULL element', t().not('n', 'gt(all)', [0, null]), []],
  ])('%s', (_name, builder, expected) => {
    expect(selected(builder, rows)).toEqual(expected);
  });
});

describe('patterns', () => {
  const rows = [{ name: 'Hello' }, { name: 'hello world' }, { name: 'h_llo' }, { name: 'HELLO' }, { name: 'Ünï' }, { name: 'a\nb' }, { name: null }];
  test.each([
    ['like with * wildcard', t().like('name', 'h*'), [1, 2]],
    ['like with % and _', t().like('name', '%ell_'), [0]],
    ['like escape', t().like('name', 'h\\_llo'), [2]],
    ['like % spans newlines', t().like('name', 'a%b'), [5]],
    ['ilike folds ASCII only under C', t().ilike('name', 'hello'), [0, 3]],
    ['ilike does not fold Ü under C', t().ilike('name', 'ünï'), []],
    ['like(any)', t().filter('name', 'like(any)', ['H*', 'h_llo']), [0, 2, 3]],
    ['ilike(all)', t().filter('name', 'ilike(all)', ['h*', '*o']), [0, 2, 3]],
    ['match', t().filter('name', 'match', '^h.l+o$'), [2]],
    ['match . spans newline', t().filter('name', 'match', '^a.b$'), [5]],
    ['match with bracket and bound', t().filter('name', 'match', '^[A-Z]{2,}'), [3]],
    ['match alternation', t().filter('name', 'match', 'world|^H'), [0, 1, 3]],
    ['imatch', t().filter('name', 'imatch', '^HEL+O'), [0, 1, 3]],
    ['not like does not pass NULL', t().not('name', 'like', 'H*'), [1, 2, 4, 5]],
  ])('%s', (_name, builder, expected) => {
    expect(selected(builder, rows)).toEqual(expected);
  });

  test.each([
    ['character class', '[[:alpha:]]'],
    ['\\d escape', '\\d+'],
    ['back reference', '(a)\\1'],
    ['embedded options', '(?i)abc'],
    ['look-ahead', 'a(?=b)'],
    ['director', '***=a.b'],
  ])('match with a %s is not exact', (_name, pattern) => {
    const query = compile(t().filter('name', 'match', pattern));
    expect(query.exact).toBe(false);
    expect(query.reasons.join()).toMatch(/regular expression/);
  });

  test('ilike and imatch need the collation unless it is C', () => {
    expect(compile(t().ilike('title', 'a*')).reasons).toEqual(['title.ilike: case-insensitive matching needs the database collation (text)']);
    expect(compile(t().ilike('title', 'a*'), { textOrder: 'codepoint' }).exact).toBe(true);
    expect(compile(t().filter('title', 'imatch', 'a')).exact).toBe(false);
  });
});

describe('containment', () => {
  test.each([
    ['array cs', t().contains('tags', ['a', 'b c']), [{ tags: ['b c', 'x', 'a'] }, { tags: ['a'] }, { tags: null }, { tags: ['a', 'b c', null] }], [0, 3]],
    ['array cs with a NULL element never matches', t().contains('tags', ['a', null]), [{ tags: ['a', null] }], []],
    ['array cs of the empty array', t().contains('tags', []), [{ tags: [] }, { tags: ['a'] }, { tags: null }], [0, 1]],
    ['array cd', t().containedBy('tags', ['a', 'b']), [{ tags: ['a', 'a'] }, { tags: [] }, { tags: ['a', 'c'] }, { tags: [null] }], [0, 1]],
    ['array ov', t().overlaps('tags', ['x', 'NULL']), [{ tags: ['x'] }, { tags: ['NULL'] }, { tags: [null] }, { tags: [] }], [0, 1]],
    ['int array cs', t().contains('nums', [1, 2]), [{ nums: [2, 1, 3] }, { nums: [1] }], [0]],
    ['array literal string', t().contains('tags', '{"a,b",c}'), [{ tags: ['a,b', 'c'] }, { tags: ['a', 'b', 'c'] }], [0]],
    ['jsonb cs object', t().contains('meta', { a: 1, b: { c: [2] } }), [{ meta: { a: 1.0, b: { c: [1, 2] }, d: 0 } }, { meta: { a: 1, b: { c: 2 } } }, { meta: [1] }], [0]],
    ['jsonb cd', t().containedBy('meta', { a: 1, b: 2 }), [{ meta: { a: 1 } }, { meta: {} }, { meta: { c: 1 } }, { meta: 1 }], [0, 1]],
    ['jsonb top-level array contains a scalar', t().contains('meta', '1'), [{ meta: [1, 2] }, { meta: 1 }, { meta: [[1]] }], [0, 1]],
    ['jsonb nested arrays', t().contains('meta', '[[1]]'), [{ meta: [[1, 2]] }, { meta: [1] }], [0]],
    ['jsonb eq', t().eq('meta', '{"b":[1,2],"a":1.0}'), [{ meta: { a: 1, b: [1, 2] } }, { meta: { a: 1, b: [2, 1] } }], [0]],
    ['in a logic tree', t().or((q) => q.contains('tags', ['a,b']).contains('meta', { k: 'v' })), [{ tags: ['a,b'], meta: null }, { tags: null, meta: { k: 'v' } }, { tags: ['a'], meta: {} }], [0, 1]],
  ])('%s', (_name, builder, rows, expected) => {
    expect(selected(builder, rows)).toEqual(expected);
  });
});

describe('logic-tree values the builder quotes', () => {
  test.each([
    ['dots, commas, parentheses', 'a.b,(c)', [{ title: 'a.b,(c)' }, { title: 'a.b' }], [0]],
    ['quotes and backslashes', 'say "hi" \\o/', [{ title: 'say "hi" \\o/' }], [0]],
    ['reserved words', 'null', [{ title: 'null' }, { title: null }], [0]],
    ['leading whitespace', '  x', [{ title: '  x' }, { title: 'x' }], [0]],
    ['empty string', '', [{ title: '' }, { title: null }], [0]],
  ])('%s', (_name, value, rows, expected) => {
    expect(selected(t().or((q) => q.eq('title', value).eq('id', 0)), rows.map((row) => ({ ...row, id: 1 })))).toEqual(expected);
  });
});

describe('raw logic-tree strings', () => {
  const rows = [
    { n: 1, title: 'a', tags: ['a', 'b'] },
    { n: 3, title: 'x,y', tags: ['c'] },
    { n: 5, title: null, tags: null },
  ];
  test.each([
    ['nested and', 'n.eq.1,and(n.gt.2,n.lt.4)', [0, 1]],
    ['quoted value with a comma', 'title.eq."x,y"', [1]],
    ['unquoted array literal', 'tags.cs.{a,b}', [0]],
    ['quoted array literal', 'tags.cs."{c}"', [1]],
    ['in list inside a tree', 'n.in.(1,5),title.eq.nope', [0, 2]],
    ['negated nested group', 'not.and(n.gt.0,n.lt.4),title.eq.a', [0, 2]],
    ['negated operator', 'n.not.eq.1', [1, 2]],
  ])('%s', (_name, body, expected) => {
    expect(selected(t().or(body), rows)).toEqual(expected);
  });

  test.each([
    ['an unclosed group', 'n.eq.1,and(n.gt.2'],
    ['a condition without operator', 'n.1'],
    ['an unknown operator', 'n.near.1'],
  ])('%s is reported, not thrown', (_name, body) => {
    const query = compile(t().or(body));
    expect(query.exact).toBe(false);
    expect(query.matches(rows[0]!)).toBe(false);
  });
});

describe('order', () => {
  const rows = [{ id: 1, n: 2 }, { id: 2, n: null }, { id: 3, n: 1 }, { id: 4, n: 3 }];
  const ids = (request: PostgrestRequestLike) => {
    const query = compile(request);
    expect(query.exact).toBe(true);
    return [...rows].sort((a, b) => query.compare(a, b) || a.id - b.id).map((row) => row.id);
  };
  test.each([
    ['asc puts NULLs last', t().order('n'), [3, 1, 4, 2]],
    ['desc puts NULLs first', t().order('n', { ascending: false }), [2, 4, 1, 3]],
    ['asc nullsfirst', t().order('n', { nullsFirst: true }), [2, 3, 1, 4]],
    ['desc nullslast', t().order('n', { ascending: false, nullsFirst: false }), [4, 1, 3, 2]],
    ['several terms', t().order('n', { nullsFirst: true }).order('id', { ascending: false }), [2, 3, 1, 4]],
  ])('%s', (_name, builder, expected) => {
    expect(ids(builder)).toEqual(expected);
  });

  test('text order is exact only with a bytewise collation', () => {
    expect(compile(t().order('title')).reasons).toEqual(['order by title: text order needs the database collation (text)']);
    expect(compile(t().order('title'), { textOrder: 'codepoint' }).exact).toBe(true);
    const byName = compile(t().order('name'));
    expect(byName.exact).toBe(true);
    expect(byName.compare({ name: '\uffff' }, { name: '😀' })).toBeLessThan(0);
  });

  test.each([
    ['C', true, true],
    ['POSIX', true, true],
    ['ucs_basic', true, true],
    ['C.UTF-8', true, false],
    ['C.utf8', true, false],
    ['pg_c_utf8', true, false],
    ['pg_unicode_fast', true, false],
    ['en_US.UTF-8', false, false],
    ['en-x-icu', false, false],
  ])('a column collated %s: text order exact %s, ilike exact %s', (collation, orderExact, ilikeExact) => {
    const types = { title: { type: 'text', collation } };
    expect(compileRequest(t().order('title').toRequest(), types).exact).toBe(orderExact);
    expect(compileRequest(t().ilike('title', 'a*').toRequest(), types).exact).toBe(ilikeExact);
  });

  test('case folding follows the ctype when it differs from the collation (C order, UTF-8 folding)', () => {
    const types = { title: { type: 'text', collation: 'C', ctype: 'C.UTF-8' } };
    expect(compileRequest(t().order('title').toRequest(), types).exact).toBe(true);
    expect(compileRequest(t().ilike('title', '*été*').toRequest(), types).reasons).toEqual(['title.ilike: case-insensitive matching needs the database collation (text)']);
    expect(() => compileRequest(t().toRequest(), { title: { type: 'text', ctype: 1 } } as never)).toThrow('compileRequest(): ctype of column title must be a string, got the number 1');
  });

  test('timestamps order by instant, not by text', () => {
    const query = compile(t().order('at'));
    expect(query.compare({ at: '2026-01-01T10:00:00+05:00' }, { at: '2026-01-01T06:00:00+00:00' })).toBeLessThan(0);
  });
});

describe('select', () => {
  const row = { id: 1, name: 'a', price: 2.5, ref: 'x', extra: true };
  test.each([
    ['star keeps the row', '*', row],
    ['columns in select order', 'price,id', { price: 2.5, id: 1 }],
    ['aliases', 'cost:price,id', { cost: 2.5, id: 1 }],
    ['same-type cast', 'id::int8,name::text', { id: 1, name: 'a' }],
    ['quoted names', '"name"', { name: 'a' }],
    ['missing columns are null', 'id,nope', { id: 1, nope: null }],
  ])('%s', (_name, columns, expected) => {
    const query = compile(t().select(columns));
    expect(query.exact).toBe(true);
    expect(query.project(row)).toEqual(expected);
    expect(Object.keys(query.project(row))).toEqual(Object.keys(expected));
  });

  test.each([
    ['embedded resource', 'id,authors(*)', 'embedded resource authors(*)'],
    ['inner embedding with alias', 'id,writer:authors!inner(name)', 'embedded resource writer:authors!inner(name)'],
    ['aggregate', 'price.sum()', 'aggregate price.sum()'],
    ['count', 'count()', 'aggregate count()'],
    ['spread', '...authors(name)', 'embedded resource ...authors(name)'],
    ['json path', 'meta->a', 'json path meta->a'],
    ['value-changing cast', 'price::text', 'cast price::text'],
  ])('%s is not exact', (_name, columns, reason) => {
    const query = compile(t().select(columns));
    expect(query.exact).toBe(false);
    expect(query.reasons).toEqual([reason]);
  });
});

describe('window', () => {
  test.each([
    ['none', t(), { offset: 0, limit: null }],
    ['limit', t().limit(5), { offset: 0, limit: 5 }],
    ['range', t().range(10, 19), { offset: 10, limit: 10 }],
  ])('%s', (_name, builder, expected) => {
    expect(compile(builder).window).toEqual(expected);
  });

  test('a Range header intersects limit and offset', () => {
    const request = t().range(5, 14).toRequest();
    request.headers.Range = '10-29';
    expect(compile(request).window).toEqual({ offset: 10, limit: 5 });
  });

  test('embedded limits are not exact', () => {
    expect(compile(t().limit(2, { referencedTable: 'authors' })).reasons).toEqual(['embedded resource parameter authors.limit']);
  });
});

describe('not exact', () => {
  test.each([
    ['full-text search', t().textSearch('title', 'cat'), 'title.fts: full-text search'],
    ['range operator', t().rangeGt('span', '[1,5)'), 'span.sr: type int4range is not evaluated on the client'],
    ['embedded filter', t().eq('authors.name', 'x'), 'embedded resource filter authors.name'],
    ['json path filter', t().eq('meta->>k', 'x'), 'json path meta->>k'],
    ['jsonb order', t().order('meta'), 'order by meta: jsonb order is not reproduced on the client'],
    ['timestamptz without offset', t().gt('at', '2026-01-01T10:00'), 'at.gt: timestamptz literal "2026-01-01T10:00" has no offset and the session time zone is unknown'],
    ['non-ISO date', t().eq('day', '1/2/2026'), 'day.eq: "1/2/2026" is not an ISO date'],
    ['non-integer for an int column', t().eq('n', 1.5), 'n.eq: "1.5" is not an integer (int4)'],
    ['ov on jsonb', t().overlaps('meta', [1]), 'meta.ov: ov on jsonb'],
    ['is null on jsonb', t().is('meta', null), 'meta.is: test on json(b), where JSON null and SQL NULL look alike in rows'],
    ['is null on json', t().is('raw', null), 'raw.is: test on json(b), where JSON null and SQL NULL look alike in rows'],
    ['negated jsonb test', t().not('meta', 'cs', { a: 1 }), 'meta.cs: negated test on json(b), where JSON null and SQL NULL look alike in rows'],
    ['jsonb eq null', t().eq('meta', 'null'), 'meta.eq: test on json(b), where JSON null and SQL NULL look alike in rows (a jsonb null would pass)'],
    ['jsonb cd of an array holding null', t().containedBy('meta', [null]), 'meta.cd: "{NULL}" is not JSON'],
    ['jsonb cd of a JSON array holding null', t().containedBy('meta', '[null, 1]'), 'meta.cd: test on json(b), where JSON null and SQL NULL look alike in rows (a jsonb null would pass)'],
    ['writes', t().delete().eq('n', 1), 'delete is not a read'],
  ])('%s', (_name, builder, reason) => {
    const query = compile(builder);
    expect(query.exact).toBe(false);
    expect(query.reasons).toEqual([reason]);
  });

  test('a jsonb test inside a negated logic tree is negated too', () => {
    const request = t().toRequest();
    request.query.push(['not.or', '(meta.cs.{"a":1},n.eq.1)']);
    expect(compile(request).reasons).toEqual(['meta.cs: negated test on json(b), where JSON null and SQL NULL look alike in rows']);
    const twice = t().toRequest();
    twice.query.push(['not.or', '(not.and(meta.cs.{"a":1}),n.eq.1)']);
    expect(compile(twice).exact).toBe(true);
  });

  test('an unknown operator in a raw filter string', () => {
    const query = compile(t().or('n.xyz.1'));
    expect(query.exact).toBe(false);
    expect(query.reasons[0]).toMatch(/cannot read the condition at n\.xyz\.1/);
    const top = t().toRequest();
    top.query.push(['n', 'xyz.1']);
    expect(compile(top).reasons).toEqual(['n.xyz: unknown operator xyz']);
  });

  test('offset-less timestamptz literals are exact when the session zone is UTC', () => {
    const query = compile(t().gt('at', '2026-01-01T10:00'), { timeZone: 'UTC' });
    expect(query.exact).toBe(true);
    expect(query.matches({ at: '2026-01-01T10:00:00.000001+00:00' })).toBe(true);
  });
});

describe('columns without a type', () => {
  const untyped = (request: PostgrestRequestLike) => compileRequest(request);
  test('plain numbers and words compare by the JSON type of the row value', () => {
    const query = untyped(t().eq('n', 1).eq('status', 'active'));
    expect(query.exact).toBe(true);
    expect(query.matches({ n: 1.0, status: 'active' })).toBe(true);
    expect(query.matches({ n: '1', status: 'active' })).toBe(true);
    expect(query.matches({ n: 2, status: 'active' })).toBe(false);
    expect(query.filterColumns).toEqual(['n', 'status']);
  });

  test.each([
    ['order', t().order('n'), 'order by n: the column has no type (pass ColumnTypes)'],
    ['range comparison', t().gt('n', 1), 'n.gt: the column has no type (pass ColumnTypes)'],
    ['timestamp-like literal', t().eq('at', '2026-01-01'), 'at.eq: "2026-01-01" may read differently depending on the column type'],
    ['like', t().like('s', 'a*'), 'like on a column of type untyped'],
  ])('%s is not exact', (_name, builder, reason) => {
    expect(untyped(builder).reasons.join()).toContain(reason.replace(/^like/, 's.like: like'));
  });
});

describe('input validation', () => {
  test('a non-request fails with a message naming the problem', () => {
    expect(() => compileRequest({ nope: true } as never)).toThrow(/request\.action must be one of/);
  });
  test('bad column types and options are rejected', () => {
    expect(() => compileRequest(t(), { n: 5 } as never)).toThrow(/type of column n must be a typname/);
    expect(() => compileRequest(t(), {}, { textOrder: 'C' } as never)).toThrow(/textOrder must be 'codepoint' or 'unknown'/);
    expect(() => compileRequest(t(), {}, { collation: 'C' } as never)).toThrow(/unknown option "collation"/);
  });
});

/**
 * Every filter operator and the exact strings PostgREST 12 needs for them, including the quoting
 * cases that were checked against a real PostgREST (see the comment at the top of values.ts).
 */
import { from } from '../../lib/postgrest';
import { expectBuilderError } from '../support/expectBuilderError';

/** The filter pairs of a read (without the leading select pair). */
const filters = (builder: { toRequest(): { query: Array<[string, string]> } }) => builder.toRequest().query.slice(1);
const t = () => from('t');


describe('operators', () => {
  test.each([
    ['eq', t().eq('a', 1), ['a', 'eq.1']],
    ['neq', t().neq('a', 'x'), ['a', 'neq.x']],
    ['gt', t().gt('a', 1.5), ['a', 'gt.1.5']],
    ['gte', t().gte('a', -2), ['a', 'gte.-2']],
    ['lt', t().lt('a', 10n), ['a', 'lt.10']],
    ['lte', t().lte('a', new Date('2024-05-06T07:08:09.010Z')), ['a', 'lte.2024-05-06T07:08:09.010Z']],
    ['like', t().like('a', '%foo*'), ['a', 'like.%foo*']],
    ['ilike', t().ilike('a', 'Foo*'), ['a', 'ilike.Foo*']],
    ['is null', t().is('a', null), ['a', 'is.null']],
    ['is true', t().is('a', true), ['a', 'is.true']],
    ['is false', t().is('a', false), ['a', 'is.false']],
    ['is unknown', t().is('a', 'unknown'), ['a', 'is.unknown']],
    ['in', t().in('a', [1, 'b', true]), ['a', 'in.(1,b,"true")']],
    ['in empty', t().in('a', []), ['a', 'in.()']],
    ['contains array', t().contains('tags', ['a', 'b c']), ['tags', 'cs.{a,"b c"}']],
    ['contains object', t().contains('meta', { k: 'v', n: [1] }), ['meta', 'cs.{"k":"v","n":[1]}']],
    ['contains range string', t().contains('span', '[1,5)'), ['span', 'cs.[1,5)']],
    ['containedBy', t().containedBy('tags', ['a']), ['tags', 'cd.{a}']],
    ['overlaps', t().overlaps('tags', [1, 2]), ['tags', 'ov.{1,2}']],
    ['rangeGt', t().rangeGt('span', '[1,5)'), ['span', 'sr.[1,5)']],
    ['rangeGte', t().rangeGte('span', '[1,5)'), ['span', 'nxl.[1,5)']],
    ['rangeLt', t().rangeLt('span', '[1,5)'), ['span', 'sl.[1,5)']],
    ['rangeLte', t().rangeLte('span', '[1,5)'), ['span', 'nxr.[1,5)']],
    ['rangeAdjacent', t().rangeAdjacent('span', '[1,5)'), ['span', 'adj.[1,5)']],
    ['textSearch', t().textSearch('doc', "'cat' & 'dog'"), ['doc', "fts.'cat' & 'dog'"]],
    ['textSearch plain', t().textSearch('doc', 'cat dog', { type: 'plain', config: 'english' }), ['doc', 'plfts(english).cat dog']],
    ['textSearch phrase', t().textSearch('doc', 'cat dog', { type: 'phrase' }), ['doc', 'phfts.cat dog']],
    ['textSearch websearch', t().textSearch('doc', '"cat dog" -bird', { type: 'websearch', config: 'pg_catalog.simple' }), ['doc', 'wfts(pg_catalog.simple)."cat dog" -bird']],
    ['filter match', t().filter('a', 'match', '^a.b$'), ['a', 'match.^a.b$']],
    ['filter imatch', t().filter('a', 'imatch', '^A'), ['a', 'imatch.^A']],
    ['filter isdistinct', t().filter('a', 'isdistinct', 'x'), ['a', 'isdistinct.x']],
    ['filter not.eq', t().filter('a', 'not.eq', 'x'), ['a', 'not.eq.x']],
    ['filter in with array', t().filter('a', 'in', ['x', 'y,z']), ['a', 'in.(x,"y,z")']],
    ['filter like(any)', t().filter('a', 'like(any)', ['a*', 'b c*']), ['a', 'like(any).{a*,"b c*"}']],
    ['filter eq(all)', t().filter('a', 'eq(all)', [1, 2]), ['a', 'eq(all).{1,2}']],
    ['filter fts(config)', t().filter('doc', 'fts(french)', 'chat'), ['doc', 'fts(french).chat']],
    ['not eq', t().not('a', 'eq', 'x'), ['a', 'not.eq.x']],
    ['not is null', t().not('a', 'is', null), ['a', 'not.is.null']],
    ['not in', t().not('a', 'in', ['x', 'y']), ['a', 'not.in.(x,y)']],
    ['not cs', t().not('tags', 'cs', ['a']), ['tags', 'not.cs.{a}']],
    ['embedded column path', t().eq('authors.name', 'x'), ['authors.name', 'eq.x']],
    ['json path column', t().eq('data->>key', 'x'), ['data->>key', 'eq.x']],
  ])('%s', (_name, builder, pair) => {
    expect(filters(builder)).toEqual([pair]);
  });

  test('eq(col, null) becomes is.null because `= NULL` is never true in SQL', () => {
    expect(filters(t().eq('a', null))).toEqual([['a', 'is.null']]);
  });

  test('neq(col, null) becomes not.is.null', () => {
    expect(filters(t().neq('a', null))).toEqual([['a', 'not.is.null']]);
  });

  test('negating a null comparison gives the opposite IS test', () => {
    expect(filters(t().not('a', 'eq', null))).toEqual([['a', 'not.is.null']]);
    expect(filters(t().not('a', 'neq', null))).toEqual([['a', 'is.null']]);
    expect(filters(t().filter('a', 'isdistinct', null))).toEqual([['a', 'not.is.null']]);
  });

  test('match adds one eq per entry in order, null as is.null', () => {
    expect(filters(t().match({ a: 1, b: 'x,y', c: null }))).toEqual([['a', 'eq.1'], ['b', 'eq.x,y'], ['c', 'is.null']]);
  });

  test('the same column may be filtered twice', () => {
    expect(filters(t().gt('a', 1).lt('a', 5))).toEqual([['a', 'gt.1'], ['a', 'lt.5']]);
  });

  test('nested arrays become nested array literals and null elements NULL', () => {
    expect(filters(t().contains('m', [[1, 2], [3, null]]))).toEqual([['m', 'cs.{{1,2},{3,NULL}}']]);
  });
});

describe('top-level values are verbatim', () => {
  // PostgREST reads everything after `op.` literally: quoting here would become part of the value.
  test.each([
    'a,b', 'a.b', 'a:b', '(x)', '"q"', 'back\\slash', 'null', 'NULL', 'true', 'ñ日本🎉', '*', '%', '+', '&', '=', '#', '?',
    ' lead', 'trail ', '', 'a"b', '{x}', 'x)',
  ])('eq with %j is sent unchanged', (value) => {
    expect(filters(t().eq('s', value))).toEqual([['s', `eq.${value}`]]);
    expect(filters(t().neq('s', value))).toEqual([['s', `neq.${value}`]]);
    expect(filters(t().not('s', 'eq', value))).toEqual([['s', `not.eq.${value}`]]);
  });
});

describe('quoting inside lists, logic trees and array literals', () => {
  test.each([
    ['a,b', '"a,b"'],
    ['a.b', '"a.b"'],
    ['a:b', '"a:b"'],
    ['(x)', '"(x)"'],
    ['"q"', '"\\"q\\""'],
    ['back\\slash', '"back\\\\slash"'],
    ['null', '"null"'],
    ['NULL', '"NULL"'],
    ['true', '"true"'],
    ['ñ日本🎉', 'ñ日本🎉'],
    ['*', '*'],
    ['%', '%'],
    ['+', '+'],
    ['&', '&'],
    ['=', '='],
    ['#', '#'],
    ['?', '?'],
    [' lead', '" lead"'],
    ['trail ', '"trail "'],
    ['tab\tx', '"tab\tx"'],
    ['{x}', '"{x}"'],
    ['plain', 'plain'],
  ])('%j is written as %s', (value, quoted) => {
    expect(filters(t().in('s', [value, 'z']))).toEqual([['s', `in.(${quoted},z)`]]);
    expect(filters(t().or((c) => c.eq('s', value).neq('s', value)))).toEqual([['or', `(s.eq.${quoted},s.neq.${quoted})`]]);
    expect(filters(t().contains('arr', [value]))).toEqual([['arr', `cs.{${quoted}}`]]);
  });

  test('in with only the empty string repeats it, because PostgREST reads ("") as an empty list', () => {
    expect(filters(t().in('s', ['']))).toEqual([['s', 'in.("","")']]);
    expect(filters(t().in('s', ['', 'x']))).toEqual([['s', 'in.("",x)']]);
  });

  test('eq with the empty string inside a logic tree is quoted', () => {
    expect(filters(t().or((c) => c.eq('s', '').is('s', null)))).toEqual([['or', '(s.eq."",s.is.null)']]);
  });

  test('numbers with a decimal point and dates are quoted in lists', () => {
    expect(filters(t().in('n', [1, 1.5, -2]))).toEqual([['n', 'in.(1,"1.5",-2)']]);
    expect(filters(t().in('d', [new Date(0)]))).toEqual([['d', 'in.("1970-01-01T00:00:00.000Z")']]);
  });

  test('an array literal inside a logic tree is quoted as a whole, escaping its own quotes', () => {
    expect(filters(t().or((c) => c.contains('arr', ['a,b', 'c']).eq('id', 1)))).toEqual([
      ['or', '(arr.cs."{\\"a,b\\",c}",id.eq.1)'],
    ]);
    expect(filters(t().or((c) => c.contains('arr', ['x']).eq('id', 1)))).toEqual([['or', '(arr.cs."{x}",id.eq.1)']]);
  });

  test('a jsonb operand inside a logic tree is quoted', () => {
    expect(filters(t().or((c) => c.contains('j', { k: 'v' }).eq('id', 1)))).toEqual([['or', '(j.cs."{\\"k\\":\\"v\\"}",id.eq.1)']]);
  });

  test('a range literal inside a logic tree is quoted', () => {
    expect(filters(t().or((c) => c.rangeAdjacent('r', '[10,20)').eq('id', 1)))).toEqual([['or', '(r.adj."[10,20)",id.eq.1)']]);
  });

  test('is keywords are never quoted inside logic trees', () => {
    expect(filters(t().or((c) => c.is('a', null).is('b', true).not('c', 'is', false)))).toEqual([['or', '(a.is.null,b.is.true,c.not.is.false)']]);
  });

  test('text search config and query inside a logic tree', () => {
    expect(filters(t().or((c) => c.textSearch('doc', 'cat dog', { type: 'plain', config: 'simple' }).eq('id', 1)))).toEqual([
      ['or', '(doc.plfts(simple)."cat dog",id.eq.1)'],
    ]);
  });
});

describe('or / and', () => {
  test('the nested callback builds the documented tree', () => {
    const builder = t().or((q) => q.eq('a', 1).and((q2) => q2.gt('b', 2).lt('b', 5)).not('c', 'is', null));
    expect(filters(builder)).toEqual([['or', '(a.eq.1,and(b.gt.2,b.lt.5),c.not.is.null)']]);
  });

  test('groups nest to any depth', () => {
    const builder = t().and((q) => q.or((o) => o.eq('a', 1).and((a) => a.eq('b', 2).or('c.eq.3,c.eq.4'))).in('d', [1, 2]));
    expect(filters(builder)).toEqual([['and', '(or(a.eq.1,and(b.eq.2,or(c.eq.3,c.eq.4))),d.in.(1,2))']]);
  });

  test('a raw string passes through verbatim', () => {
    expect(filters(t().or('a.eq.1,b.gt.2'))).toEqual([['or', '(a.eq.1,b.gt.2)']]);
    expect(filters(t().and('a.eq."x,y",b.is.null'))).toEqual([['and', '(a.eq."x,y",b.is.null)']]);
  });

  test('referencedTable prefixes the key', () => {
    expect(filters(t().or('title.eq.A,title.eq.B', { referencedTable: 'books' }))).toEqual([['books.or', '(title.eq.A,title.eq.B)']]);
    expect(filters(t().and((q) => q.eq('x', 1).eq('y', 2), { referencedTable: 'books' }))).toEqual([['books.and', '(x.eq.1,y.eq.2)']]);
  });

  test('several or calls give several or parameters, which PostgREST ANDs', () => {
    expect(filters(t().or('a.eq.1,a.eq.2').or('b.eq.1,b.eq.2'))).toEqual([['or', '(a.eq.1,a.eq.2)'], ['or', '(b.eq.1,b.eq.2)']]);
  });

  test('a condition builder is immutable too', () => {
    let kept: unknown;
    const builder = t().or((q) => {
      const first = q.eq('a', 1);
      first.eq('never', 0);
      kept = first;
      return first.eq('b', 2);
    });
    expect(filters(builder)).toEqual([['or', '(a.eq.1,b.eq.2)']]);
    expect(kept).toBeDefined();
  });

  test('a callback that returns nothing fails and says why', () => {
    expectBuilderError(() => t().or(((q: { eq(c: string, v: number): unknown }) => void q.eq('a', 1)) as never), 'INVALID_CONDITION', /must return the builder it built \(builders are immutable\), got undefined/);
  });

  test('an empty group fails', () => {
    expectBuilderError(() => t().or((q) => q), 'INVALID_CONDITION', /or\(\) callback added no conditions/);
    expectBuilderError(() => t().and(''), 'INVALID_CONDITION', /and\(\) needs a non-empty filter string/);
    expectBuilderError(() => t().or(42 as never), 'INVALID_CONDITION', /needs a filter string or a callback, got the number 42/);
  });
});

describe('bad filter input', () => {
  test('in requires an array', () => {
    expectBuilderError(() => t().in('a', '(1,2)' as never), 'INVALID_VALUE', /in\(\) needs an array of values, got a string/);
  });

  test('null inside in fails and suggests or(in, is null)', () => {
    expectBuilderError(() => t().in('a', [1, null] as never), 'NULL_NOT_ALLOWED', /null at index 1 .*\.or\(q => q\.in\(column, values\)\.is\(column, null\)\)/);
  });

  test('is accepts only null, true, false and unknown', () => {
    expectBuilderError(() => t().is('a', 'yes' as never), 'INVALID_VALUE', /is\(\) accepts only null, true, false or 'unknown', got a string \("yes"\)/);
    expectBuilderError(() => t().is('a', 0 as never), 'INVALID_VALUE', /got the number 0/);
  });

  test('non-finite numbers fail', () => {
    expectBuilderError(() => t().eq('a', Number.NaN), 'INVALID_VALUE', /eq\("a"\): NaN is not a finite number/);
    expectBuilderError(() => t().in('a', [1, Number.POSITIVE_INFINITY]), 'INVALID_VALUE', /in\("a"\)\[1\]: Infinity is not a finite number/);
  });

  test('null where SQL never compares fails with a pointer to is()', () => {
    expectBuilderError(() => t().gt('a', null as never), 'NULL_NOT_ALLOWED', /gt\("a"\): null never compares in SQL; use \.is\(column, null\)/);
  });

  test('unsupported value types fail and name the type', () => {
    expectBuilderError(() => t().eq('a', {} as never), 'INVALID_VALUE', /expected a string, number, boolean, bigint or Date, got an object/);
    expectBuilderError(() => t().eq('a', undefined as never), 'INVALID_VALUE', /got undefined/);
    expectBuilderError(() => t().eq('a', new Date('nope')), 'INVALID_VALUE', /the Date is invalid/);
    expectBuilderError(() => t().contains('a', 5 as never), 'INVALID_VALUE', /expected an array, a plain object \(jsonb\) or a literal string, got the number 5/);
    expectBuilderError(() => t().rangeGt('a', [1, 2] as never), 'INVALID_VALUE', /expected a range literal string/);
    expectBuilderError(() => t().eq('a', 'x\uD800y'), 'INVALID_VALUE', /lone UTF-16 surrogate/);
  });

  test('unknown or malformed operators fail', () => {
    expectBuilderError(() => t().filter('a', 'equals', 1), 'INVALID_OPERATOR', /unknown filter operator a string \("equals"\); expected one of eq, neq/);
    expectBuilderError(() => t().not('a', 'not.eq', 1), 'INVALID_OPERATOR', /already negated/);
    expectBuilderError(() => t().filter('a', 'in(any)', [1]), 'INVALID_OPERATOR', /does not take the modifier \(any\)/);
    expectBuilderError(() => t().filter('a', 'like(any)', 'a*'), 'INVALID_VALUE', /like\(any\) needs an array/);
  });

  test('text search options are validated', () => {
    expectBuilderError(() => t().textSearch('d', 'x', { config: 'english) or (1' }), 'INVALID_OPTION', /config must be a configuration name/);
    expectBuilderError(() => t().textSearch('d', 'x', { type: 'fuzzy' as never }), 'INVALID_OPTION', /type must be 'plain', 'phrase' or 'websearch'/);
    expectBuilderError(() => t().filter('d', 'fts(a b)', 'x'), 'INVALID_OPTION', /is not a configuration name/);
  });

  test('column names that would split a logic tree fail', () => {
    expectBuilderError(() => t().eq('a,b', 1), 'INVALID_NAME', /column "a,b" must not contain ","/);
    expectBuilderError(() => t().eq('', 1), 'INVALID_NAME', /column must be a non-empty string/);
    expectBuilderError(() => t().order('a)', {}), 'INVALID_NAME', /order\(\) column/);
  });

  test('match needs a non-empty object', () => {
    expectBuilderError(() => t().match({}), 'INVALID_VALUE', /at least one column/);
    expectBuilderError(() => t().match(null as never), 'INVALID_VALUE', /got null/);
  });
});

/** toUrl, requestHeaders and the request guards. */
import { from, rpc, toUrl, requestHeaders, isPostgrestRequest, toPostgrestRequest, type PostgrestRequest } from '../../lib/postgrest';
import { expectBuilderError } from '../support/expectBuilderError';


describe('toUrl', () => {
  test('joins base URL, relation and the percent-encoded query', () => {
    const url = toUrl('http://localhost:3000/', from('posts').select('id,author:authors(name)').eq('title', 'a&b=c #1?').order('id'));
    expect(url).toBe('http://localhost:3000/posts?select=id%2Cauthor%3Aauthors(name)&title=eq.a%26b%3Dc%20%231%3F&order=id.asc');
  });

  test('rpc goes under /rpc/ and a request without query has no question mark', () => {
    expect(toUrl('http://h/rest/v1', rpc('do_it'))).toBe('http://h/rest/v1/rpc/do_it');
  });

  test('plus and percent are encoded so the server does not read a space or an escape', () => {
    expect(toUrl('http://h', from('t').select('id').eq('s', '+%2B'))).toBe('http://h/t?select=id&s=eq.%2B%252B');
  });

  test('unicode becomes UTF-8 percent escapes', () => {
    expect(toUrl('http://h', from('t').select('id').eq('s', 'ñ日🎉'))).toBe('http://h/t?select=id&s=eq.%C3%B1%E6%97%A5%F0%9F%8E%89');
  });

  test('keys are encoded too', () => {
    expect(toUrl('http://h', from('t').select('id').eq('data->>a b', 1))).toBe('http://h/t?select=id&data-%3E%3Ea%20b=eq.1');
  });

  test('accepts a plain request as well as a builder', () => {
    const builder = from('t').eq('a', 1);
    expect(toUrl('http://h', builder.toRequest())).toBe(toUrl('http://h', builder));
  });

  test('rejects a base URL with a query or fragment, and non-requests', () => {
    expectBuilderError(() => toUrl('http://h/?x=1', from('t')), 'INVALID_OPTION', /baseUrl must be a URL without query or fragment/);
    expectBuilderError(() => toUrl('', from('t')), 'INVALID_OPTION', /baseUrl/);
    expectBuilderError(() => toUrl('http://h', undefined as never), 'NOT_A_REQUEST', /got undefined/);
  });

  test('a hand-made request with a lone surrogate fails clearly instead of with a URIError', () => {
    const request: PostgrestRequest = { ...from('t').toRequest(), query: [['s', 'eq.\uD800']] };
    expectBuilderError(() => toUrl('http://h', request), 'INVALID_VALUE', /query value .* is not well-formed UTF-16/);
  });
});

describe('requestHeaders', () => {
  test('a read in a schema sends Accept-Profile', () => {
    expect(requestHeaders(from('t', { schema: 'blog' }).select('*', { count: 'exact' }))).toEqual({ 'Accept-Profile': 'blog', Prefer: 'count=exact' });
  });

  test('a HEAD read in a schema sends Accept-Profile', () => {
    expect(requestHeaders(from('t', { schema: 'blog' }).select('*', { head: true }))).toEqual({ 'Accept-Profile': 'blog' });
  });

  test('a write in a schema sends Content-Profile and Content-Type', () => {
    expect(requestHeaders(from('t', { schema: 'blog' }).insert({ a: 1 }).select().single())).toEqual({
      'Content-Profile': 'blog',
      'Content-Type': 'application/json',
      Prefer: 'return=representation',
      Accept: 'application/vnd.pgrst.object+json',
    });
  });

  test('a DELETE in a schema sends Content-Profile without Content-Type', () => {
    expect(requestHeaders(from('t', { schema: 'blog' }).delete())).toEqual({ 'Content-Profile': 'blog', Prefer: 'return=minimal' });
  });

  test('rpc POST uses Content-Profile and rpc GET Accept-Profile', () => {
    expect(requestHeaders(rpc('f', {}, { schema: 'api' }))).toEqual({ 'Content-Profile': 'api', 'Content-Type': 'application/json' });
    expect(requestHeaders(rpc('f', {}, { schema: 'api', get: true }))).toEqual({ 'Accept-Profile': 'api' });
  });

  test('without a schema there is no profile header', () => {
    expect(requestHeaders(from('t'))).toEqual({});
  });
});

describe('isPostgrestRequest / toPostgrestRequest', () => {
  const valid = from('t').eq('a', 1).toRequest();

  test('a built request is recognised and survives JSON', () => {
    expect(isPostgrestRequest(valid)).toBe(true);
    expect(isPostgrestRequest(JSON.parse(JSON.stringify(valid)))).toBe(true);
  });

  test.each([
    ['undefined', undefined, /got undefined/],
    ['a string', 'posts', /got a string \("posts"\)/],
    ['a promise', Promise.resolve(valid), /got a Promise/],
    ['an array', [valid], /got an array/],
    ['a bad method', { ...valid, method: 'FETCH' }, /request\.method must be one of/],
    ['a bad action', { ...valid, action: 'read' }, /request\.action must be one of/],
    ['an empty relation', { ...valid, relation: '' }, /request\.relation must be a non-empty string/],
    ['a query of strings', { ...valid, query: ['select=*'] }, /request\.query must be an array of \[string, string\] pairs/],
    ['a numeric header', { ...valid, headers: { Prefer: 1 } }, /request\.headers must be an object of string values/],
    ['a bad result', { ...valid, result: 'all' }, /request\.result must be one of/],
    ['a bad count', { ...valid, count: 'all' }, /request\.count must be one of/],
    ['an empty schema', { ...valid, schema: '' }, /request\.schema must be a non-empty string/],
  ])('%s is not a request and toPostgrestRequest says why', (_name, value, message) => {
    expect(isPostgrestRequest(value)).toBe(false);
    expectBuilderError(() => toPostgrestRequest(value as never), 'NOT_A_REQUEST', message);
  });

  test('toPostgrestRequest of a builder is its request', () => {
    const builder = from('t').insert({ a: 1 }).select();
    expect(toPostgrestRequest(builder)).toEqual(builder.toRequest());
  });

  test('toPostgrestRequest of a request returns an equal copy', () => {
    const copy = toPostgrestRequest(valid);
    expect(copy).toEqual(valid);
    copy.query.push(['x', 'y']);
    expect(valid.query).toEqual([['select', '*'], ['a', 'eq.1']]);
  });

  test('toPostgrestRequest rejects an object whose toRequest returns garbage', () => {
    expectBuilderError(() => toPostgrestRequest({ toRequest: () => ({ method: 'GET' }) } as never), 'NOT_A_REQUEST', /toRequest\(\) returned an invalid request: request\.action/);
  });
});

/**
 * The client methods beyond filters: setHeader, rollback, maxAffected, csv, geojson, explain,
 * returns / overrideTypes. Each is pinned as the plain request it gives, its URL and headers, its
 * validation and its immutability.
 */
import { from, requestHeaders, rpc, toPostgrestRequest, toUrl } from '../../lib/postgrest';
import { expectBuilderError } from '../support/expectBuilderError';

const posts = () => from<{ id: number; title: string }>('posts');
const PLAN = 'application/vnd.pgrst.plan';

describe('setHeader', () => {
  test('adds a custom header to the plain request, its headers and a serializable copy', () => {
    const request = posts().select('id').setHeader('X-Trace', 'abc').toRequest();
    expect(request.headers).toEqual({ 'X-Trace': 'abc' });
    expect(requestHeaders(request)).toEqual({ 'X-Trace': 'abc' });
    expect(JSON.parse(JSON.stringify(request))).toEqual(request);
    expect(toPostgrestRequest(JSON.parse(JSON.stringify(request)))).toEqual(request);
  });

  test('sits beside the composed Prefer and Accept on writes and rpc', () => {
    const write = posts().update({ title: 'x' }).eq('id', 1).select().single().setHeader('x-app', '1').toRequest();
    expect(write.headers).toEqual({ 'x-app': '1', Prefer: 'return=representation', Accept: 'application/vnd.pgrst.object+json' });
    expect(rpc('f', {}, { count: 'exact' }).setHeader('x-app', '2').toRequest().headers).toEqual({ 'x-app': '2', Prefer: 'count=exact' });
  });

  test('setting a name again replaces it whatever its case; the value is trimmed as fetch sends it', () => {
    const request = posts().setHeader('X-A', '1').setHeader('X-B', '2').setHeader('x-a', ' 3 ').toRequest();
    expect(request.headers).toEqual({ 'X-B': '2', 'x-a': '3' });
  });

  test('headers are part of the request, so different values give different requests', () => {
    expect(posts().setHeader('x-a', '1').toRequest()).not.toEqual(posts().setHeader('x-a', '2').toRequest());
    expect(posts().setHeader('x-a', '1').toRequest()).toEqual(posts().setHeader('x-a', '1').toRequest());
  });

  test.each([
    ['Prefer', /Prefer is composed from the builder's options/],
    ['accept', /accept follows the result shape/],
    ['Content-Type', /set from the body/],
    ['Accept-Profile', /schema option/],
    ['Content-Profile', /schema option/],
    ['Authorization', /apiKey and getToken/],
    ['apikey', /apiKey/],
    ['Content-Length', /HTTP client/],
    ['Connection', /HTTP client/],
  ])('rejects %s, which the library sets itself', (name, message) => {
    expectBuilderError(() => posts().setHeader(name, 'x'), 'INVALID_OPTION', message);
  });

  test.each([['', 'empty'], ['X Trace', 'space'], ['x:y', 'colon'], ['é', 'non-ASCII']])('rejects the malformed name %j (%s)', (name) => {
    expectBuilderError(() => posts().setHeader(name, 'x'), 'INVALID_OPTION', /header name must be a token/);
  });

  test.each([['a\r\nX-Evil: 1'], ['nul\u0000'], ['emoji 😀'], ['日本']])('rejects the value %j', (value) => {
    expectBuilderError(() => posts().setHeader('x-a', value), 'INVALID_VALUE', /setHeader\("x-a"\): header value must be Latin-1 text/);
  });

  test('rejects a value that is not a string', () => {
    expectBuilderError(() => posts().setHeader('x-a', 1 as unknown as string), 'INVALID_VALUE', /must be a string, got number/);
  });

  test('a hand-written request with a malformed header is no request', () => {
    expect(() => toPostgrestRequest({ ...posts().toRequest(), headers: { 'bad name': 'x' } })).toThrow(/"bad name" is not a valid header name/);
    expect(() => toPostgrestRequest({ ...posts().toRequest(), headers: { 'x-a': 'a\nb' } })).toThrow(/request.headers.x-a: header value/);
  });
});

describe('rollback', () => {
  test('adds tx=rollback last in Prefer, on writes and reads', () => {
    expect(posts().insert({ title: 'x' }).select().rollback().toRequest().headers).toEqual({ Prefer: 'return=representation,tx=rollback' });
    expect(posts().rollback().select('id', { count: 'exact' }).toRequest().headers).toEqual({ Prefer: 'count=exact,tx=rollback' });
    expect(rpc('f').rollback().toRequest().headers).toEqual({ Prefer: 'tx=rollback' });
  });

  test('cannot be combined with optimistic(), in either order', () => {
    expectBuilderError(() => posts().update({ title: 'x' }).eq('id', 1).optimistic().rollback(), 'INVALID_OPTION', /rollback\(\) cannot be combined with optimistic\(\)/);
    expectBuilderError(() => posts().update({ title: 'x' }).eq('id', 1).rollback().optimistic(), 'INVALID_OPTION', /rollback\(\) cannot be combined with optimistic\(\)/);
  });
});

describe('maxAffected', () => {
  test('adds handling=strict and max-affected to Prefer on update, delete and POST rpc', () => {
    expect(posts().update({ title: 'x' }).eq('id', 1).maxAffected(1).toRequest().headers).toEqual({ Prefer: 'return=minimal,handling=strict,max-affected=1' });
    expect(posts().delete({ count: 'exact' }).lt('id', 9).maxAffected(5).rollback().toRequest().headers).toEqual({
      Prefer: 'return=minimal,count=exact,handling=strict,max-affected=5,tx=rollback',
    });
    expect(rpc('bump').maxAffected(2).toRequest().headers).toEqual({ Prefer: 'handling=strict,max-affected=2' });
  });

  test('calling it again replaces the limit', () => {
    expect(posts().delete().eq('id', 1).maxAffected(5).maxAffected(2).toRequest().headers.Prefer).toBe('return=minimal,handling=strict,max-affected=2');
  });

  test.each([
    ['a read', () => posts().maxAffected(1), /not a read/],
    ['insert', () => posts().insert({ title: 'x' }).maxAffected(1), /not insert\(\)/],
    ['upsert', () => posts().upsert({ id: 1 }).maxAffected(1), /not upsert\(\)/],
    ['a GET rpc', () => rpc('f', {}, { get: true }).maxAffected(1), /not a GET rpc/],
  ])('is rejected on %s', (_, build, message) => {
    expectBuilderError(build, 'INVALID_OPTION', message);
  });

  test.each([[-1], [1.5], [Number.NaN], ['3']])('rejects the count %p', (count) => {
    expectBuilderError(() => posts().delete().maxAffected(count as number), 'INVALID_OPTION', /maxAffected\(\): count must be a non-negative integer/);
  });
});

describe('csv and geojson', () => {
  test('csv asks for text/csv and its result is text', () => {
    const request = posts().select('id,title').order('id').csv().toRequest();
    expect(request).toMatchObject({ method: 'GET', headers: { Accept: 'text/csv' }, result: 'text' });
    expect(toUrl('http://h', request)).toBe('http://h/posts?select=id%2Ctitle&order=id.asc');
  });

  test('geojson asks for application/geo+json and its result is the JSON document', () => {
    expect(posts().geojson().toRequest()).toMatchObject({ headers: { Accept: 'application/geo+json' }, result: 'json' });
  });

  test('a write may return its rows as CSV', () => {
    expect(posts().insert({ title: 'x' }).select().csv().toRequest().headers).toEqual({ Prefer: 'return=representation', Accept: 'text/csv' });
  });

  test.each([
    ['csv() then single()', () => posts().csv().single(), /csv\(\) returns every row as one CSV text; it cannot be combined with single\(\)/],
    ['maybeSingle() then csv()', () => posts().maybeSingle().csv(), /csv\(\) .* maybeSingle\(\)/],
    ['geojson() then single()', () => posts().geojson().single(), /geojson\(\) returns every row as one GeoJSON document/],
    ['csv() on an optimistic write', () => posts().insert({ title: 'x' }).optimistic().csv(), /csv\(\) cannot be combined with optimistic\(\)/],
  ])('%s is rejected', (_, build, message) => {
    expectBuilderError(build, 'INVALID_OPTION', message);
  });
});

describe('explain', () => {
  test('asks for the text plan of the JSON the request would have had', () => {
    const request = posts().select('id').explain().toRequest();
    expect(request.headers).toEqual({ Accept: `${PLAN}+text; for="application/json"` });
    expect(request.result).toBe('text');
  });

  test('format json and every option, in PostgREST order whatever the object order', () => {
    const request = posts().explain({ wal: true, format: 'json', analyze: true, verbose: false, buffers: true, settings: true }).toRequest();
    expect(request.headers.Accept).toBe(`${PLAN}+json; for="application/json"; options=analyze|settings|buffers|wal`);
    expect(request.result).toBe('json');
  });

  test('for names the media type the request would have had', () => {
    expect(posts().eq('id', 1).single().explain().toRequest().headers.Accept).toBe(`${PLAN}+text; for="application/vnd.pgrst.object+json"`);
    expect(posts().csv().explain({ verbose: true }).toRequest().headers.Accept).toBe(`${PLAN}+text; for="text/csv"; options=verbose`);
    expect(posts().geojson().explain().toRequest().headers.Accept).toBe(`${PLAN}+text; for="application/geo+json"`);
    expect(posts().select().maybeSingle().explain().toRequest().headers.Accept).toBe(`${PLAN}+text; for="application/json"`);
  });

  test('keeps Prefer for writes, so analyze with rollback runs and undoes the write', () => {
    const request = posts().update({ title: 'x' }).eq('id', 1).rollback().explain({ analyze: true }).toRequest();
    expect(request.headers).toEqual({ Prefer: 'return=minimal,tx=rollback', Accept: `${PLAN}+text; for="application/json"; options=analyze` });
  });

  test.each([
    [{ format: 'yaml' }, /format must be 'json' or 'text', got a string \("yaml"\)/],
    [{ analyse: true }, /unknown option "analyse"/],
    [{ analyze: 'yes' }, /analyze must be a boolean/],
    ['json', /options must be an object/],
  ])('rejects %p', (options, message) => {
    expectBuilderError(() => posts().explain(options as never), 'INVALID_OPTION', message);
  });

  test('cannot be combined with optimistic()', () => {
    expectBuilderError(() => posts().delete().eq('id', 1).optimistic().explain(), 'INVALID_OPTION', /explain\(\) cannot be combined with optimistic\(\)/);
  });
});

describe('returns and overrideTypes', () => {
  test('change nothing in the request', () => {
    const base = posts().select('id').eq('id', 1);
    expect(base.returns<{ id: string }[]>().toRequest()).toEqual(base.toRequest());
    expect(base.overrideTypes<{ id: string }>().toRequest()).toEqual(base.toRequest());
  });
});

describe('immutability', () => {
  test('every new method leaves the builder it was called on unchanged', () => {
    const base = posts().update({ title: 'x' }).eq('id', 1);
    const before = base.toRequest();
    const derived = [
      base.setHeader('x-a', '1'),
      base.rollback(),
      base.maxAffected(1),
      base.csv(),
      base.geojson(),
      base.explain({ format: 'json' }),
      base.returns<{ id: number }>(),
      base.overrideTypes<{ id: number }>(),
    ];
    expect(base.toRequest()).toEqual(before);
    for (const builder of derived) expect(builder).not.toBe(base);
  });
});

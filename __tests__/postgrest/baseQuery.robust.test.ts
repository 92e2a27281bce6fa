/**
 * The base query never throws and keeps what PostgREST sent: an already-aborted request sends
 * nothing; responses without headers, with an empty or non-JSON body, an odd status, or a fetch that
 * throws something that is not an Error all become `{ error }` or `{ data }`; an error's structured
 * `details` and `hint` stay objects (PostgREST 12.0 itself sends text; a gateway or a newer server
 * may not), and a custom error raised in SQL arrives as sent; headers given to the api go with every request,
 * before the request's own, and never replace the library's auth headers.
 */
import { createPostgrestApi } from '../../lib/api/index.js';
import { from, rpc, type ResultOf } from '../../lib/postgrest/index.js';
import { postgrestBaseQuery } from '../../lib/postgrest/http/baseQuery.js';
import { testStack } from '../support/stack.js';
import { configureStore } from '@reduxjs/toolkit';

const request = from('items').select('id').toRequest();
const live = () => ({ signal: new AbortController().signal }) as never;
/** A base query over a fetchFn that answers with `answer` (or throws it), recording what it was asked. */
function over(answer: () => unknown) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const query = postgrestBaseQuery({ url: 'http://postgrest.test', apiKey: 'anon', retry: false, fetchFn: (async (url: string, init: RequestInit) => (calls.push({ url, init }), answer())) as never });
  return { query, calls };
}

it('an already-aborted signal sends nothing and answers an ABORTED error', async () => {
  const { query, calls } = over(() => new Response('[]'));
  const controller = new AbortController();
  controller.abort();
  expect(await query(request, { signal: controller.signal } as never, {})).toEqual({ error: { status: 'FETCH_ERROR', code: 'ABORTED', message: 'The request was aborted before it was sent', details: null, hint: null } });
  expect(calls).toEqual([]);
});

it.each([
  ['a response without headers or ok', () => ({ status: 200, text: async () => '[{"id":1}]' }), { data: [{ id: 1 }] }],
  ['an empty body', () => new Response('', { status: 200 }), { data: null }],
  ['a body that is not JSON', () => new Response('<html>hi</html>', { status: 200 }), { error: expect.objectContaining({ status: 'PARSING_ERROR', message: expect.stringContaining('<html>hi</html>') }) }],
  ['a redirect status with a page', () => new Response('<html>moved</html>', { status: 302 }), { error: expect.objectContaining({ status: 302, message: '<html>moved</html>' }) }],
  ['a response with no status at all', () => ({ text: async () => 'odd' }), { error: expect.objectContaining({ status: 0, message: 'odd' }) }],
  ['a fetch that throws a string', () => Promise.reject('offline'), { error: expect.objectContaining({ status: 'FETCH_ERROR', message: 'Request to PostgREST failed: offline' }) }],
  ['a fetch that resolves with nothing', () => undefined, { error: expect.objectContaining({ status: 'FETCH_ERROR' }) }],
  ['a body that fails to read', () => ({ status: 200, headers: new Headers(), text: async () => Promise.reject(new Error('stream broke')) }), { error: expect.objectContaining({ status: 'FETCH_ERROR', message: expect.stringContaining('stream broke') }) }],
])('%s becomes a result, never a throw', async (_name, answer, expected) => {
  const { query } = over(answer);
  await expect(query(request, live(), {})).resolves.toEqual(expect.objectContaining(expected));
});

it('a call without a signal (outside RTK) still works', async () => {
  const { query } = over(() => new Response('[{"id":2}]', { status: 200 }));
  expect(await query(request, {} as never, {})).toEqual(expect.objectContaining({ data: [{ id: 2 }] }));
});

it('the api\'s headers go with every request, before the request\'s own; apikey and Authorization stay the library\'s', async () => {
  const { calls } = over(() => new Response('[]'));
  const query = postgrestBaseQuery({ url: 'http://postgrest.test', apiKey: 'anon', retry: false, headers: { 'X-Client-Info': 'app/1.0', Authorization: 'Bearer forged', 'X-Both': 'api' }, fetchFn: (async (url: string, init: RequestInit) => (calls.push({ url, init }), new Response('[]'))) as never });
  await query({ ...request, headers: { 'X-Both': 'request' } }, live(), {});
  expect(calls[0]!.init.headers).toEqual(expect.objectContaining({ 'X-Client-Info': 'app/1.0', 'X-Both': 'request', apikey: 'anon', Authorization: 'Bearer anon' }));
  expect(() => postgrestBaseQuery({ url: 'http://postgrest.test', headers: { 'bad name': 'x' } })).toThrow('postgrestBaseQuery: headers: "bad name" is not a valid header name');
  expect(() => postgrestBaseQuery({ url: 'http://postgrest.test', headers: { 'X-Evil': 'a\r\nInjected: yes' } })).toThrow('postgrestBaseQuery: headers.X-Evil must be a string without line breaks');
});

it('structured details and hint stay objects and arrays (an error body that has them)', async () => {
  const body = JSON.stringify({ code: 'QUOTA', message: 'Payment required', details: { used: 12, limit: 10 }, hint: ['upgrade', 'wait'] });
  const { query } = over(() => new Response(body, { status: 402, headers: { 'content-type': 'application/json' } }));
  expect((await query(request, live(), {})).error).toEqual({ status: 402, code: 'QUOTA', message: 'Payment required', details: { used: 12, limit: 10 }, hint: ['upgrade', 'wait'] });
});

it('a custom error raised in SQL arrives as PostgREST sent it (real PostgREST, with the api\'s headers)', async () => {
  const stack = testStack();
  const api = createPostgrestApi({ url: stack.postgrestUrl, apiKey: stack.anonKey, headers: { 'X-Client-Info': 'rtk-postgrest-tests' } });
  const store = configureStore({ reducer: { [api.reducerPath]: api.reducer }, middleware: (getDefault) => getDefault().concat(api.middleware) });
  const result = await store.dispatch(api.endpoints.write.initiate(rpc('raise_structured') as never));
  expect('error' in result && result.error).toEqual({ status: 402, code: 'QUOTA', message: 'Payment required', details: '12 of 10 used', hint: 'upgrade' });
});

describe('counted function calls (real PostgREST)', () => {
  const run = async (builder: unknown) => {
    const stack = testStack();
    const query = postgrestBaseQuery({ url: stack.postgrestUrl, apiKey: stack.anonKey, retry: false });
    return query(builder as never, live(), {});
  };

  it('a function returning a scalar gives the scalar and the count, not a one-element list', async () => {
    const counted = rpc<number>('add_numbers', { a: 2, b: 3 }, { count: 'exact' });
    const result = await run(counted);
    expect(result.error).toBeUndefined();
    expect(result.data).toEqual({ value: 5, count: expect.any(Number) });
    // The type says so too.
    const typed: ResultOf<typeof counted> = { value: 5, count: 1 };
    expect(typed.value).toBe(5);
  });

  it('a set-returning function still gives its rows and the count', async () => {
    const result = await run(rpc<Array<{ id: number }>>('items_named', { pattern: '%' }, { count: 'exact' }).limit(2));
    expect(result.error).toBeUndefined();
    const data = result.data as { rows: unknown[]; count: number | null };
    expect(Array.isArray(data.rows)).toBe(true);
    expect(data.rows.length).toBeLessThanOrEqual(2);
    expect(typeof data.count === 'number' || data.count === null).toBe(true);
  });
});

it("a request's own headers (setHeader) are sent and are part of its cache key", async () => {
  const sent: Array<Record<string, string>> = [];
  const api = createPostgrestApi({ url: 'http://postgrest.test', apiKey: 'anon', retry: false, fetchFn: (async (_url: string, init: RequestInit) => (sent.push(init.headers as Record<string, string>), new Response('[]'))) as never });
  const store = configureStore({ reducer: { [api.reducerPath]: api.reducer }, middleware: (getDefault) => getDefault().concat(api.middleware) });
  await store.dispatch(api.endpoints.read.initiate(from('items').select('id').setHeader('X-Tenant', 'a') as never));
  await store.dispatch(api.endpoints.read.initiate(from('items').select('id').setHeader('X-Tenant', 'b') as never));
  await store.dispatch(api.endpoints.read.initiate(from('items').select('id').setHeader('X-Tenant', 'a') as never));
  expect(sent.map((headers) => headers['X-Tenant'])).toEqual(['a', 'b']);
  expect(Object.keys(store.getState()[api.reducerPath].queries)).toHaveLength(2);
});

/**
 * Read retries against the real PostgREST with a fault proxy in between: a 503 (or a refused
 * connection) then success is retried and succeeds; a 400 is not retried; after the last retry the
 * error is what the server said; writes are never retried; `retry: false` and per-endpoint
 * `extraOptions` turn it off; a bad policy is refused with a clear error.
 */
import { createPostgrestApi } from '../../lib/api/index.js';
import { from } from '../../lib/postgrest/index.js';
import { postgrestBaseQuery } from '../../lib/postgrest/http/baseQuery.js';
import { startFaultProxy, type FaultProxy } from '../support/faultProxy.js';
import { testStack } from '../support/stack.js';

let proxy: FaultProxy;
beforeAll(async () => {
  const target = new URL(testStack().postgrestUrl);
  proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
});
afterAll(() => proxy.close());
beforeEach(() => {
  proxy.mode = 'pass';
  proxy.connections = 0;
  proxy.requests = 0;
});

const fast = { retries: 3, minDelayMs: 5, maxDelayMs: 20, factor: 2 };
const signal = () => new AbortController().signal;
const query = (options: Omit<Parameters<typeof postgrestBaseQuery>[0], 'url'>) => (request: unknown, extraOptions: object = {}) =>
  postgrestBaseQuery({ url: proxy.url, apiKey: testStack().anonKey, ...options })(request as never, { signal: signal() } as never, extraOptions);
const unavailable = JSON.stringify({ code: 'PGRST000', message: 'Database client error. Retrying the connection.', details: null, hint: null });

it('a 503 then the real answer: retried, and succeeds (meta.attempts says how many sends)', async () => {
  proxy.respondNext(1, 503, unavailable);
  const result = await query({ retry: fast })(from('items').select('id').limit(1));
  expect(result.error).toBeUndefined();
  expect(Array.isArray(result.data)).toBe(true);
  expect(result.meta?.attempts).toBe(2);
});

it('a refused connection (FETCH_ERROR) is retried too', async () => {
  proxy.mode = 'refuse';
  const pending = query({ retry: { ...fast, minDelayMs: 40, maxDelayMs: 40 } })(from('items').select('id').limit(1));
  setTimeout(() => (proxy.mode = 'pass'), 30);
  const result = await pending;
  expect(result.error).toBeUndefined();
  expect(result.meta?.attempts).toBeGreaterThan(1);
});

it("a 400 is not retried; the error is PostgREST's", async () => {
  const result = await query({ retry: fast })(from('items').select('no_such_column'));
  expect(result.error).toEqual(expect.objectContaining({ status: 400, code: '42703' }));
  expect(proxy.requests).toBe(1);
});

it('after the last retry the error is what the server said', async () => {
  proxy.respondNext(4, 503, unavailable, { 'Retry-After': '0' });
  const result = await query({ retry: fast })(from('items').select('id'));
  expect(result.error).toEqual({ status: 503, code: 'PGRST000', message: 'Database client error. Retrying the connection.', details: null, hint: null });
  expect(result.meta?.attempts).toBe(4);
  expect(proxy.requests).toBe(4);
});

it('writes are never retried (a write sent twice may apply twice)', async () => {
  proxy.respondNext(1, 503, unavailable);
  const result = await query({ retry: fast })(from('items').insert({ name: 'never sent twice' }));
  expect(result.error).toEqual(expect.objectContaining({ status: 503 }));
  expect(proxy.requests).toBe(1);
});

it('retry: false, and extraOptions per call, turn it off; a bad policy is refused with a clear error', async () => {
  proxy.respondNext(1, 503, unavailable);
  expect((await query({ retry: false })(from('items').select('id'))).error).toEqual(expect.objectContaining({ status: 503 }));
  proxy.respondNext(1, 503, unavailable);
  expect((await query({ retry: fast })(from('items').select('id'), { retry: false })).error).toEqual(expect.objectContaining({ status: 503 }));
  expect(proxy.requests).toBe(2);
  expect(() => postgrestBaseQuery({ url: proxy.url, retry: { retries: -1 } })).toThrow('postgrestBaseQuery: retry.retries must be a number ≥ 0, got -1');
  expect(() => postgrestBaseQuery({ url: proxy.url, retry: { factor: 0.5 } })).toThrow('postgrestBaseQuery: retry.factor must be ≥ 1, got 0.5');
  const bad = await query({ retry: fast })(from('items').select('id'), { retry: { retries: 1.5 } });
  expect(bad.error).toEqual(expect.objectContaining({ status: 'INVALID_REQUEST', message: 'extraOptions.retry.retries must be a whole number, got 1.5' }));
});

it('an api retries its reads (createPostgrestApi({ retry })) and a declared endpoint may opt out', async () => {
  const api = createPostgrestApi({
    url: proxy.url,
    apiKey: testStack().anonKey,
    retry: fast,
    endpoints: (build) => ({ once: build.query<unknown, void>({ query: () => from('items').select('id').limit(1), extraOptions: { retry: false } }) }),
  });
  const { configureStore } = await import('@reduxjs/toolkit');
  const store = configureStore({ reducer: { [api.reducerPath]: api.reducer }, middleware: (getDefault) => getDefault().concat(api.middleware) });
  proxy.respondNext(1, 503, unavailable);
  const read = await store.dispatch(api.endpoints.read.initiate(from('items').select('id').limit(1) as never));
  expect(read.error).toBeUndefined();
  proxy.respondNext(1, 503, unavailable);
  const once = await store.dispatch(api.endpoints.once.initiate());
  expect(once.error).toEqual(expect.objectContaining({ status: 503 }));
});

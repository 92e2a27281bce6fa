/**
 * Unit tests of the base query's transport handling, against small local HTTP servers that misbehave
 * in ways a real PostgREST can't be made to (hang, answer garbage, vanish). Real PostgREST behaviour
 * is covered by the integration tests in __tests__/api.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BaseQueryApi } from '@reduxjs/toolkit/query';
import { postgrestBaseQuery } from '../../lib/postgrest/http/baseQuery';
import { from, rpc } from '../../lib/postgrest';
import { expectEventually } from '../support/eventually';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
const servers: http.Server[] = [];

async function serve(handler: Handler): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

function api(signal = new AbortController().signal): BaseQueryApi {
  return { signal, abort: () => undefined, dispatch: (a: unknown) => a, getState: () => ({}), extra: undefined, endpoint: 'read', type: 'query' } as unknown as BaseQueryApi;
}

describe('postgrestBaseQuery', () => {
  it('parses the count from Content-Range and returns status and headers as meta', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-range': '0-1/57' });
      res.end('[{"id":1},{"id":2}]');
    });
    const r = await postgrestBaseQuery({ url })(from('t').select('id', { count: 'exact' }), api(), {});
    expect(r.data).toEqual({ rows: [{ id: 1 }, { id: 2 }], count: 57 });
    expect(r.meta).toMatchObject({ status: 200, count: 57, headers: { 'content-range': '0-1/57' } });
  });

  it('sends the token from getToken per request, else the api key, and the api key as apikey', async () => {
    const seen: Array<[string | undefined, string | undefined]> = [];
    const url = await serve((req, res) => {
      seen.push([req.headers['authorization'], req.headers['apikey'] as string | undefined]);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('[]');
    });
    let token: string | null = 'user-token';
    const query = postgrestBaseQuery({ url, apiKey: 'anon-key', getToken: async () => token });
    await query(from('t').select(), api(), {});
    token = null;
    await query(from('t').select(), api(), {});
    expect(seen).toEqual([
      ['Bearer user-token', 'anon-key'],
      ['Bearer anon-key', 'anon-key'],
    ]);
  });

  it('answers TIMEOUT_ERROR when the server does not answer in time', async () => {
    const url = await serve(() => undefined); // never answers
    const r = await postgrestBaseQuery({ url, timeoutMs: 100 })(from('t').select(), api(), {});
    expect(r.error).toEqual({ status: 'TIMEOUT_ERROR', code: null, message: 'PostgREST did not answer within 100 ms', details: null, hint: null });
  });

  it('answers FETCH_ERROR when nothing listens', async () => {
    const url = await serve(() => undefined);
    const server = servers.pop()!;
    await new Promise((r) => server.close(r));
    const r = await postgrestBaseQuery({ url })(from('t').select(), api(), {});
    expect(r.error).toMatchObject({ status: 'FETCH_ERROR', message: expect.stringContaining('Request to PostgREST failed') });
  });

  it('answers PARSING_ERROR for a success body that is not JSON, quoting it', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>proxy page</html>');
    });
    const r = await postgrestBaseQuery({ url })(from('t').select(), api(), {});
    expect(r.error).toMatchObject({ status: 'PARSING_ERROR', message: expect.stringContaining('<html>proxy page</html>') });
    expect(r.meta?.status).toBe(200);
  });

  it('keeps a non-JSON error body as the message', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(502);
      res.end('Bad Gateway from proxy');
    });
    const r = await postgrestBaseQuery({ url })(from('t').select(), api(), {});
    expect(r.error).toEqual({ status: 502, code: null, message: 'Bad Gateway from proxy', details: null, hint: null });
  });

  it('answers FETCH_ERROR, not a throw, when getToken throws', async () => {
    const url = await serve((_req, res) => res.end('[]'));
    const r = await postgrestBaseQuery({ url, getToken: () => { throw new Error('session store offline'); } })(from('t').select(), api(), {});
    expect(r.error).toMatchObject({ status: 'FETCH_ERROR', message: 'getToken failed: session store offline' });
  });

  it('stops the request when RTK aborts it', async () => {
    let closed = false;
    let arrived!: () => void;
    const received = new Promise<void>((resolve) => (arrived = resolve));
    const url = await serve((req) => {
      req.on('close', () => { closed = true; });
      arrived();
    });
    const controller = new AbortController();
    const pending = postgrestBaseQuery({ url })(from('t').select(), api(controller.signal), {});
    await received; // aborted once the server holds the request (not after a fixed delay it may not reach it in)
    controller.abort();
    const r = await pending;
    expect(r.error).toMatchObject({ status: 'FETCH_ERROR' });
    await expectEventually(() => expect(closed).toBe(true));
  });

  it('maybeSingle reads PostgREST\'s 406 for zero rows as null, and keeps 406 for several rows an error', async () => {
    const url = await serve((req, res) => {
      const rows = req.url?.includes('id=eq.1') ? 0 : 2;
      res.writeHead(406, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'PGRST116', details: `The result contains ${rows} rows`, hint: null, message: 'JSON object requested, multiple (or no) rows returned' }));
    });
    const query = postgrestBaseQuery({ url });
    const none = await query(from('t').update({ a: 1 }).eq('id', 1).select().maybeSingle(), api(), {});
    expect(none.error).toBeUndefined();
    expect(none.data).toBeNull();
    expect(none.meta?.status).toBe(406);
    const several = await query(from('t').update({ a: 1 }).eq('id', 2).select().maybeSingle(), api(), {});
    expect(several.error).toEqual({ status: 406, code: 'PGRST116', message: 'JSON object requested, multiple (or no) rows returned', details: 'The result contains 2 rows', hint: null });
    const single = await query(from('t').update({ a: 1 }).eq('id', 1).select().single(), api(), {});
    expect(single.error).toMatchObject({ status: 406, details: 'The result contains 0 rows' });
  });

  it('with a count, rows is always an array: [] without a body, [row] for one row', async () => {
    const url = await serve((req, res) => {
      if (req.method === 'DELETE' || req.method === 'HEAD') {
        res.writeHead(req.method === 'HEAD' ? 200 : 204, { 'content-range': '*/3' });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'content-range': '0-0/1' });
      res.end('{"id":1}');
    });
    const query = postgrestBaseQuery({ url });
    expect((await query(from('t').delete({ count: 'exact' }), api(), {})).data).toEqual({ rows: [], count: 3 });
    expect((await query(from('t').select('*', { count: 'exact', head: true }), api(), {})).data).toEqual({ rows: [], count: 3 });
    expect((await query(from('t').select('*', { count: 'exact' }).single(), api(), {})).data).toEqual({ rows: [{ id: 1 }], count: 1 });
  });

  it('HEAD without a count resolves with null, as its type says', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-range': '0-1/*' });
      res.end();
    });
    const query = postgrestBaseQuery({ url });
    expect((await query(from('t').select('*', { head: true }), api(), {})).data).toBeNull();
    expect((await query(rpc('f', {}, { head: true }), api(), {})).data).toBeNull();
  });

  it('refuses a url that is not http(s) with a message naming it', () => {
    expect(() => postgrestBaseQuery({ url: 'ftp://x' })).toThrow('postgrestBaseQuery: "url" must be an http(s) URL, got "ftp://x"');
  });
});

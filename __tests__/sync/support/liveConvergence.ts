/**
 * The live-entry convergence property, shared by the fault tests (live.faults: one server dropped
 * and restarted; live.cluster: a cluster behind a load balancer): stores with live entries under
 * different filters, orders and windows on one room of `sync_notes`, random writes to it, sockets
 * the test can cut; at the end every live entry deep-equals a fresh PostgREST query of its request,
 * and no entry ever held a row twice.
 */
import { configureStore } from '@reduxjs/toolkit';
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { createPostgrestApi } from '../../../lib/api/index.js';
import { from } from '../../../lib/postgrest/index.js';
import { toUrl } from '../../../lib/postgrest/request/url.js';
import { createSyncMiddleware } from '../../../lib/sync/index.js';
import { sql, testStack } from '../../support/stack.js';

export interface CuttableSockets {
  /** For the sync middleware's `WebSocket` option. */
  WebSocket: new (url: string) => WebSocket;
  /** The sockets open now. */
  open: Set<WebSocket>;
  /** Terminates the open sockets `pick` chooses (all by default). */
  cut(pick?: (socket: WebSocket) => boolean): void;
}

/** ws clients the test can cut (terminate without a close handshake), like a dropped network. */
export function cuttableSockets(): CuttableSockets {
  const open = new Set<WebSocket>();
  class CuttableWebSocket extends WebSocket {
    constructor(url: string) {
      super(url);
      open.add(this);
      this.on('close', () => open.delete(this));
    }
  }
  return {
    WebSocket: CuttableWebSocket,
    open,
    cut(pick = () => true) {
      for (const socket of [...open]) if (pick(socket)) socket.terminate();
    },
  };
}

/** The requests of one store: variant 0 and 1 differ in order and filter. */
export const liveRequests = (room: string, variant: number) => [
  from('sync_notes').select('id,room,body,rank').eq('room', room).order('rank', { ascending: variant === 0 }).order('id'),
  from('sync_notes').select('id,rank').eq('room', room).gte('rank', 3 + variant).order('id'),
  from('sync_notes').select('id,rank,body').eq('room', room).order('rank', { nullsFirst: true }).order('id').limit(4),
  from('sync_notes').select('id,body').eq('room', room).in('body', ['a', 'b']).order('body').order('id', { ascending: false }),
];

type Request = ReturnType<typeof liveRequests>[number];

function makeStore(url: string, sockets: CuttableSockets, cleanups: Array<() => void>) {
  const stack = testStack();
  const api = createPostgrestApi({ url: stack.postgrestUrl, apiKey: stack.anonKey });
  const sync = createSyncMiddleware({
    api,
    url,
    apiKey: stack.anonKey,
    WebSocket: sockets.WebSocket as never,
    heartbeatIntervalMs: 500,
    timeoutMs: 2000,
    reconnect: { minDelayMs: 20, maxDelayMs: 200, factor: 2 },
    onWarning: () => undefined,
  });
  const store = configureStore({
    reducer: { [api.reducerPath]: api.reducer, [sync.reducerPath]: sync.reducer },
    middleware: (getDefault) => getDefault().concat(api.middleware, sync.middleware),
  });
  cleanups.push(() => store.dispatch(sync.actions.disconnect()));
  return { api, sync, store };
}

export interface LiveStore {
  requests: Request[];
  /** A live entry's data (undefined until fetched). */
  data(request: Request): unknown;
}

/**
 * Two stores on `url` (variants 0 and 1), each with a live entry per request of its variant. Every
 * state change of a store is checked for an entry holding a row (id) twice: `duplicates` lists them.
 */
export function liveStores(options: { url: string; room: string; sockets: CuttableSockets; cleanups: Array<() => void> }) {
  const duplicates: string[] = [];
  const stores = [0, 1].map((variant): LiveStore => {
    const { api, store } = makeStore(options.url, options.sockets, options.cleanups);
    const requests = liveRequests(options.room, variant);
    for (const request of requests) {
      const subscription = store.dispatch(api.endpoints.live.initiate(request as never));
      options.cleanups.push(() => (subscription as { unsubscribe(): void }).unsubscribe());
    }
    const data = (request: Request) => (api.endpoints.live.select(request.toRequest() as never)(store.getState() as never) as { data?: unknown }).data;
    options.cleanups.push(
      store.subscribe(() => {
        for (const [which, request] of requests.entries()) {
          const ids = ((data(request) as Array<{ id: number }> | undefined) ?? []).map((row) => row.id);
          const seen = `store ${variant}, request ${which}: ids ${JSON.stringify(ids)}`;
          if (new Set(ids).size !== ids.length && duplicates.length < 10 && !duplicates.includes(seen)) duplicates.push(seen);
        }
      }),
    );
    return { requests, data };
  });
  return { stores, duplicates };
}

/** What PostgREST returns for `request` now, as JSON. */
async function fresh(request: Request): Promise<string> {
  const stack = testStack();
  const response = await fetch(toUrl(stack.postgrestUrl, request.toRequest() as never), { headers: { apikey: stack.anonKey, Authorization: `Bearer ${stack.anonKey}` } });
  return JSON.stringify(await response.json());
}

/** Waits (up to 20 s per entry) until every live entry equals a fresh query of its request, then asserts it. */
export async function expectConverged(stores: LiveStore[]): Promise<void> {
  for (const [index, { requests, data }] of stores.entries()) {
    for (const [which, request] of requests.entries()) {
      const current = () => JSON.stringify(data(request));
      let expected = '';
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        expected = await fresh(request);
        if (current() === expected) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect({ store: index, request: which, data: current() }).toEqual({ store: index, request: which, data: expected });
    }
  }
}

/** Weighted random writes to 16 rows of a room (upsert, update, delete), for fc.oneof with the faults. */
export const writeSteps = [
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('insert' as const), id: fc.integer({ min: 0, max: 15 }), rank: fc.option(fc.integer({ min: 0, max: 9 })), body: fc.option(fc.constantFrom('a', 'b', 'c')) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('update' as const), id: fc.integer({ min: 0, max: 15 }), rank: fc.option(fc.integer({ min: 0, max: 9 })), body: fc.option(fc.constantFrom('a', 'b', 'c')) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), id: fc.integer({ min: 0, max: 15 }) }) },
] as const;

type ValueOf<A> = A extends fc.Arbitrary<infer T> ? T : never;
export type WriteStep = ValueOf<(typeof writeSteps)[number]['arbitrary']>;

/** A random pause step (weight 2). */
export const pauseStep = { weight: 2, arbitrary: fc.record({ kind: fc.constant('pause' as const), ms: fc.integer({ min: 1, max: 60 }) }) };

/** Runs one write on row `base + id` of `room`. */
export async function runWrite(op: WriteStep, room: string, base: number): Promise<void> {
  if (op.kind === 'insert') {
    await sql(
      'insert into sync_notes (id, room, rank, body) values ($1, $2, $3, $4) on conflict (id) do update set rank = excluded.rank, body = excluded.body',
      [base + op.id, room, op.rank, op.body],
    );
  } else if (op.kind === 'update') {
    await sql('update sync_notes set rank = $2, body = $3 where id = $1', [base + op.id, op.rank, op.body]);
  } else {
    await sql('delete from sync_notes where id = $1', [base + op.id]);
  }
}

export const isWrite = (op: { kind: string }): op is WriteStep => op.kind === 'insert' || op.kind === 'update' || op.kind === 'delete';

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

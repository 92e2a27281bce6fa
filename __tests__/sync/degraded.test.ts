/**
 * Degraded mode against the real stack, with a TCP fault proxy between the client and the realtime
 * server: while the socket can't get through (blackholed) and PostgREST works, the status becomes
 * `degraded` after `degradedAfterMs` and live entries are polled, keeping them equal to the
 * database within an interval; when the socket is back the status returns to `synced` and the
 * polling stops.
 */
import { WebSocket } from 'ws';
import { createPostgrestApi } from '../../lib/api/index.js';
import { from } from '../../lib/postgrest/index.js';
import { createSyncMiddleware } from '../../lib/sync/index.js';
import { eventually, expectEventually } from '../support/eventually.js';
import { startFaultProxy, type FaultProxy } from '../support/faultProxy.js';
import { cleanupsAfterAll, tagger } from '../support/optimistic.js';
import { sql, testStack } from '../support/stack.js';
import { syncStore } from '../support/store.js';

type Note = { id: string; tag: string; title: string; seq: number };

const cleanups = cleanupsAfterAll();
const newTag = tagger('deg');
let realtime: FaultProxy;

beforeAll(async () => {
  const target = new URL(testStack().realtimeUrl);
  realtime = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
});
afterAll(() => realtime.close());

const POLL_MS = 400;

it('realtime blackholed while PostgREST works: degraded, polled equal to the database; realtime back: synced, polling stops', async () => {
  const stack = testStack();
  const api = createPostgrestApi({ url: stack.postgrestUrl, apiKey: stack.anonKey });
  const sync = createSyncMiddleware({
    api,
    url: stack.realtimeUrl.replace(/:\d+/, `:${realtime.port}`),
    apiKey: stack.anonKey,
    WebSocket: WebSocket as never,
    environment: false,
    heartbeatIntervalMs: 300,
    timeoutMs: 1000,
    reconnect: { minDelayMs: 50, maxDelayMs: 200 },
    degradedAfterMs: 600,
    pollIntervalMs: POLL_MS,
    onWarning: () => undefined,
  });
  const { store, actions: recorded } = syncStore(api, sync, cleanups);
  const tag = newTag();
  const request = from<Note>('ob_notes').select('*').eq('tag', tag).order('seq');
  const subscription = store.dispatch(api.endpoints.live.initiate(request as never));
  cleanups.push(() => subscription.unsubscribe());
  const rows = () => (api.endpoints.live.select(request as never)(store.getState() as never).data as Note[] | undefined)?.map((row) => ({ ...row }));
  const status = () => sync.selectors.selectSyncStatus(store.getState()).syncStatus;
  const fetches = () => recorded.filter((action) => action.type === `${api.reducerPath}/executeQuery/pending`).length;
  expect(await eventually(() => Array.isArray(rows()) && sync.selectors.selectChannel(store.getState(), 'live:public.ob_notes')?.changesLive === true, 15_000)).toBe(true);
  await expectEventually(() => expect(status()).toBe('synced'));

  // The realtime server can't be reached (connections accepted, never answered); PostgREST can.
  realtime.mode = 'blackhole';
  realtime.cutAll();
  await expectEventually(() => expect(status()).toBe('degraded'), 5_000);
  expect(sync.selectors.selectSync(store.getState()).connection.degradedSince).toEqual(expect.any(Number));
  // Changes made meanwhile reach the entry by polling, within an interval: the first poll that
  // starts after the change brings it (one already running may have read before it).
  await sql(`insert into ob_notes (tag, title, seq) values ($1, 'polled', 1)`, [tag]);
  const before = fetches();
  await expectEventually(async () => expect(rows()).toEqual(await sql(`select * from ob_notes where tag = $1 order by seq`, [tag])), 5_000);
  expect(fetches() - before).toBeLessThanOrEqual(2);
  await sql(`update ob_notes set title = 'polled again' where tag = $1`, [tag]);
  await expectEventually(async () => expect(rows()).toEqual(await sql(`select * from ob_notes where tag = $1 order by seq`, [tag])), 5_000);
  // "Last sync" follows the polls.
  const { degradedSince, lastSyncTime } = sync.selectors.selectSync(store.getState()).connection;
  expect(lastSyncTime).toBeGreaterThanOrEqual(degradedSince!);
  // The entry kept its data while degraded (no error, no refetch from scratch).
  expect(api.endpoints.live.select(request as never)(store.getState() as never).isError).toBe(false);

  // The realtime server is back: the socket reconnects, the channel resumes, polling stops.
  realtime.mode = 'pass';
  realtime.cutAll();
  await expectEventually(() => expect(status()).toBe('synced'), 10_000);
  expect(sync.selectors.selectSync(store.getState()).connection.degradedSince).toBeNull();
  await expectEventually(() => expect(sync.selectors.selectChannel(store.getState(), 'live:public.ob_notes')?.changesLive).toBe(true), 10_000);
  await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  const settledFetches = fetches();
  await new Promise((resolve) => setTimeout(resolve, POLL_MS * 3));
  expect(fetches()).toBe(settledFetches);
  // And changes come through realtime again.
  await sql(`insert into ob_notes (tag, title, seq) values ($1, 'live again', 2)`, [tag]);
  await expectEventually(async () => expect(rows()).toEqual(await sql(`select * from ob_notes where tag = $1 order by seq`, [tag])), 5_000);
  expect(fetches()).toBe(settledFetches);
}, 60_000);

/**
 * The outbox against the real stack, with a TCP fault proxy between the client and PostgREST and
 * another between the client and the realtime server: writes made while both are blackholed are
 * shown and queued, then land once each, in the order made (read from a trigger's log in
 * PostgreSQL); a write whose answer was lost is sent again without a second row; a final error
 * while queued leaves the write failed and rolled back while the ones behind it land; a discarded
 * write is never sent.
 */
import { WebSocket } from 'ws';
import { createPostgrestApi } from '../../lib/api/index.js';
import { from } from '../../lib/postgrest/index.js';
import { createSyncMiddleware, type SyncMiddlewareOptions } from '../../lib/sync/index.js';
import { eventually, expectEventually } from '../support/eventually.js';
import { startFaultProxy, type FaultProxy } from '../support/faultProxy.js';
import { cleanupsAfterAll, tagger } from '../support/optimistic.js';
import { sql, testStack } from '../support/stack.js';
import { syncStore } from '../support/store.js';

type Note = { id: string; tag: string; title: string; seq: number };
type Task = Note & { done: boolean };
type Event = { id: number; client_id: string | null; tag: string; title: string; seq: number };

const cleanups = cleanupsAfterAll();
const newTag = tagger('ob');
let rest: FaultProxy;
let realtime: FaultProxy;

beforeAll(async () => {
  const stack = testStack();
  const restTarget = new URL(stack.postgrestUrl);
  const realtimeTarget = new URL(stack.realtimeUrl);
  rest = await startFaultProxy({ host: restTarget.hostname, port: Number(restTarget.port) });
  realtime = await startFaultProxy({ host: realtimeTarget.hostname, port: Number(realtimeTarget.port) });
});
afterAll(async () => {
  await rest.close();
  await realtime.close();
});
beforeEach(() => {
  rest.mode = 'pass';
  realtime.mode = 'pass';
});

/** A store whose api and socket go through the proxies (short time-outs, fast backoff). */
function makeStore(options: Partial<SyncMiddlewareOptions> = {}, proxy = rest) {
  const stack = testStack();
  const warnings: string[] = [];
  const api = createPostgrestApi({ url: proxy.url, apiKey: stack.anonKey, timeoutMs: 1000, retry: { retries: 1, minDelayMs: 20, maxDelayMs: 50 } });
  const sync = createSyncMiddleware({
    api,
    url: stack.realtimeUrl.replace(/:\d+/, `:${realtime.port}`),
    apiKey: stack.anonKey,
    WebSocket: WebSocket as never,
    environment: false,
    heartbeatIntervalMs: 500,
    timeoutMs: 1000,
    reconnect: { minDelayMs: 50, maxDelayMs: 200 },
    outbox: { retry: { minDelayMs: 30, maxDelayMs: 150 }, idempotencyKeys: { ob_events: 'client_id' } },
    onWarning: (message) => warnings.push(message),
    ...options,
  });
  const { store, actions } = syncStore(api, sync, cleanups);
  return { api, sync, store, recorded: actions, warnings };
}
type Harness = ReturnType<typeof makeStore>;

const notes = (tag: string) => from<Note>('ob_notes').select('*').eq('tag', tag).order('seq');
const tasks = (tag: string) => from<Task>('ob_tasks').select('*').eq('tag', tag).order('seq');
const events = (tag: string) => from<Event>('ob_events').select('*').eq('tag', tag).order('seq');

/** A live entry of `request`, loaded and live; returns a reader of its rows. */
async function liveEntry<Row>(harness: Harness, request: { toRequest(): unknown }, table: string): Promise<() => Row[] | undefined> {
  const { api, store, sync } = harness;
  const subscription = store.dispatch(api.endpoints.live.initiate(request as never));
  cleanups.push(() => subscription.unsubscribe());
  const rows = () => api.endpoints.live.select(request as never)(store.getState() as never).data as Row[] | undefined;
  expect(await eventually(() => Array.isArray(rows()) && sync.selectors.selectChannel(store.getState(), `live:public.${table}`)?.changesLive === true, 15_000)).toBe(true);
  return rows;
}

const outboxOf = (harness: Harness) => harness.sync.selectors.selectOutbox(harness.store.getState());
const write = (harness: Harness, request: unknown) => harness.store.dispatch(harness.api.endpoints.write.initiate(request as never));
const strip = <T extends object>(rows: T[] | undefined) => (rows ?? []).map((row) => JSON.parse(JSON.stringify(row)) as T);

describe('the outbox with PostgREST and realtime blackholed', () => {
  it('50 optimistic writes across 3 tables are shown and queued, then land once each, in order, and every live entry equals the database', async () => {
    const tag = newTag();
    const harness = makeStore();
    const noteRows = await liveEntry<Note>(harness, notes(tag), 'ob_notes');
    const taskRows = await liveEntry<Task>(harness, tasks(tag), 'ob_tasks');
    const eventRows = await liveEntry<Event>(harness, events(tag), 'ob_events');
    rest.mode = 'blackhole';
    realtime.mode = 'blackhole';
    rest.cutAll();
    realtime.cutAll();

    // Inserts into each table, updates of rows inserted while offline (same row: in order), deletes.
    // `made`: the log line each write leaves (a delete logs the deleted row's seq).
    const made: string[] = [];
    const noteIds: string[] = [];
    const taskIds: Array<{ id: string; seq: number }> = [];
    const running: Array<PromiseLike<unknown>> = [];
    for (let seq = 1; seq <= 50; seq++) {
      const kind = seq % 5;
      let request: unknown;
      if (kind === 0 && noteIds.length > 0) {
        request = from('ob_notes').update({ title: `note edited ${seq}`, seq }).eq('id', noteIds[noteIds.length - 1]!).optimistic();
        made.push(`ob_notes:UPDATE:${seq}`);
      } else if (kind === 1 || kind === 0) {
        request = from('ob_notes').insert({ tag, title: `note ${seq}`, seq }).optimistic();
        made.push(`ob_notes:INSERT:${seq}`);
      } else if (kind === 2) {
        request = from('ob_tasks').insert({ tag, title: `task ${seq}`, seq }).optimistic();
        made.push(`ob_tasks:INSERT:${seq}`);
      } else if (kind === 3 && taskIds.length > 1) {
        const task = taskIds.shift()!;
        request = from('ob_tasks').delete().eq('id', task.id).optimistic();
        made.push(`ob_tasks:DELETE:${task.seq}`);
      } else {
        request = from('ob_events').insert({ tag, title: `event ${seq}`, seq }).optimistic();
        made.push(`ob_events:INSERT:${seq}`);
      }
      running.push(write(harness, request));
      // The uuid keys the client made for its inserts, as shown.
      if (made[made.length - 1] === `ob_notes:INSERT:${seq}`) noteIds.push(noteRows()!.find((row) => row.seq === seq)!.id);
      if (made[made.length - 1] === `ob_tasks:INSERT:${seq}`) taskIds.push({ id: taskRows()!.find((row) => row.seq === seq)!.id, seq });
    }
    // Shown at once: every insert and update, and no deleted task.
    const expectedTasks = made.filter((line) => line.startsWith('ob_tasks:INSERT')).map((line) => Number(line.split(':')[2])).filter((seq) => !made.includes(`ob_tasks:DELETE:${seq}`));
    expect(taskRows()!.map((row) => row.seq)).toEqual(expectedTasks);
    expect(noteRows()!.some((row) => row.title === 'note edited 5')).toBe(true);
    expect(eventRows()!.map((row) => `ob_events:INSERT:${row.seq}`)).toEqual(made.filter((line) => line.startsWith('ob_events')));
    // All 50 in the outbox; once the first sends time out, all queued, with the time-out as their error.
    await expectEventually(() => expect(outboxOf(harness)).toHaveLength(50));
    await expectEventually(() => expect(outboxOf(harness).every((item) => item.status === 'queued')).toBe(true), 10_000);
    expect(outboxOf(harness)[0]!.error).toEqual(expect.objectContaining({ status: 'TIMEOUT_ERROR' }));
    expect(harness.sync.selectors.selectSyncStatus(harness.store.getState())).toEqual(expect.objectContaining({ syncStatus: 'offline', pendingWrites: 50 }));
    expect(Number((await sql(`select count(*) from ob_log where tag = $1`, [tag]))[0]!.count)).toBe(0);

    // The network comes back.
    rest.mode = 'pass';
    realtime.mode = 'pass';
    rest.cutAll();
    realtime.cutAll();
    await expectEventually(() => expect(outboxOf(harness)).toEqual([]), 30_000);
    const results = await Promise.all(running.map((promise) => Promise.resolve(promise) as Promise<{ error?: unknown }>));
    expect(results.filter((result) => result.error !== undefined)).toEqual([]);

    // SQL truth: each write once, in the order made.
    const log = await sql(`select tbl, op, seq from ob_log where tag = $1 order by n`, [tag]);
    expect(log.map((row) => `${row.tbl}:${row.op}:${row.seq}`)).toEqual(made);
    // Every live entry equals a fresh query.
    await expectEventually(async () => {
      expect(strip(noteRows())).toEqual(await sql(`select * from ob_notes where tag = $1 order by seq`, [tag]));
      expect(strip(taskRows())).toEqual(await sql(`select * from ob_tasks where tag = $1 order by seq`, [tag]));
      expect(strip(eventRows())).toEqual(await sql(`select * from ob_events where tag = $1 order by seq`, [tag]));
    }, 15_000);
    expect(harness.sync.selectors.selectSync(harness.store.getState()).writes.filter((w) => w.status === 'pending')).toEqual([]);
    await expectEventually(() => expect(harness.sync.selectors.selectSyncStatus(harness.store.getState()).syncStatus).toBe('synced'), 15_000);
  }, 90_000);
});

describe('a lost response', () => {
  it('an optimistic insert with a client-made uuid is sent again without a second row, and resolves with the row', async () => {
    const tag = newTag();
    const harness = makeStore();
    const rows = await liveEntry<Note>(harness, notes(tag), 'ob_notes');
    // The first answer is lost; the way is clear again for the next request.
    rest.mode = 'cut-response';
    rest.switchAfter(1, 'pass');
    const running = write(harness, from('ob_notes').insert({ tag, title: 'once', seq: 1 }).select().single().optimistic());
    const shownId = rows()![0]!.id;
    const result = (await running) as { data?: Note; error?: unknown };
    expect(result.error).toBeUndefined();
    expect(result.data).toEqual({ id: shownId, tag, title: 'once', seq: 1 });
    expect(await sql(`select id, title from ob_notes where tag = $1`, [tag])).toEqual([{ id: shownId, title: 'once' }]);
    // The request reached PostgreSQL and its answer was lost: queued, then sent again, asking PostgREST
    // to ignore the existing key.
    expect(harness.recorded.find((action) => action.type === 'sync/outbox/queued')?.payload).toEqual(expect.objectContaining({ error: expect.objectContaining({ status: 'FETCH_ERROR' }) }));
    const sent = harness.recorded.filter((action) => action.type === 'sync/outbox/queued').map((action) => (action.payload as { request?: { headers: Record<string, string>; query: string[][] } }).request).find(Boolean);
    expect(sent?.headers.Prefer).toContain('resolution=ignore-duplicates');
    expect(sent?.query).toContainEqual(['on_conflict', 'id']);
    await expectEventually(() => expect(strip(rows())).toEqual([{ id: shownId, tag, title: 'once', seq: 1 }]));
  }, 30_000);

  it('a plain insert into a table with an idempotency column lands once (the outbox filled the column)', async () => {
    const tag = newTag();
    const harness = makeStore();
    // The first answer is lost; the way is clear again for the next request.
    rest.mode = 'cut-response';
    rest.switchAfter(1, 'pass');
    const running = write(harness, from('ob_events').insert({ tag, title: 'counted once', seq: 1 }).select());
    const result = (await running) as { data?: Event[]; error?: unknown };
    expect(result.error).toBeUndefined();
    const stored = await sql(`select id, client_id, title from ob_events where tag = $1`, [tag]);
    expect(stored).toHaveLength(1);
    expect(result.data).toEqual([expect.objectContaining({ id: stored[0]!.id, client_id: stored[0]!.client_id, title: 'counted once' })]);
    expect(stored[0]!.client_id).toMatch(/^[0-9a-f-]{36}$/);
  }, 30_000);

  it('a conditional update whose answer was lost is sent again and commits once, not as a conflict', async () => {
    const tag = newTag();
    const { id } = (await sql<{ id: number }>(`insert into opt_items (list_id, tag, title, rank) values (1, $1, 'before', 1) returning id`, [tag]))[0]!;
    const harness = makeStore();
    const rows = await liveEntry<{ id: number; title: string; version: number }>(harness, from('opt_items').select('*').eq('tag', tag), 'opt_items');
    rest.mode = 'cut-response';
    rest.switchAfter(1, 'pass');
    const running = write(harness, from('opt_items').update({ title: 'after', version: 2 }).eq('id', id).select().optimistic({ conflict: { column: 'version', strategy: 'server-wins' } }));
    const result = (await running) as { data?: unknown; error?: unknown };
    expect(result.error).toBeUndefined();
    expect(result.data).toEqual([expect.objectContaining({ id, title: 'after', version: 2 })]);
    expect(await sql(`select title, version from opt_items where id = $1`, [id])).toEqual([{ title: 'after', version: 2 }]);
    expect(harness.sync.selectors.selectConflicts(harness.store.getState())).toEqual([]);
    await expectEventually(() => expect(rows()).toEqual([expect.objectContaining({ title: 'after', version: 2 })]));
  }, 30_000);

  it('an insert without a key of its own may land twice: documented, and the outbox warns', async () => {
    const tag = newTag();
    const harness = makeStore();
    // The first answer is lost; the way is clear again for the next request.
    rest.mode = 'cut-response';
    rest.switchAfter(1, 'pass');
    const running = write(harness, from('opt_items').insert({ list_id: 1, tag, title: 'twice', rank: 1 }));
    expect(((await running) as { error?: unknown }).error).toBeUndefined();
    expect(await sql(`select title from opt_items where tag = $1`, [tag])).toEqual([{ title: 'twice' }, { title: 'twice' }]);
    expect(harness.warnings.some((message) => /insert into opt_items is sent again without its key/.test(message))).toBe(true);
  }, 30_000);
});

describe('final errors, discards and the order of the line', () => {
  it('a queued write that fails for good is rolled back and kept as failed; the writes behind it land; retry and discard', async () => {
    const tag = newTag();
    const harness = makeStore();
    const rows = await liveEntry<Note>(harness, notes(tag), 'ob_notes');
    harness.store.dispatch(harness.sync.actions.environmentChanged({ online: false }));
    const before = rest.requests;
    // seq must be an integer: PostgREST answers 400, a final error.
    const bad = write(harness, from('ob_notes').insert({ tag, title: 'bad', seq: 'not a number' }).optimistic());
    const good = write(harness, from('ob_notes').insert({ tag, title: 'good', seq: 2 }).optimistic());
    expect(rows()!.map((row) => row.title)).toEqual(expect.arrayContaining(['bad', 'good']));
    expect(outboxOf(harness).map((item) => item.status)).toEqual(['queued', 'queued']);
    expect(harness.sync.selectors.selectSyncStatus(harness.store.getState())).toEqual(expect.objectContaining({ syncStatus: 'offline', pendingWrites: 2 }));
    // Offline: nothing was sent.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(rest.requests).toBe(before);

    harness.store.dispatch(harness.sync.actions.environmentChanged({ online: true }));
    const badResult = (await bad) as { error?: { status: unknown; code: unknown } };
    expect(badResult.error).toEqual(expect.objectContaining({ status: 400, code: '22P02' }));
    expect(((await good) as { error?: unknown }).error).toBeUndefined();
    const [failed] = outboxOf(harness);
    expect(outboxOf(harness)).toHaveLength(1);
    expect(failed).toEqual(expect.objectContaining({ status: 'failed', error: expect.objectContaining({ code: '22P02' }) }));
    await expectEventually(() => expect(strip(rows()).map((row) => row.title)).toEqual(['good']));
    expect(harness.sync.selectors.selectSyncStatus(harness.store.getState()).pendingWrites).toBe(0);

    // Retried, it fails again (never retried on its own); discarded, it is gone.
    harness.store.dispatch(harness.sync.actions.retryWrite({ id: failed!.id }));
    await expectEventually(() => expect(outboxOf(harness)[0]).toEqual(expect.objectContaining({ status: 'failed', attempts: 2 })));
    harness.store.dispatch(harness.sync.actions.discardWrite({ id: failed!.id }));
    expect(outboxOf(harness)).toEqual([]);
    expect(await sql(`select title from ob_notes where tag = $1`, [tag])).toEqual([{ title: 'good' }]);
  }, 30_000);

  it("a write PostgREST answers 500 (a trigger's ASSERT) fails at once and does not hold up the write behind it", async () => {
    const tag = newTag();
    const harness = makeStore();
    const bad = write(harness, from('ob_tasks').insert({ tag, title: 'poison', seq: 1 }));
    const good = write(harness, from('ob_tasks').insert({ tag, title: 'fine', seq: 2 }));
    expect(((await bad) as { error?: unknown }).error).toEqual(expect.objectContaining({ status: 500, code: 'P0004' }));
    expect(((await good) as { error?: unknown }).error).toBeUndefined();
    expect(await sql(`select title from ob_tasks where tag = $1`, [tag])).toEqual([{ title: 'fine' }]);
    expect(outboxOf(harness)).toEqual([]);
  }, 30_000);

  it('a queued write discarded before it was sent is never sent; its layer goes and its caller gets DISCARDED', async () => {
    const tag = newTag();
    const harness = makeStore();
    const rows = await liveEntry<Note>(harness, notes(tag), 'ob_notes');
    harness.store.dispatch(harness.sync.actions.environmentChanged({ online: false }));
    const running = write(harness, from('ob_notes').insert({ tag, title: 'never', seq: 1 }).optimistic());
    expect(rows()!.map((row) => row.title)).toEqual(['never']);
    const [item] = outboxOf(harness);
    harness.store.dispatch(harness.sync.actions.discardWrite({ id: item!.id }));
    expect(((await running) as { error?: unknown }).error).toEqual(expect.objectContaining({ code: 'DISCARDED' }));
    expect(rows()).toEqual([]);
    harness.store.dispatch(harness.sync.actions.environmentChanged({ online: true }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await sql(`select title from ob_notes where tag = $1`, [tag])).toEqual([]);
    expect(outboxOf(harness)).toEqual([]);
  }, 30_000);

  it('while a queued write is being sent again, a new write waits behind it, even with PostgREST reachable', async () => {
    const tag = newTag();
    const harness = makeStore();
    harness.store.dispatch(harness.sync.actions.environmentChanged({ online: false }));
    const first = write(harness, from('ob_tasks').insert({ tag, title: 'first', seq: 1 }));
    await expectEventually(() => expect(outboxOf(harness).map((item) => item.status)).toEqual(['queued']));
    // Its replay hangs (the request never reaches PostgREST) until its time-out.
    rest.mode = 'blackhole';
    rest.cutAll();
    harness.store.dispatch(harness.sync.actions.environmentChanged({ online: true }));
    expect(outboxOf(harness).map((item) => item.status)).toEqual(['sending']);
    const second = write(harness, from('ob_tasks').insert({ tag, title: 'second', seq: 2 }));
    await expectEventually(() => expect(outboxOf(harness)).toHaveLength(2));
    expect(outboxOf(harness)[1]).toEqual(expect.objectContaining({ status: 'queued', attempts: 0 }));
    rest.mode = 'pass';
    await Promise.all([first, second]);
    expect((await sql(`select seq from ob_log where tag = $1 order by n`, [tag])).map((row) => Number(row.seq))).toEqual([1, 2]);
    expect(outboxOf(harness)).toEqual([]);
  }, 30_000);
});

/**
 * Rows leaving visibility and keys of the wrong type (issue 9, the client's part). Live channels join
 * with `leave_events`; our server then sends a LEAVE (a `postgres_changes` of type "LEAVE",
 * `old_record` the key only) when an UPDATE takes a row out of what the subscriber may SELECT. A
 * live entry treats it as a DELETE of that key; other channels never asked for it, and listeners
 * never see one. A change whose key value doesn't fit the key column's type is ignored with one
 * warning per channel and column, instead of becoming a second row.
 *
 * A unit test of the sync middleware: fake realtime socket, in-memory PostgREST (the real server
 * sending LEAVE is for a test against the stack).
 */
import { findNonSerializableValue } from '@reduxjs/toolkit';
import { from } from '../../lib/postgrest';
import { FakeSocket, fakeStore, memoryPostgrest, startLive, tick, until } from './support/fakeRealtime';

const TOPIC = 'realtime:live:public.notes';
const list = from('notes').select('id,title').order('id').toRequest();

/** Disconnects every store a test made, also when it failed half-way (a socket left open keeps jest from exiting). */
const disconnects: Array<() => void> = [];
afterEach(() => {
  FakeSocket.autoSubscribe = true;
  FakeSocket.tables = undefined;
  for (const disconnect of disconnects.splice(0)) disconnect();
});

function storeOf(fetchFn: typeof fetch) {
  const made = fakeStore(fetchFn);
  disconnects.push(() => made.store.dispatch(made.sync.actions.disconnect()));
  return made;
}

/** A store with a live entry of `request` fetched from `rows`; the GETs answer `limit` when the request has one. */
async function liveEntry(rows: Array<Record<string, unknown>>, request: unknown = list) {
  const postgrest = memoryPostgrest();
  postgrest.tables.notes = rows;
  postgrest.respondWith((url, method) => {
    const limit = new URL(url).searchParams.get('limit');
    if (method !== 'GET' || limit === null) return undefined;
    const body = JSON.stringify(postgrest.tables.notes!.slice(0, Number(limit)));
    return Promise.resolve(new Response(body, { status: 200, headers: { 'content-type': 'application/json' } }));
  });
  const made = storeOf(postgrest.fetchFn);
  const { select, socket, done } = await startLive(made, request);
  return { ...made, postgrest, select, rows: () => select().data, socket, done };
}

const ids = (rows: unknown) => (rows as Array<{ id: unknown }>).map((row) => row.id);

test('a LEAVE removes its row from a patched live list without a refetch; a LEAVE of a key the entry never held changes nothing', async () => {
  const { sync, store, postgrest, rows, socket, warnings, done } = await liveEntry([{ id: 1, title: 'a' }, { id: 2, title: 'b' }, { id: 3, title: 'c' }]);
  socket.leave(TOPIC, 'notes', { id: 2 }, 1);
  expect(await until(() => JSON.stringify(ids(rows())) === '[1,3]')).toBe(true);
  const before = rows();
  socket.leave(TOPIC, 'notes', { id: 99 }, 2);
  expect(await until(() => sync.selectors.selectChannel(store.getState(), 'live:public.notes')?.position === '0000000000000001:00000002')).toBe(true);
  await tick();
  expect(rows()).toBe(before);
  expect(postgrest.gets()).toBe(1);
  expect(warnings).toEqual([]);
  expect(findNonSerializableValue(store.getState())).toBe(false);
  done();
});

test('a LEAVE of a row in a live top-N window is filled from its spare rows, without a refetch', async () => {
  const window = from('notes').select('id,title').order('id').limit(3).toRequest();
  // Windows get spare rows once the client knows it can patch them: the server describes the id's type.
  FakeSocket.tables = [{ schema: 'public', table: 'notes', columns: [{ name: 'id', type: 'int4' }, { name: 'title', type: 'text', collation: 'C' }] }];
  const all = [1, 2, 3, 4, 5, 6].map((id) => ({ id, title: `t${id}` }));
  const { postgrest, rows, socket, warnings, done } = await liveEntry(all, window);
  expect(ids(rows())).toEqual([1, 2, 3]);
  expect(postgrest.requests[0]!.url).toContain('limit=8'); // fetched with 5 spare rows
  socket.leave(TOPIC, 'notes', { id: 2 }, 1);
  expect(await until(() => JSON.stringify(ids(rows())) === '[1,3,4]')).toBe(true);
  socket.leave(TOPIC, 'notes', { id: 1 }, 2);
  expect(await until(() => JSON.stringify(ids(rows())) === '[3,4,5]')).toBe(true);
  expect(postgrest.gets()).toBe(1);
  expect(warnings).toEqual([]);
  done();
});

test('column types a LEAVE gave (its key only) give way to the next change that lists every column', async () => {
  // No `tables` from the server (as Supabase): types come from the changes, and our LEAVE lists the key only.
  const columns = [{ name: 'id', type: 'int4' }, { name: 'rank', type: 'int4' }];
  const byRank = from('notes').select('id,rank').order('rank').order('id').toRequest();
  const { postgrest, rows, socket, done } = await liveEntry([{ id: 1, rank: 5 }, { id: 2, rank: 7 }], byRank);
  socket.leave(TOPIC, 'notes', { id: 9 }, 1, [{ name: 'id', type: 'int4' }]);
  // Not knowing `rank`'s type, the entry can't be ordered here: the LEAVE refetches it.
  expect(await until(() => postgrest.gets() === 2)).toBe(true);
  postgrest.tables.notes!.push({ id: 3, rank: 6 });
  socket.change(TOPIC, 'notes', 'INSERT', { id: 3, rank: 6 }, 2, columns);
  expect(await until(() => JSON.stringify(ids(rows())) === '[1,3,2]')).toBe(true);
  await tick();
  // The INSERT listed every column: from then on patched, not refetched.
  expect(postgrest.gets()).toBe(2);
  postgrest.tables.notes!.push({ id: 4, rank: 1 });
  socket.change(TOPIC, 'notes', 'INSERT', { id: 4, rank: 1 }, 3, columns);
  expect(await until(() => JSON.stringify(ids(rows())) === '[4,1,3,2]')).toBe(true);
  await tick();
  expect(postgrest.gets()).toBe(2);
  done();
});

test('a LEAVE makes a live entry the client cannot patch (an offset window) refetch, once per burst', async () => {
  const offset = from('notes').select('id,title').order('id').range(1, 2).toRequest();
  const { postgrest, socket, done } = await liveEntry([{ id: 1, title: 'a' }, { id: 2, title: 'b' }, { id: 3, title: 'c' }], offset);
  expect(postgrest.gets()).toBe(1);
  socket.leave(TOPIC, 'notes', { id: 2 }, 1);
  socket.leave(TOPIC, 'notes', { id: 3 }, 2);
  expect(await until(() => postgrest.gets() === 2)).toBe(true);
  await tick();
  await tick();
  expect(postgrest.gets()).toBe(2);
  done();
});

test('a listener of a live channel (a useRealtime hook under the same name) never sees a LEAVE; the live entry does', async () => {
  const { sync, rows, socket, done } = await liveEntry([{ id: 1, title: 'a' }, { id: 2, title: 'b' }]);
  const heard: string[] = [];
  const stop = sync.runtime.listen('live:public.notes', { kind: 'postgres_changes', handler: (changes) => heard.push(...changes.map((change) => `${change.eventType} ${JSON.stringify(change.old)}`)) });
  socket.leave(TOPIC, 'notes', { id: 1 }, 1);
  socket.change(TOPIC, 'notes', 'DELETE', { id: 2 }, 2);
  expect(await until(() => JSON.stringify(rows()) === '[]')).toBe(true);
  expect(heard).toEqual(['DELETE {"id":2}']);
  stop();
  done();
});

test('a LEAVE on a channel whose join did not ask for leave_events is ignored with a warning; other changes there still reach its listener', async () => {
  const postgrest = memoryPostgrest();
  const { sync, store, warnings } = storeOf(postgrest.fetchFn);
  const heard: string[] = [];
  const stop = sync.runtime.listen('feed', { kind: 'postgres_changes', handler: (changes) => heard.push(...changes.map((change) => change.eventType)) });
  // What useRealtime('feed', { event: '*', table: 'notes' }, ...) dispatches.
  const config = { postgresChanges: [{ event: '*' as const, schema: 'public', table: 'notes' }] };
  store.dispatch(sync.actions.subscribe({ channel: 'feed', config }));
  expect(await until(() => sync.selectors.selectChannel(store.getState(), 'feed')?.changesLive === true)).toBe(true);
  const socket = FakeSocket.last;
  socket.leave('realtime:feed', 'notes', { id: 1 }, 1);
  await tick();
  expect(warnings).toEqual(['[rtk-postgrest sync] LEAVE on "feed", whose join did not ask for leave_events: ignored']);
  socket.change('realtime:feed', 'notes', 'DELETE', { id: 2 }, 2);
  expect(await until(() => heard.length > 0)).toBe(true);
  expect(heard).toEqual(['DELETE']);
  stop();
  store.dispatch(sync.actions.unsubscribe({ channel: 'feed', config }));
  store.dispatch(sync.actions.disconnect());
});

test('a live channel joins with leave_events; a useRealtime channel does not, until a live entry shares its name (then it rejoins with them)', async () => {
  const postgrest = memoryPostgrest();
  const { api, sync, store } = storeOf(postgrest.fetchFn);
  const binding = (table: string) => ({ postgresChanges: [{ event: '*' as const, schema: 'public', table }] });
  store.dispatch(sync.actions.subscribe({ channel: 'feed', config: binding('notes') }));
  store.dispatch(sync.actions.subscribe({ channel: 'live:public.comments', config: binding('comments') }));
  const socket = await (async () => {
    expect(await until(() => FakeSocket.last?.joinConfig('realtime:live:public.comments') !== undefined)).toBe(true);
    return FakeSocket.last;
  })();
  expect(socket.joinConfig('realtime:feed')).not.toHaveProperty('leave_events');
  expect(socket.joinConfig('realtime:live:public.comments')).not.toHaveProperty('leave_events');

  const notes = store.dispatch(api.endpoints.live.initiate(list as never));
  const comments = from('comments').select('id').order('id').toRequest();
  const commentEntry = store.dispatch(api.endpoints.live.initiate(comments as never));
  expect(await until(() => [list, comments].every((arg) => api.endpoints.live.select(arg as never)(store.getState() as never).status === 'fulfilled'))).toBe(true);
  expect(socket.joinConfig(TOPIC)).toMatchObject({ leave_events: true });
  expect(socket.joinConfig('realtime:live:public.comments')).toMatchObject({ leave_events: true });
  expect(socket.joinConfig('realtime:feed')).not.toHaveProperty('leave_events');
  expect(sync.selectors.selectChannel(store.getState(), 'live:public.notes')?.config.leaveEvents).toBe(true);
  expect(findNonSerializableValue(store.getState())).toBe(false);
  notes.unsubscribe();
  commentEntry.unsubscribe();
  store.dispatch(sync.actions.disconnect());
});

test('a channel with postgres_changes bindings joins asking the server to wait until they are live; one without does not', async () => {
  const postgrest = memoryPostgrest();
  const { sync, store } = storeOf(postgrest.fetchFn);
  store.dispatch(sync.actions.subscribe({ channel: 'feed', config: { postgresChanges: [{ event: '*', schema: 'public', table: 'notes' }] } }));
  store.dispatch(sync.actions.subscribe({ channel: 'chat', config: { broadcast: { self: true } } }));
  expect(await until(() => FakeSocket.last?.joinConfig('realtime:chat') !== undefined && FakeSocket.last?.joinConfig('realtime:feed') !== undefined)).toBe(true);
  const socket = FakeSocket.last!;
  // 80 % of the default 10 s push timeout: the server's refusal arrives before our push would time out.
  expect(socket.joinConfig('realtime:feed')).toMatchObject({ postgres_changes_options: { wait: true, timeout: 8000 } });
  expect(socket.joinConfig('realtime:chat')).not.toHaveProperty('postgres_changes_options');
  store.dispatch(sync.actions.disconnect());
});

describe('a change whose key does not fit the key column\'s type', () => {
  const uuid = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;
  const uuidColumns = [{ name: 'id', type: 'uuid' }, { name: 'title', type: 'text' }];
  test.each([
    { name: '"2" for an int4 id', rows: [{ id: 1, title: 'a' }, { id: 2, title: 'b' }], bad: '2', columns: undefined, expected: /key column "id" of public\.notes is int4, so its value must be an integer number; got a string/, good: { id: 2, title: 'B' } },
    { name: '2 for a uuid id', rows: [{ id: uuid(1), title: 'a' }, { id: uuid(2), title: 'b' }], bad: 2, columns: uuidColumns, expected: /key column "id" of public\.notes is uuid, so its value must be a string; got an integer number/, good: { id: uuid(2), title: 'B' } },
    { name: 'null for an int4 id', rows: [{ id: 1, title: 'a' }, { id: 2, title: 'b' }], bad: null, columns: undefined, expected: /key column "id" of public\.notes is int4, so its value must be an integer number; got null/, good: { id: 2, title: 'B' } },
  ])('$name: ignored (every event type) with exactly one warning; the entry keeps its rows', async ({ rows: initial, bad, columns, expected, good }) => {
    const { rows, socket, postgrest, warnings, done } = await liveEntry(initial.map((row) => ({ ...row })));
    const before = rows();
    socket.change(TOPIC, 'notes', 'UPDATE', { id: bad, title: 'x' }, 1, columns);
    socket.change(TOPIC, 'notes', 'INSERT', { id: bad, title: 'y' }, 2, columns);
    socket.change(TOPIC, 'notes', 'DELETE', { id: bad }, 3, columns);
    socket.leave(TOPIC, 'notes', { id: bad }, 4, columns);
    await tick();
    socket.change(TOPIC, 'notes', 'UPDATE', { id: bad, title: 'z' }, 5, columns); // a later burst: no second warning
    await tick();
    expect(rows()).toBe(before);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(expected);
    expect(warnings[0]).toContain('live:public.notes');
    // Good changes after them still apply, and nothing was refetched.
    socket.change(TOPIC, 'notes', 'UPDATE', good, 6, columns);
    expect(await until(() => JSON.stringify(rows()) === JSON.stringify([initial[0], good]))).toBe(true);
    expect(postgrest.gets()).toBe(1);
    done();
  });

  test('the server\'s description of the table decides the key\'s type, over the change\'s own column list', async () => {
    FakeSocket.autoSubscribe = false;
    const postgrest = memoryPostgrest();
    postgrest.tables.notes = [{ id: 'a', title: 'a' }];
    const { api, store, sync, warnings } = storeOf(postgrest.fetchFn);
    const subscription = store.dispatch(api.endpoints.live.initiate(list as never));
    const select = () => api.endpoints.live.select(list as never)(store.getState() as never);
    expect(await until(() => FakeSocket.last?.joins.has(TOPIC) === true)).toBe(true);
    const socket = FakeSocket.last;
    socket.subscribed(TOPIC, [{ schema: 'public', table: 'notes', columns: [{ name: 'id', type: 'text', collation: 'C' }, { name: 'title', type: 'text', collation: 'C' }] }]);
    expect(await until(() => select().status === 'fulfilled')).toBe(true);
    // The changes list id as int4 (a misbehaving server); the description says text.
    socket.change(TOPIC, 'notes', 'INSERT', { id: 5, title: 'number' }, 1);
    socket.change(TOPIC, 'notes', 'INSERT', { id: 'b', title: 'text' }, 2);
    expect(await until(() => JSON.stringify(select().data) === JSON.stringify([{ id: 'a', title: 'a' }, { id: 'b', title: 'text' }]))).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/key column "id" of public\.notes is text, so its value must be a string; got an integer number/);
    expect(postgrest.gets()).toBe(1);
    subscription.unsubscribe();
    store.dispatch(sync.actions.disconnect());
  });
});

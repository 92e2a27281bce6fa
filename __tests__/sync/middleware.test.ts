/**
 * The sync middleware against the real stack's realtime server: connection and channel status in
 * the store, presence and broadcast between two stores, postgres_changes delivered to listeners in
 * one batch per tick with the stream position mirrored, resume after the realtime server restarts
 * without losing a change, and recorded actions replayed into a fresh store that send nothing.
 * RTK's serializability check is on in every store.
 */
import { findNonSerializableValue } from '@reduxjs/toolkit';
import { WebSocket } from 'ws';
import type { RealtimeChange, SyncMiddleware } from '../../lib/sync/index.js';
import { createRealtimeServer, type RealtimeServer } from '../../lib/server/realtime/server.js';
import { sql, closeSql, testStack } from '../support/stack.js';
import { makeSyncTestStore } from '../support/store.js';

const stores: Array<{ sync: SyncMiddleware; store: ReturnType<typeof makeStore>['store'] }> = [];
const servers: RealtimeServer[] = [];
let nextId = 0;
let roomCounter = 0;

afterAll(async () => {
  for (const { sync, store } of stores) store.dispatch(sync.actions.disconnect());
  for (const server of servers) await server.close();
  await closeSql();
});

function makeStore(options: Partial<Parameters<typeof makeSyncTestStore>[0]> = {}) {
  const made = makeSyncTestStore({ ...options, WebSocket: options.WebSocket ?? WebSocket });
  stores.push(made);
  return made;
}

async function waitFor<T>(probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error('waitFor timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const room = () => `sync-room-${process.pid}-${++roomCounter}`;
const freshId = () => process.pid * 1000 + ++nextId;

describe('createSyncMiddleware against the realtime server', () => {
  it('mirrors connection and channel status, and presence between two stores', async () => {
    const name = room();
    const a = makeStore();
    const b = makeStore();
    a.store.dispatch(a.sync.actions.subscribe({ channel: name, config: { presenceKey: 'alice' } }));
    b.store.dispatch(b.sync.actions.subscribe({ channel: name, config: { presenceKey: 'bob' } }));
    await waitFor(() => a.sync.selectors.selectChannel(a.store.getState(), name)?.status === 'joined');
    await waitFor(() => b.sync.selectors.selectChannel(b.store.getState(), name)?.status === 'joined');
    expect(a.sync.selectors.selectConnection(a.store.getState()).status).toBe('open');
    await a.store.dispatch(a.sync.actions.track({ channel: name, state: { typing: true } }) as never);
    const presence = await waitFor(() => {
      const state = b.sync.selectors.selectPresence(b.store.getState(), name);
      return state?.alice ? state : undefined;
    });
    expect(presence.alice![0]).toMatchObject({ typing: true });
    await a.store.dispatch(a.sync.actions.untrack({ channel: name }) as never);
    await waitFor(() => !b.sync.selectors.selectPresence(b.store.getState(), name)?.alice);
    for (const store of [a, b]) {
      expect(findNonSerializableValue(store.store.getState())).toBe(false);
      for (const action of store.recorded) expect(findNonSerializableValue(action)).toBe(false);
    }
  });

  it('broadcasts between stores to listeners, not back to the sender without self', async () => {
    const name = room();
    const a = makeStore();
    const b = makeStore();
    const heardByA: unknown[] = [];
    const heardByB: unknown[] = [];
    a.sync.runtime.listen(name, { kind: 'broadcast', event: 'cursor', handler: (payload) => heardByA.push(payload) });
    b.sync.runtime.listen(name, { kind: 'broadcast', event: 'cursor', handler: (payload) => heardByB.push(payload) });
    a.store.dispatch(a.sync.actions.subscribe({ channel: name, config: { broadcast: { ack: true } } }));
    b.store.dispatch(b.sync.actions.subscribe({ channel: name }));
    await waitFor(() => a.sync.selectors.selectChannel(a.store.getState(), name)?.status === 'joined');
    await waitFor(() => b.sync.selectors.selectChannel(b.store.getState(), name)?.status === 'joined');
    const reply = await (a.store.dispatch(a.sync.actions.broadcast({ channel: name, event: 'cursor', payload: { x: 1 } })) as unknown as Promise<{ status: string }>);
    expect(reply.status).toBe('ok');
    await waitFor(() => heardByB.length === 1);
    expect(heardByB).toEqual([{ x: 1 }]);
    expect(heardByA).toEqual([]);
  });

  it('delivers postgres_changes in one batch per tick and mirrors the stream position', async () => {
    const name = room();
    const a = makeStore();
    const batches: RealtimeChange[][] = [];
    a.sync.runtime.listen(name, { kind: 'postgres_changes', handler: (changes) => batches.push(changes) });
    a.store.dispatch(a.sync.actions.subscribe({ channel: name, config: { postgresChanges: [{ event: '*', schema: 'public', table: 'sync_notes', filter: `room=eq.${name}` }] } }));
    await waitFor(() => a.sync.selectors.selectChannel(a.store.getState(), name)?.changesLive);
    const ids = [freshId(), freshId(), freshId()];
    await sql(`insert into sync_notes (id, room) select unnest($1::int4[]), $2`, [ids, name]);
    await waitFor(() => batches.flat().length === 3);
    expect(batches.flat().map((change) => change.new.id)).toEqual(ids);
    expect(batches.length).toBeLessThan(3); // one transaction arrives together
    const position = a.sync.selectors.selectChannel(a.store.getState(), name)!.position;
    expect(position).toBe(batches.flat()[2]!.position);
  });

  it('a subscribe adding a binding rejoins: each binding listener gets its own changes, and a write while the rejoin is in flight arrives once', async () => {
    const name = room();
    const [r, t] = [`${name}-r`, `${name}-t`];
    const insert = (id: number, roomValue: string, tag: string) => sql('insert into rt_bindings_items (id, room, tag) values ($1, $2, $3)', [id, roomValue, tag]);
    const byRoom = { event: '*' as const, schema: 'public', table: 'rt_bindings_items', filter: `room=eq.${r}` };
    const byTag = { event: 'INSERT' as const, schema: 'public', table: 'rt_bindings_items', filter: `tag=eq.${t}` };
    const heardRoom: number[] = [];
    const heardTag: number[] = [];
    const heardAll: number[] = [];
    const joins: Array<{ bindings: number; resumeAfter: unknown }> = [];
    /** Holds the rejoin frame until `whileHeld` is done: the old join is still registered meanwhile. */
    let whileHeld: (() => Promise<void>) | null = null;
    class HoldingWebSocket extends WebSocket {
      override send(data: unknown, ...rest: unknown[]): void {
        const frame = typeof data === 'string' ? (JSON.parse(data) as unknown[]) : null;
        const payload = frame?.[3] === 'phx_join' ? (frame[4] as { config: { postgres_changes: unknown[]; resume_after?: unknown } }) : null;
        if (payload) joins.push({ bindings: payload.config.postgres_changes.length, resumeAfter: payload.config.resume_after });
        const hold = whileHeld;
        if (payload && payload.config.postgres_changes.length === 2 && hold) {
          whileHeld = null;
          void hold().then(() => super.send(data as string));
          return;
        }
        (super.send as (...args: unknown[]) => void)(data, ...rest);
      }
    }
    const a = makeStore({ WebSocket: HoldingWebSocket });
    const channel = () => a.sync.selectors.selectChannel(a.store.getState(), name);
    const stopRoom = a.sync.runtime.listen(name, { kind: 'postgres_changes', binding: byRoom, handler: (changes) => heardRoom.push(...changes.map((c) => c.new.id as number)) });
    a.sync.runtime.listen(name, { kind: 'postgres_changes', binding: byTag, handler: (changes) => heardTag.push(...changes.map((c) => c.new.id as number)) });
    a.sync.runtime.listen(name, { kind: 'postgres_changes', handler: (changes) => heardAll.push(...changes.map((c) => c.new.id as number)) });
    a.store.dispatch(a.sync.actions.subscribe({ channel: name, config: { postgresChanges: [byRoom] } }));
    await waitFor(() => channel()?.changesLive);
    const first = freshId();
    await insert(first, r, t); // matches both bindings; only the room binding exists yet
    await waitFor(() => heardRoom.length === 1);

    const [held, gap] = [freshId(), freshId()];
    whileHeld = async () => {
      // Committed after the rejoin's resume position was taken, while the old join still delivers:
      // heard live, then replayed by the new join, which must not deliver it again.
      await insert(held, r, 'other');
      await waitFor(() => heardRoom.includes(held));
      // And one committed as the server swaps the joins.
      void insert(gap, r, 'other');
    };
    a.store.dispatch(a.sync.actions.subscribe({ channel: name, config: { postgresChanges: [byTag] } }));
    expect(channel()?.status).toBe('joining'); // rejoining at once, not waiting for anything
    await waitFor(() => channel()?.changesLive && channel()!.serverBindings.length === 2 && channel()!.serverBindings.every((b) => b.live));
    expect(joins).toHaveLength(2);
    expect(joins[1]).toEqual({ bindings: 2, resumeAfter: expect.any(String) });
    const [tagOnly, roomOnly] = [freshId(), freshId()];
    await insert(tagOnly, `${name}-other`, t);
    await insert(roomOnly, r, 'x');
    await waitFor(() => heardRoom.includes(roomOnly));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(heardRoom).toEqual([first, held, gap, roomOnly]);
    expect(heardTag).toEqual([tagOnly]);
    expect(heardAll).toEqual([first, held, gap, tagOnly, roomOnly]);

    // The room binding's last subscriber leaves: no rejoin (the server keeps the binding until the
    // next join, its id reaches no listener); the tag listener carries on.
    stopRoom();
    a.store.dispatch(a.sync.actions.unsubscribe({ channel: name, config: { postgresChanges: [byRoom] } }));
    expect(channel()?.config.postgresChanges).toEqual([byTag]);
    const later = freshId();
    await insert(later, r, t);
    await waitFor(() => heardTag.includes(later));
    expect(joins).toHaveLength(2);
    expect(heardTag).toEqual([tagOnly, later]);
    expect(heardAll).toEqual([first, held, gap, tagOnly, roomOnly, later]);
    for (const action of a.recorded) expect(findNonSerializableValue(action)).toBe(false);
    expect(findNonSerializableValue(a.store.getState())).toBe(false);
  });

  it('a binding the server refuses fails the channel\'s join (it waits for live bindings) until its subscriber leaves; then a rejoin without it resumes and loses nothing', async () => {
    const name = room();
    const good = { event: '*' as const, schema: 'public', table: 'rt_bindings_items', filter: `room=eq.${name}` };
    const bad = { event: '*' as const, schema: 'public', table: 'rt_bindings_items', filter: 'id=eq.abc' };
    const a = makeStore();
    const channel = () => a.sync.selectors.selectChannel(a.store.getState(), name);
    const heard: number[] = [];
    a.sync.runtime.listen(name, { kind: 'postgres_changes', binding: good, handler: (changes) => heard.push(...changes.map((c) => c.new.id as number)) });
    a.store.dispatch(a.sync.actions.subscribe({ channel: name, config: { postgresChanges: [good] } }));
    await waitFor(() => channel()?.changesLive);
    const [before, whileRefused, after] = [freshId(), freshId(), freshId()];
    await sql('insert into rt_bindings_items (id, room) values ($1, $2)', [before, name]);
    await waitFor(() => heard.length === 1);

    a.store.dispatch(a.sync.actions.subscribe({ channel: name, config: { postgresChanges: [bad] } }));
    // The join waits for its bindings to be live (postgres_changes_options.wait): one refused binding
    // refuses the join, with the server's reason, and the channel keeps retrying it.
    await waitFor(() => (channel()?.status === 'errored' && channel()!.error) || undefined);
    expect(channel()!.error).toMatch(/abc/);
    expect(channel()!.changesLive).toBe(false);
    await sql('insert into rt_bindings_items (id, room) values ($1, $2)', [whileRefused, name]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(heard).toEqual([before]); // Supabase's semantics: the channel's bindings are subscribed together

    a.store.dispatch(a.sync.actions.unsubscribe({ channel: name, config: { postgresChanges: [bad] } }));
    await waitFor(() => channel()?.changesLive);
    expect(channel()!.error).toBeNull();
    await waitFor(() => heard.length === 2); // replayed: the rejoin resumed after `before`
    await sql('insert into rt_bindings_items (id, room) values ($1, $2)', [after, name]);
    await waitFor(() => heard.length === 3);
    expect(heard).toEqual([before, whileRefused, after]);
  });

  it('after the realtime server restarts, rejoins with its position and is told to resync what it could not replay', async () => {
    const stack = testStack();
    let server = await createRealtimeServer({ jwtSecret: stack.jwtSecret, databaseUrl: stack.databaseUrl, onError: () => undefined });
    servers.push(server);
    const port = server.port;
    const name = room();
    const a = makeStore({ url: server.url });
    const heard: RealtimeChange[] = [];
    a.sync.runtime.listen(name, { kind: 'postgres_changes', handler: (changes) => heard.push(...changes) });
    a.store.dispatch(a.sync.actions.subscribe({ channel: name, config: { postgresChanges: [{ event: 'INSERT', schema: 'public', table: 'sync_notes', filter: `room=eq.${name}` }] } }));
    await waitFor(() => a.sync.selectors.selectChannel(a.store.getState(), name)?.changesLive);
    const before = freshId();
    await sql('insert into sync_notes (id, room) values ($1, $2)', [before, name]);
    await waitFor(() => heard.length === 1);
    await server.close();
    // Written while no server runs: only a resume can deliver them (no resync: the new server's log starts after them).
    const missed = [freshId(), freshId()];
    await sql(`insert into sync_notes (id, room) select unnest($1::int4[]), $2`, [missed, name]);
    server = await createRealtimeServer({ jwtSecret: stack.jwtSecret, databaseUrl: stack.databaseUrl, port, onError: () => undefined });
    servers.push(server);
    await waitFor(() => a.sync.selectors.selectChannel(a.store.getState(), name)?.changesLive, 20_000);
    const after = freshId();
    await sql('insert into sync_notes (id, room) values ($1, $2)', [after, name]);
    await waitFor(() => heard.some((change) => change.new.id === after), 15_000);
    const resyncs = a.recorded.filter((action) => action.type === `${a.sync.reducerPath}/resyncRequested`);
    // The new server can't replay what happened while it was down: it must say resync instead.
    expect(resyncs).toHaveLength(1);
    expect(heard.map((change) => change.new.id)).toEqual([before, after]);
  });

  it('replaying recorded actions into a fresh store opens no socket and sends nothing', async () => {
    const name = room();
    const a = makeStore();
    a.store.dispatch(a.sync.actions.subscribe({ channel: name, config: { presenceKey: 'replayed' } }));
    await waitFor(() => a.sync.selectors.selectChannel(a.store.getState(), name)?.status === 'joined');
    await a.store.dispatch(a.sync.actions.track({ channel: name, state: { here: true } }) as never);
    a.store.dispatch(a.sync.actions.broadcast({ channel: name, event: 'x', payload: 1 }));
    let sockets = 0;
    class CountingWebSocket extends WebSocket {
      constructor(url: string) {
        super(url);
        sockets++;
      }
    }
    const fresh = makeStore({ WebSocket: CountingWebSocket });
    const recorded = [...a.recorded];
    const expected = a.sync.selectors.selectChannel(a.store.getState(), name);
    for (const action of recorded) fresh.store.dispatch(action);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sockets).toBe(0);
    // The mirror was replayed all the same.
    expect(fresh.sync.selectors.selectChannel(fresh.store.getState(), name)).toEqual(expected);
  });

  it('sends a refreshed token to joined channels: RLS follows the new user without a rejoin', async () => {
    const stack = testStack();
    const [alice, bob] = [crypto.randomUUID(), crypto.randomUUID()];
    await sql('insert into authors (id, name) values ($1, $2), ($3, $4)', [alice, `alice-${alice}`, bob, `bob-${bob}`]);
    let token: string | null = stack.signToken({ sub: alice });
    const name = room();
    const a = makeStore({ getToken: () => token });
    const heard: RealtimeChange[] = [];
    a.sync.runtime.listen(name, { kind: 'postgres_changes', handler: (changes) => heard.push(...changes) });
    a.store.dispatch(a.sync.actions.subscribe({ channel: name, config: { broadcast: { ack: true }, postgresChanges: [{ event: 'INSERT', schema: 'public', table: 'posts' }] } }));
    await waitFor(() => a.sync.selectors.selectChannel(a.store.getState(), name)?.changesLive);
    const write = async (author: string, title: string) => sql('insert into posts (author_id, title) values ($1, $2)', [author, title]);
    const titles = () => heard.map((change) => change.new.title).filter((title) => String(title).startsWith(name));
    await write(bob, `${name} bob 1`);
    await write(alice, `${name} alice 1`);
    await waitFor(() => titles().length === 1);
    token = stack.signToken({ sub: bob });
    await a.store.dispatch(a.sync.actions.refreshAuth() as never);
    // An acked broadcast on the same socket: the server has handled the token push before it answers.
    await (a.store.dispatch(a.sync.actions.broadcast({ channel: name, event: 'sync', payload: {} })) as unknown as Promise<unknown>);
    await write(alice, `${name} alice 2`);
    await write(bob, `${name} bob 2`);
    await waitFor(() => titles().length === 2);
    token = null; // signed out: back to the anon key, which sees no unpublished post
    await a.store.dispatch(a.sync.actions.refreshAuth() as never);
    await (a.store.dispatch(a.sync.actions.broadcast({ channel: name, event: 'sync', payload: {} })) as unknown as Promise<unknown>);
    await write(bob, `${name} bob 3`);
    await sql('insert into posts (author_id, title, published) values ($1, $2, true)', [alice, `${name} alice published`]);
    await waitFor(() => titles().length === 3);
    expect(titles()).toEqual([`${name} alice 1`, `${name} bob 2`, `${name} alice published`]);
  });
});

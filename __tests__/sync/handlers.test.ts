/**
 * The middleware's handlers alone, against a fake context: what each pushes and dispatches for
 * the actions, channel statuses and messages it owns, and that it leaves the rest to others.
 */
import type { UnknownAction } from '@reduxjs/toolkit';
import { broadcastHandler } from '../../lib/sync/handlers/broadcast.js';
import { changesHandler } from '../../lib/sync/handlers/changes.js';
import { channelsHandler } from '../../lib/sync/handlers/channels.js';
import { connectionHandler } from '../../lib/sync/handlers/connection.js';
import { presenceHandler } from '../../lib/sync/handlers/presence.js';
import type { ChannelListener, HandlerContext } from '../../lib/sync/handlers/types.js';
import { createSyncActions, createSyncSlice, initialSyncState, type SyncState } from '../../lib/sync/slice.js';

const actions = createSyncActions('sync', 'test');
const { reducer } = createSyncSlice('sync', actions);

function fakeContext(state: SyncState, listeners: ChannelListener[] = []) {
  const pushes: Array<[string, string, unknown, unknown]> = [];
  /** Every socket call besides push, in order: [method, ...arguments]. */
  const calls: unknown[][] = [];
  const socket = {
    push: (topic: string, event: string, payload: unknown, options?: unknown) => (pushes.push([topic, event, payload, options]), Promise.resolve({ status: 'ok', response: {} })),
    connect: () => calls.push(['connect']),
    disconnect: () => calls.push(['disconnect']),
    setAuth: (token: string | null) => calls.push(['setAuth', token]),
    join: (topic: string, payload: () => object) => calls.push(['join', topic, payload()]),
    rejoin: (topic: string) => calls.push(['rejoin', topic]),
    leave: (topic: string) => calls.push(['leave', topic]),
    state: 'open',
  };
  const dispatched: UnknownAction[] = [];
  const warnings: string[] = [];
  const context: HandlerContext = {
    actions,
    // Dispatched actions reach the mirror, as in a store.
    dispatch: (action) => {
      dispatched.push(action);
      state = reducer(state, action);
      return action;
    },
    getState: () => ({ sync: state }),
    mirror: () => state,
    ensureSocket: () => socket as never,
    flushChanges: () => calls.push(['flushChanges']),
    changesReceived: (channel, changes) => calls.push(['changesReceived', channel, changes.length]),
    socket: () => socket as never,
    listeners: () => new Set(listeners),
    safely: (run) => run(),
    notConnected: () => Promise.resolve({ status: 'error', response: { reason: 'not connected' } }),
    warn: (message) => warnings.push(message),
    now: () => 0,
    timers: { setTimeout: () => 0, clearTimeout: () => undefined },
  };
  return { context, pushes, dispatched, warnings, calls, socket };
}

const subscribed = (tracked: Record<string, unknown> | null) => {
  let state = reducer(initialSyncState, actions.subscribe({ channel: 'room', config: { presenceKey: 'me' } }));
  if (tracked) state = reducer(state, actions.track({ channel: 'room', state: tracked }));
  return state;
};

describe('presence handler: the one place that tracks', () => {
  it('tracks what the mirror holds each time the channel joins, and nothing when nothing is tracked or the channel is not joined', () => {
    const { context, pushes } = fakeContext(subscribed({ status: 'online' }));
    const handler = presenceHandler(context);
    handler.onSocketEvent!({ type: 'channel', topic: 'realtime:room', status: 'joining' });
    handler.onSocketEvent!({ type: 'channel', topic: 'realtime:room', status: 'joined' });
    handler.onSocketEvent!({ type: 'channel', topic: 'realtime:room', status: 'joined' }); // a rejoin
    expect(pushes).toEqual([
      ['realtime:room', 'presence', { type: 'presence', event: 'track', payload: { status: 'online' } }, undefined],
      ['realtime:room', 'presence', { type: 'presence', event: 'track', payload: { status: 'online' } }, undefined],
    ]);
    const quiet = fakeContext(subscribed(null));
    presenceHandler(quiet.context).onSocketEvent!({ type: 'channel', topic: 'realtime:room', status: 'joined' });
    expect(quiet.pushes).toEqual([]);
  });

  it('answers track and untrack with the push, and leaves other actions alone', async () => {
    const { context, pushes } = fakeContext(subscribed(null));
    const handler = presenceHandler(context);
    expect(await handler.onAction!(actions.track({ channel: 'room', state: { a: 1 } }), context.mirror())).toEqual({ status: 'ok', response: {} });
    await handler.onAction!(actions.untrack({ channel: 'room' }), context.mirror());
    expect(handler.onAction!(actions.broadcast({ channel: 'room', event: 'e', payload: {} }), context.mirror())).toBeUndefined();
    expect(pushes.map(([, , payload]) => (payload as { event: string }).event)).toEqual(['track', 'untrack']);
  });

  it('holds a diff until the current join\'s state arrived, then mirrors the merged presence', () => {
    const { context, dispatched } = fakeContext(subscribed(null));
    const handler = presenceHandler(context);
    const diff = { joins: { bob: { metas: [{ phx_ref: 'b1' }] } }, leaves: {} };
    expect(handler.onMessage!('room', 'presence_diff', diff, '1')).toBe('handled');
    expect(dispatched).toEqual([]);
    expect(handler.onMessage!('room', 'presence_state', { ann: { metas: [{ phx_ref: 'a1' }] } }, '1')).toBe('handled');
    expect(dispatched.map((action) => action.payload)).toEqual([{ channel: 'room', state: { ann: [{ phx_ref: 'a1' }], bob: [{ phx_ref: 'b1' }] } }]);
    expect(handler.onMessage!('room', 'broadcast', {}, '1')).toBeUndefined();
  });
});

describe('broadcast handler', () => {
  it('pushes awaiting a reply only with ack, and hands received broadcasts to the matching listeners', () => {
    const heard: unknown[] = [];
    const listeners: ChannelListener[] = [
      { kind: 'broadcast', event: 'cursor', handler: (payload) => heard.push(['cursor', payload]) },
      { kind: 'broadcast', event: '*', handler: (payload) => heard.push(['any', payload]) },
      { kind: 'broadcast', event: 'other', handler: (payload) => heard.push(['other', payload]) },
    ];
    const { context, pushes } = fakeContext(reducer(initialSyncState, actions.subscribe({ channel: 'room', config: { broadcast: { ack: true } } })), listeners);
    const handler = broadcastHandler(context);
    void handler.onAction!(actions.broadcast({ channel: 'room', event: 'cursor', payload: { x: 1 } }), context.mirror());
    expect(pushes).toEqual([['realtime:room', 'broadcast', { type: 'broadcast', event: 'cursor', payload: { x: 1 } }, { awaitReply: true }]]);
    expect(handler.onMessage!('room', 'broadcast', { event: 'cursor', payload: { x: 2 } }, null)).toBe('record');
    expect(heard).toEqual([['cursor', { x: 2 }], ['any', { x: 2 }]]);
    expect(handler.onMessage!('room', 'presence_diff', {}, null)).toBeUndefined();
  });
});

describe('connection handler', () => {
  it('connects and disconnects the socket, sends the token when it opens and on heartbeats, and mirrors its status', async () => {
    const tokens = ['t1', null, 't3'];
    const { context, calls, dispatched, warnings } = fakeContext(initialSyncState);
    const handler = connectionHandler(context, { apiKey: 'anon', getToken: () => tokens.shift(), environment: false });
    expect(handler.onAction!(actions.connect(), context.mirror())).toBeUndefined();
    await Promise.resolve();
    handler.onSocketEvent!({ type: 'status', status: 'open' });
    await Promise.resolve();
    handler.onSocketEvent!({ type: 'heartbeat', status: 'ok' }); // only a sent beat asks for the token
    handler.onSocketEvent!({ type: 'heartbeat', status: 'sent' });
    await Promise.resolve();
    handler.onAction!(actions.disconnect(), context.mirror());
    // Signed out (null): back to the anon key.
    expect(calls).toEqual([['connect'], ['setAuth', 't1'], ['setAuth', 'anon'], ['setAuth', 't3'], ['disconnect']]);
    expect(dispatched.map((action) => [action.type, (action.payload as { status?: string }).status])).toEqual([['sync/connectionChanged', 'open']]);
    handler.onSocketEvent!({ type: 'error', code: 'bad_frame', message: 'not JSON' });
    expect(warnings).toEqual(['[rtk-postgrest sync] bad_frame: not JSON']);
  });

  it('back online (environmentChanged from the browser or the app), a reconnect waiting out its backoff is tried at once', async () => {
    const { context, calls, socket } = fakeContext(initialSyncState);
    const handler = connectionHandler(context, { getToken: () => null, environment: false });
    handler.onAction!(actions.connect(), context.mirror());
    await Promise.resolve();
    calls.length = 0;
    (socket as { state: string }).state = 'reconnecting';
    handler.onAnyAction!(actions.environmentChanged({ online: false }), undefined);
    expect(calls).toEqual([]);
    handler.onAnyAction!(actions.environmentChanged({ online: true }), undefined);
    expect(calls).toEqual([['connect']]);
    // Not when the socket is open, nor once the app no longer wants it.
    (socket as { state: string }).state = 'open';
    handler.onAnyAction!(actions.environmentChanged({ online: true }), undefined);
    handler.onAction!(actions.disconnect(), context.mirror());
    (socket as { state: string }).state = 'reconnecting';
    handler.onAnyAction!(actions.environmentChanged({ online: true }), undefined);
    expect(calls).toEqual([['connect'], ['disconnect']]);
  });

  it('answers refreshAuth with a promise that settles once the token is sent, and turns a failing getToken into a warning', async () => {
    const { context, calls, warnings } = fakeContext(initialSyncState);
    const handler = connectionHandler(context, { getToken: () => Promise.reject(new Error('expired')), environment: false });
    await handler.onAction!(actions.refreshAuth(), context.mirror());
    expect(calls).toEqual([]);
    expect(warnings).toEqual(['[rtk-postgrest sync] getToken failed: expired']);
  });
});

describe('channels handler', () => {
  const table = { event: '*' as const, schema: 'public', table: 'notes' };

  it('joins on the first subscriber (connecting an idle mirror first), rejoins only for a binding the last join lacked, and leaves after the last', () => {
    const { context, calls, dispatched } = fakeContext(initialSyncState);
    const handler = channelsHandler(context, 4000);
    const run = (action: UnknownAction) => {
      const before = context.mirror();
      context.dispatch(action);
      handler.onAction!(action, before);
    };
    run(actions.subscribe({ channel: 'feed', config: { postgresChanges: [table] } }));
    expect(dispatched.map((action) => action.type)).toEqual(['sync/subscribe', 'sync/connect']);
    expect(calls).toEqual([
      ['join', 'realtime:feed', { config: expect.objectContaining({ postgres_changes: [table], postgres_changes_options: { wait: true, timeout: 4000 }, private: false }) }],
    ]);
    run(actions.subscribe({ channel: 'feed', config: { postgresChanges: [table] } })); // the same binding: nothing to tell the server
    expect(calls).toHaveLength(1);
    run(actions.subscribe({ channel: 'feed', config: { postgresChanges: [{ ...table, event: 'INSERT' as const }] } }));
    // Changes received so far are delivered before the new join replaces the old one.
    expect(calls.slice(1)).toEqual([['flushChanges'], ['rejoin', 'realtime:feed']]);
    run(actions.unsubscribe({ channel: 'feed' }));
    run(actions.unsubscribe({ channel: 'feed' }));
    expect(calls.slice(3)).toEqual([]);
    run(actions.unsubscribe({ channel: 'feed' }));
    expect(calls.slice(3)).toEqual([['leave', 'realtime:feed']]);
  });

  it('mirrors a channel status with the bindings the join reply confirmed, after delivering earlier changes; ignores channels not subscribed', () => {
    const { context, calls, dispatched, warnings } = fakeContext(reducer(initialSyncState, actions.subscribe({ channel: 'feed', config: { postgresChanges: [table] } })));
    const handler = channelsHandler(context, 4000);
    handler.onSocketEvent!({ type: 'channel', topic: 'realtime:other', status: 'joined', response: {} });
    expect(dispatched).toEqual([]);
    handler.onSocketEvent!({ type: 'channel', topic: 'realtime:feed', status: 'joined', response: { postgres_changes: [{ ...table, id: 7 }, { nonsense: true }] } });
    expect(calls).toEqual([['flushChanges']]);
    expect(context.mirror().channels.feed!.serverBindings).toEqual([expect.objectContaining({ ...table, id: 7 })]);
    expect(context.mirror().channels.feed!.status).toBe('joined');
    expect(warnings).toEqual(['[rtk-postgrest sync] join reply of "feed": malformed binding {"nonsense":true}: ignored']);
  });
});

describe('changes handler', () => {
  const change = (id: number, position: string, type = 'INSERT') => ({ ids: [1], position, data: { type, schema: 'public', table: 'notes', commit_timestamp: null, record: { id }, old_record: type === 'LEAVE' ? { id } : {}, columns: [] } });
  const subscribedTo = (leaveEvents: boolean) => reducer(initialSyncState, actions.subscribe({ channel: 'feed', config: { postgresChanges: [{ event: '*', schema: 'public', table: 'notes' }], ...(leaveEvents && { leaveEvents: true }) } }));

  it('delivers the changes of one tick in one dispatch and one listener call, dropping replays at or before the last position', async () => {
    const heard: number[][] = [];
    const { context, dispatched } = fakeContext(subscribedTo(false), [{ kind: 'postgres_changes', handler: (changes) => heard.push(changes.map((c) => c.new.id as number)) }]);
    const handler = changesHandler(context);
    for (const [id, position] of [[1, '0/10'], [2, '0/20'], [1, '0/10'], [3, '0/30']] as const) expect(handler.onMessage!('feed', 'postgres_changes', change(id, position), '1')).toBe('handled');
    expect(dispatched).toEqual([]);
    await Promise.resolve();
    expect(heard).toEqual([[1, 2, 3]]);
    expect(dispatched.map((action) => action.payload)).toEqual([{ positions: [{ channel: 'feed', position: '0/30' }], entries: [], at: 0 }]);
    handler.onMessage!('feed', 'postgres_changes', change(3, '0/30'), '1'); // the mirror's position now drops it
    await Promise.resolve();
    expect(heard).toHaveLength(1);
  });

  it('refuses a LEAVE the join did not ask for, keeps LEAVEs from listeners, and warns about malformed payloads', async () => {
    const heard: unknown[] = [];
    const listener: ChannelListener = { kind: 'postgres_changes', handler: (changes) => heard.push(...changes) };
    const plain = fakeContext(subscribedTo(false), [listener]);
    changesHandler(plain.context).onMessage!('feed', 'postgres_changes', change(1, '0/10', 'LEAVE'), '1');
    changesHandler(plain.context).onMessage!('feed', 'postgres_changes', { data: 'nonsense' }, '1');
    await Promise.resolve();
    expect(plain.warnings).toEqual(['[rtk-postgrest sync] LEAVE on "feed", whose join did not ask for leave_events: ignored', '[rtk-postgrest sync] malformed postgres_changes on "feed": ignored']);
    const live = fakeContext(subscribedTo(true), [listener]);
    changesHandler(live.context).onMessage!('feed', 'postgres_changes', change(1, '0/10', 'LEAVE'), '1');
    await Promise.resolve();
    expect(heard).toEqual([]); // listeners keep Supabase's semantics
    expect(live.context.mirror().channels.feed!.position).toBe('0/10'); // but the position advanced
  });

  it('orders notices after the changes before them: live, resync, error mirrored; other system messages only recorded', () => {
    const { context, dispatched } = fakeContext(subscribedTo(false));
    const handler = changesHandler(context);
    handler.onMessage!('feed', 'postgres_changes', change(1, '0/10'), '1');
    expect(handler.onMessage!('feed', 'system', { extension: 'postgres_changes', status: 'ok', message: 'Subscribed to PostgreSQL', position: '0/10' }, '1')).toBe('handled');
    expect(context.mirror().channels.feed).toEqual(expect.objectContaining({ changesLive: true, position: '0/10' }));
    expect(handler.onMessage!('feed', 'system', { extension: 'postgres_changes', resync: true, reason: 'lagging', position: '0/40' }, '1')).toBe('handled');
    expect(handler.onMessage!('feed', 'system', { extension: 'postgres_changes', status: 'error', message: 'no such table' }, '1')).toBe('handled');
    expect(handler.onMessage!('feed', 'system', { extension: 'broadcast', status: 'ok' }, '1')).toBe('record');
    expect(handler.onMessage!('feed', 'presence_diff', {}, '1')).toBeUndefined();
    expect(dispatched.map((action) => action.type)).toEqual(['sync/changesApplied', 'sync/changesLive', 'sync/resyncRequested', 'sync/channelChanged']);
    // The error keeps the channel's status (here still joining, so no longer live) and names the server's reason.
    expect(context.mirror().channels.feed).toEqual(expect.objectContaining({ status: 'joining', changesLive: false, position: '0/40', error: 'no such table' }));
  });
});

/**
 * The mirror's channel configuration as a pure reducer: the union of the subscribers' bindings
 * with a count per binding, settings taken from the first subscriber that sets them, and the
 * server's binding ids with their live flags across rejoins.
 */
import { bindingKey, createSyncActions, createSyncSlice, initialSyncState, type PostgresChangesBinding, type SyncState } from '../../lib/sync/slice.js';
import type { UnknownAction } from '@reduxjs/toolkit';

const actions = createSyncActions('sync', 'test-instance');
const { reducer } = createSyncSlice('sync', actions);
const run = (...list: UnknownAction[]): SyncState => list.reduce<SyncState>((state, action) => reducer(state, action), initialSyncState);

const a: PostgresChangesBinding = { event: '*', schema: 'public', table: 'notes', filter: 'room=eq.1' };
const b: PostgresChangesBinding = { event: 'INSERT', schema: 'public', table: 'items' };
const key = bindingKey;

describe('channel config: union of bindings with a count each', () => {
  it('deduplicates equal bindings across and within subscribers, counts them, and drops a binding with its last subscriber', () => {
    let state = run(
      actions.subscribe({ channel: 'room', config: { postgresChanges: [a] } }),
      // An equal binding spelled with its keys in another order and a duplicate inside one config.
      actions.subscribe({ channel: 'room', config: { postgresChanges: [{ filter: 'room=eq.1', table: 'notes', schema: 'public', event: '*' }, b, b] } }),
      actions.subscribe({ channel: 'room', config: {} }),
    );
    let channel = state.channels.room!;
    expect(channel.subscribers).toBe(3);
    expect(channel.config.postgresChanges).toEqual([a, b]);
    expect(channel.bindingSubscribers).toEqual({ [key(a)]: 2, [key(b)]: 1 });

    state = reducer(state, actions.unsubscribe({ channel: 'room', config: { postgresChanges: [b, b] } }));
    channel = state.channels.room!;
    expect(channel.subscribers).toBe(2);
    expect(channel.config.postgresChanges).toEqual([a]);
    expect(channel.bindingSubscribers).toEqual({ [key(a)]: 2 });

    state = reducer(state, actions.unsubscribe({ channel: 'room', config: { postgresChanges: [a] } }));
    expect(state.channels.room!.config.postgresChanges).toEqual([a]);
    expect(state.channels.room!.bindingSubscribers).toEqual({ [key(a)]: 1 });
    // An unsubscribe without config (live queries) only lowers the channel's count.
    state = reducer(state, actions.subscribe({ channel: 'room', config: { postgresChanges: [b] } }));
    state = reducer(state, actions.unsubscribe({ channel: 'room' }));
    expect(state.channels.room!.subscribers).toBe(1);
    expect(state.channels.room!.bindingSubscribers).toEqual({ [key(a)]: 1, [key(b)]: 1 });
    // The channel goes with its last subscriber, whatever its bindings' counts.
    state = reducer(state, actions.unsubscribe({ channel: 'room', config: { postgresChanges: [a] } }));
    expect(state.channels.room).toBeUndefined();
  });

  it('a binding without table or filter differs from one with them; the last removal leaves no postgresChanges key', () => {
    const schemaOnly: PostgresChangesBinding = { event: '*', schema: 'public' };
    let state = run(
      actions.subscribe({ channel: 'room', config: { postgresChanges: [schemaOnly] } }),
      actions.subscribe({ channel: 'room', config: { postgresChanges: [{ ...schemaOnly, table: 'notes' }] } }),
    );
    expect(state.channels.room!.config.postgresChanges).toEqual([schemaOnly, { ...schemaOnly, table: 'notes' }]);
    state = reducer(state, actions.unsubscribe({ channel: 'room', config: { postgresChanges: [schemaOnly] } }));
    state = reducer(state, actions.unsubscribe({ channel: 'room', config: { postgresChanges: [{ ...schemaOnly, table: 'notes' }] } }));
    expect(state.channels.room).toBeUndefined();
    state = run(
      actions.subscribe({ channel: 'room', config: { postgresChanges: [schemaOnly] } }),
      actions.subscribe({ channel: 'room', config: { presenceKey: 'x' } }),
      actions.unsubscribe({ channel: 'room', config: { postgresChanges: [schemaOnly] } }),
    );
    expect(state.channels.room!.config).toEqual({ presenceKey: 'x' });
    expect(state.channels.room!.bindingSubscribers).toEqual({});
  });

  it('settings: the first subscriber that sets one wins, a later one fills what is unset', () => {
    const state = run(
      actions.subscribe({ channel: 'room', config: { postgresChanges: [a] } }),
      actions.subscribe({ channel: 'room', config: { presenceKey: 'alice', broadcast: { self: true } } }),
      actions.subscribe({ channel: 'room', config: { presenceKey: 'bob', broadcast: { ack: true }, private: false } }),
    );
    expect(state.channels.room!.config).toEqual({ postgresChanges: [a], presenceKey: 'alice', broadcast: { self: true }, private: false });
  });

  it('malformed configs and bindings are skipped, never thrown on', () => {
    const state = run(
      actions.subscribe({ channel: 'room', config: { postgresChanges: 'nope' as never } }),
      actions.subscribe({ channel: 'room', config: { postgresChanges: [null, 3, { event: '*' }, { schema: 'public' }, a] as never } }),
      actions.subscribe({ channel: 'room', config: null as never }),
      actions.unsubscribe({ channel: 'room', config: { postgresChanges: [{ event: 'INSERT', schema: 'other' }] } }),
    );
    expect(state.channels.room!.subscribers).toBe(2);
    expect(state.channels.room!.config.postgresChanges).toEqual([a]);
    expect(state.channels.room!.bindingSubscribers).toEqual({ [key(a)]: 1 });
  });
});

describe('server bindings: ids from the join reply, live once "Subscribed to PostgreSQL"', () => {
  it('a rejoin keeps live the bindings that were live; a new one waits for the next confirmation', () => {
    let state = run(
      actions.subscribe({ channel: 'room', config: { postgresChanges: [a] } }),
      actions.channelChanged({ channel: 'room', status: 'joined', serverBindings: [{ ...a, id: 11 }] }),
    );
    expect(state.channels.room!.serverBindings).toEqual([{ ...a, id: 11, live: false }]);
    state = reducer(state, actions.changesLive({ channel: 'room', live: true, at: 1 }));
    expect(state.channels.room!.serverBindings).toEqual([{ ...a, id: 11, live: true }]);

    state = reducer(state, actions.subscribe({ channel: 'room', config: { postgresChanges: [b] } }));
    state = reducer(state, actions.channelChanged({ channel: 'room', status: 'joining' }));
    expect(state.channels.room!.serverBindings).toEqual([{ ...a, id: 11, live: true }]); // until the new reply
    state = reducer(state, actions.channelChanged({ channel: 'room', status: 'joined', serverBindings: [{ ...a, id: 11 }, { ...b, id: 22 }] }));
    expect(state.channels.room!.serverBindings).toEqual([{ ...a, id: 11, live: true }, { ...b, id: 22, live: false }]);
    state = reducer(state, actions.changesLive({ channel: 'room', live: true, at: 2 }));
    expect(state.channels.room!.serverBindings.map((binding) => binding.live)).toEqual([true, true]);
  });
});

describe('channel error', () => {
  it('an error reported on a joined channel (a refused binding) stays until the next join is answered ok', () => {
    let state = run(
      actions.subscribe({ channel: 'room', config: { postgresChanges: [a] } }),
      actions.channelChanged({ channel: 'room', status: 'joined', serverBindings: [] }),
      actions.channelChanged({ channel: 'room', status: 'joined', error: 'invalid input syntax for type integer: "abc"' }),
    );
    expect(state.channels.room!.error).toBe('invalid input syntax for type integer: "abc"');
    state = reducer(state, actions.channelChanged({ channel: 'room', status: 'joining' }));
    expect(state.channels.room!.error).toBe('invalid input syntax for type integer: "abc"');
    state = reducer(state, actions.channelChanged({ channel: 'room', status: 'joined', serverBindings: [] }));
    expect(state.channels.room!.error).toBeNull();
  });
});

describe('connection status: the socket machine\'s transitions, not the slice\'s own', () => {
  it.each([
    ['idle', 'connecting'],
    ['closed', 'connecting'],
    ['connecting', 'connecting'],
    ['open', 'open'],
    // A connect while a reconnect waits out its backoff skips the rest of it (machines.ts).
    ['reconnecting', 'connecting'],
  ] as const)('connect from %s mirrors %s, and disconnect from there is closed', (from, expected) => {
    const at = 1;
    const before = from === 'idle' ? initialSyncState : run(actions.connectionChanged({ status: from, at }));
    expect(before.connection.status).toBe(from);
    const connected = reducer(before, actions.connect());
    expect(connected.connection.status).toBe(expected);
    expect(reducer(connected, actions.disconnect()).connection.status).toBe('closed');
  });
});

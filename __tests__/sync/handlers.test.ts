/**
 * The middleware's handlers alone, against a fake context: what each pushes and dispatches for
 * the actions, channel statuses and messages it owns, and that it leaves the rest to others.
 */
import type { UnknownAction } from '@reduxjs/toolkit';
import { broadcastHandler } from '../../lib/sync/handlers/broadcast.js';
import { presenceHandler } from '../../lib/sync/handlers/presence.js';
import type { HandlerContext } from '../../lib/sync/handlers/types.js';
import type { ChannelListener } from '../../lib/sync/middleware.js';
import { createSyncActions, createSyncSlice, initialSyncState, type SyncState } from '../../lib/sync/slice.js';

const actions = createSyncActions('sync', 'test');
const { reducer } = createSyncSlice('sync', actions);

function fakeContext(state: SyncState, listeners: ChannelListener[] = []) {
  const pushes: Array<[string, string, unknown, unknown]> = [];
  const dispatched: UnknownAction[] = [];
  const context: HandlerContext = {
    actions,
    dispatch: (action) => dispatched.push(action),
    mirror: () => state,
    socket: () => ({ push: (topic: string, event: string, payload: unknown, options?: unknown) => (pushes.push([topic, event, payload, options]), Promise.resolve({ status: 'ok', response: {} })) }) as never,
    listeners: () => new Set(listeners),
    safely: (run) => run(),
    notConnected: () => Promise.resolve({ status: 'error', response: { reason: 'not connected' } }),
  };
  return { context, pushes, dispatched };
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
    handler.onChannelStatus!('room', 'joining');
    handler.onChannelStatus!('room', 'joined');
    handler.onChannelStatus!('room', 'joined'); // a rejoin
    expect(pushes).toEqual([
      ['realtime:room', 'presence', { type: 'presence', event: 'track', payload: { status: 'online' } }, undefined],
      ['realtime:room', 'presence', { type: 'presence', event: 'track', payload: { status: 'online' } }, undefined],
    ]);
    const quiet = fakeContext(subscribed(null));
    presenceHandler(quiet.context).onChannelStatus!('room', 'joined');
    expect(quiet.pushes).toEqual([]);
  });

  it('answers track and untrack with the push, and leaves other actions alone', async () => {
    const { context, pushes } = fakeContext(subscribed(null));
    const handler = presenceHandler(context);
    expect(await handler.onAction!(actions.track({ channel: 'room', state: { a: 1 } }))).toEqual({ status: 'ok', response: {} });
    await handler.onAction!(actions.untrack({ channel: 'room' }));
    expect(handler.onAction!(actions.broadcast({ channel: 'room', event: 'e', payload: {} }))).toBeUndefined();
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
    void handler.onAction!(actions.broadcast({ channel: 'room', event: 'cursor', payload: { x: 1 } }));
    expect(pushes).toEqual([['realtime:room', 'broadcast', { type: 'broadcast', event: 'cursor', payload: { x: 1 } }, { awaitReply: true }]]);
    expect(handler.onMessage!('room', 'broadcast', { event: 'cursor', payload: { x: 2 } }, null)).toBe('record');
    expect(heard).toEqual([['cursor', { x: 2 }], ['any', { x: 2 }]]);
    expect(handler.onMessage!('room', 'presence_diff', {}, null)).toBeUndefined();
  });
});

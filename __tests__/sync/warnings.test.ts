/**
 * What the sync middleware does with frames it can't use: malformed frames, malformed changes,
 * unknown events, messages for channels it never joined, changes of another table on a live
 * channel. Each is ignored with a development warning; nothing throws inside the store, the state
 * stays serializable, and the good frames around them still apply.
 *
 * A unit test of the middleware module: the realtime server is a fake socket (vsn 1.0.0 frames),
 * PostgREST an in-memory fetch.
 */
import { findNonSerializableValue } from '@reduxjs/toolkit';
import { from } from '../../lib/postgrest';
import { FakeSocket, fakeStore, memoryPostgrest, tick, until } from './support/fakeRealtime';

test('frames it cannot use are ignored with a warning each; good frames around them still apply', async () => {
  const postgrest = memoryPostgrest();
  const { api, store, sync, warnings } = fakeStore(postgrest.fetchFn);
  const request = from('notes').select('id,title').order('id').toRequest();
  const subscription = store.dispatch(api.endpoints.live.initiate(request as never));
  const topic = 'realtime:live:public.notes';
  expect(await until(() => api.endpoints.live.select(request as never)(store.getState() as never).status === 'fulfilled')).toBe(true);
  const socket = FakeSocket.last;
  const rows = () => api.endpoints.live.select(request as never)(store.getState() as never).data;

  const cases: Array<[string, () => void, RegExp]> = [
    ['not JSON', () => socket.receive('{"topic": nope'), /./],
    ['a change without data', () => socket.receive({ topic, event: 'postgres_changes', ref: null, join_ref: socket.joins.get(topic), payload: { ids: [1] } }), /malformed postgres_changes on "live:public.notes": ignored/],
    ['a change of an unknown type', () => socket.receive({ topic, event: 'postgres_changes', ref: null, join_ref: socket.joins.get(topic), payload: { ids: [1], data: { type: 'MERGE', schema: 'public', table: 'notes' } } }), /malformed postgres_changes/],
    ['an unknown event', () => socket.receive({ topic, event: 'surprise', ref: null, join_ref: socket.joins.get(topic), payload: {} }), /unknown event "surprise" on channel "live:public.notes": ignored/],
    ['a message for a channel never joined', () => socket.receive({ topic: 'realtime:elsewhere', event: 'broadcast', ref: null, join_ref: '9', payload: { event: 'x', payload: {} } }), /UNKNOWN_TOPIC: broadcast for realtime:elsewhere, which is not joined: ignored/],
    ['a change of another table on a live channel', () => socket.change(topic, 'other', 'INSERT', { id: 7, title: 'x' }, 2), /1 change\(s\) on live:public\.notes for another table: ignored/],
  ];
  for (const [name, send, expected] of cases) {
    const before = warnings.length;
    expect(send).not.toThrow();
    await tick();
    expect({ name, warned: warnings.slice(before).some((warning) => expected.test(warning)) }).toEqual({ name, warned: true });
  }
  // phx_close of a channel already left (the server's confirmation of a leave) is no warning.
  const before = warnings.length;
  socket.receive({ topic: 'realtime:left-already', event: 'phx_close', ref: '12', join_ref: '11', payload: {} });
  await tick();
  expect(warnings.slice(before)).toEqual([]);
  // The good change after all of that is applied, and nothing of the bad ones reached the entry.
  socket.change(topic, 'notes', 'INSERT', { id: 1, title: 'kept' }, 3);
  expect(await until(() => JSON.stringify(rows()) === JSON.stringify([{ id: 1, title: 'kept' }]))).toBe(true);
  expect(sync.selectors.selectChannel(store.getState(), 'live:public.notes')?.position).toBe('0000000000000001:00000003');
  expect(findNonSerializableValue(store.getState())).toBe(false);
  subscription.unsubscribe();
  store.dispatch(sync.actions.disconnect());
});

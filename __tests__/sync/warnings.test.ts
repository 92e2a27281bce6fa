/**
 * What the sync middleware does with frames it can't use: malformed frames, malformed changes,
 * unknown events, messages for channels it never joined, changes of another table on a live
 * channel. Each is ignored with a development warning; nothing throws inside the store, the state
 * stays serializable, and the good frames around them still apply.
 *
 * A unit test of the middleware module: the realtime server is a fake socket (vsn 1.0.0 frames),
 * PostgREST an in-memory fetch.
 */
import { configureStore } from '@reduxjs/toolkit';
import { findNonSerializableValue } from '@reduxjs/toolkit';
import { createPostgrestApi } from '../../lib/api';
import { from } from '../../lib/postgrest';
import { createSyncMiddleware } from '../../lib/sync';

type Frame = { topic: string; event: string; ref: string | null; join_ref: string | null; payload: Record<string, unknown> };

class FakeSocket {
  static last: FakeSocket | undefined;
  readyState = 0;
  binaryType = 'arraybuffer';
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  joins = new Map<string, string>();
  constructor(_url: string) {
    FakeSocket.last = this;
    setTimeout(() => {
      this.readyState = 1;
      this.onopen?.({});
    }, 0);
  }
  receive(data: string | object): void {
    this.onmessage?.({ data: typeof data === 'string' ? data : JSON.stringify(data) });
  }
  send(data: string): void {
    const frame = JSON.parse(data) as Frame;
    queueMicrotask(() => {
      if (frame.event === 'phx_join') {
        this.joins.set(frame.topic, frame.join_ref!);
        const bindings = ((frame.payload.config as { postgres_changes?: object[] }).postgres_changes ?? []).map((binding, index) => ({ ...binding, id: index + 1 }));
        this.receive({ topic: frame.topic, event: 'phx_reply', ref: frame.ref, join_ref: frame.join_ref, payload: { status: 'ok', response: { postgres_changes: bindings } } });
        this.receive({ topic: frame.topic, event: 'system', ref: null, join_ref: frame.join_ref, payload: { extension: 'postgres_changes', status: 'ok', message: 'Subscribed to PostgreSQL', position: '0000000000000001:00000000' } });
      } else if (frame.ref !== null) {
        this.receive({ topic: frame.topic, event: 'phx_reply', ref: frame.ref, join_ref: frame.join_ref, payload: { status: 'ok', response: {} } });
      }
    });
  }
  change(topic: string, table: string, type: 'INSERT' | 'UPDATE' | 'DELETE', record: Record<string, unknown>, seq: number): void {
    const data = { schema: 'public', table, commit_timestamp: '2026-11-25T10:00:00Z', type, columns: [{ name: 'id', type: 'int4' }, { name: 'title', type: 'text' }], errors: null, record, old_record: { id: record.id } };
    this.receive({ topic, event: 'postgres_changes', ref: null, join_ref: this.joins.get(topic), payload: { ids: [1], data, position: `0000000000000001:${seq.toString(16).toUpperCase().padStart(8, '0')}` } });
  }
  close(): void {
    this.readyState = 3;
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await tick();
  expect(check()).toBe(true);
}

function makeStore() {
  const warnings: string[] = [];
  const fetchFn = (async () => new Response('[]', { status: 200, headers: { 'content-type': 'application/json' } })) as typeof fetch;
  const api = createPostgrestApi({ url: 'http://postgrest.invalid', fetchFn });
  const sync = createSyncMiddleware({ api, url: 'ws://realtime.invalid/realtime/v1', WebSocket: FakeSocket as never, vsn: '1.0.0', environment: false, onWarning: (message) => warnings.push(message) });
  const store = configureStore({
    reducer: { [api.reducerPath]: api.reducer, [sync.reducerPath]: sync.reducer },
    middleware: (getDefault) => getDefault().concat(api.middleware, sync.middleware),
  });
  return { api, sync, store, warnings };
}

test('frames it cannot use are ignored with a warning each; good frames around them still apply', async () => {
  const { api, store, sync, warnings } = makeStore();
  const request = from('notes').select('id,title').order('id').toRequest();
  const subscription = store.dispatch(api.endpoints.live.initiate(request as never));
  const topic = 'realtime:live:public.notes';
  await until(() => api.endpoints.live.select(request as never)(store.getState() as never).status === 'fulfilled');
  const socket = FakeSocket.last!;
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
  // The good change after all of that is applied, and nothing of the bad ones reached the entry.
  socket.change(topic, 'notes', 'INSERT', { id: 1, title: 'kept' }, 3);
  await until(() => JSON.stringify(rows()) === JSON.stringify([{ id: 1, title: 'kept' }]));
  expect(sync.selectors.selectChannel(store.getState(), 'live:public.notes')?.position).toBe('0000000000000001:00000003');
  expect(findNonSerializableValue(store.getState())).toBe(false);
  subscription.unsubscribe();
  store.dispatch(sync.actions.disconnect());
});

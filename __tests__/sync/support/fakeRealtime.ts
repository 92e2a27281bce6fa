/**
 * For unit tests of the sync middleware alone: a realtime server in a fake WebSocket (vsn 1.0.0
 * frames; joins answered with binding ids and, unless told otherwise, "Subscribed to PostgreSQL")
 * and an in-memory PostgREST (`GET` returns a table's rows by id; `POST` appends). Integration tests
 * use the real stack instead.
 */
import { createPostgrestApi } from '../../../lib/api';
import { createSyncMiddleware } from '../../../lib/sync';
import { syncStore } from '../../support/store';

type Frame = { topic: string; event: string; ref: string | null; join_ref: string | null; payload: Record<string, unknown> };

export class FakeSocket {
  static all: FakeSocket[] = [];
  /** Send "Subscribed to PostgreSQL" right after each join (else the test calls `subscribed`). */
  static autoSubscribe = true;
  /** The `tables` (column descriptions) "Subscribed to PostgreSQL" carries; none unless set. */
  static tables: unknown = undefined;
  static get last(): FakeSocket {
    return FakeSocket.all[FakeSocket.all.length - 1]!;
  }
  readyState = 0;
  binaryType = 'arraybuffer';
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  /** Join ref per topic. */
  joins = new Map<string, string>();
  /** Every frame the client sent, parsed. */
  sent: Frame[] = [];
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
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
    this.sent.push(frame);
    queueMicrotask(() => {
      if (frame.event === 'phx_join') {
        this.joins.set(frame.topic, frame.join_ref!);
        const bindings = ((frame.payload.config as { postgres_changes?: object[] }).postgres_changes ?? []).map((binding, index) => ({ ...binding, id: index + 1 }));
        this.receive({ topic: frame.topic, event: 'phx_reply', ref: frame.ref, join_ref: frame.join_ref, payload: { status: 'ok', response: { postgres_changes: bindings } } });
        if (FakeSocket.autoSubscribe) this.subscribed(frame.topic);
      } else if (frame.ref !== null) {
        this.receive({ topic: frame.topic, event: 'phx_reply', ref: frame.ref, join_ref: frame.join_ref, payload: { status: 'ok', response: {} } });
      }
    });
  }
  /** "Subscribed to PostgreSQL", with `tables` (our server's description of the columns) when given. */
  subscribed(topic: string, tables: unknown = FakeSocket.tables): void {
    this.receive({ topic, event: 'system', ref: null, join_ref: this.joins.get(topic), payload: { extension: 'postgres_changes', status: 'ok', message: 'Subscribed to PostgreSQL', position: '0000000000000001:00000000', ...(tables !== undefined && { tables }) } });
  }
  /** A change of `table` whose columns are `id int4, title text` unless `columns` says otherwise. */
  change(topic: string, table: string, type: 'INSERT' | 'UPDATE' | 'DELETE', record: Record<string, unknown>, seq: number, columns: Array<{ name: string; type: string }> = NOTE_COLUMNS): void {
    const data = { schema: 'public', table, commit_timestamp: '2026-11-25T10:00:00Z', type, columns, errors: null, record: type === 'DELETE' ? {} : record, old_record: { id: record.id } };
    this.receive({ topic, event: 'postgres_changes', ref: null, join_ref: this.joins.get(topic), payload: { ids: [1], data, position: position(seq) } });
  }
  /** Our server's LEAVE signal: the row with key `key` is no longer visible to this client (no `record`). */
  leave(topic: string, table: string, key: Record<string, unknown>, seq: number, columns: Array<{ name: string; type: string }> = NOTE_COLUMNS): void {
    const data = { schema: 'public', table, commit_timestamp: '2026-11-25T10:00:00Z', type: 'LEAVE', columns, old_record: key, errors: null };
    this.receive({ topic, event: 'postgres_changes', ref: null, join_ref: this.joins.get(topic), payload: { ids: [1], data, position: position(seq) } });
  }
  /** The config of the last join the client sent for `topic`. */
  joinConfig(topic: string): Record<string, unknown> | undefined {
    const joins = this.sent.filter((frame) => frame.topic === topic && frame.event === 'phx_join');
    return joins[joins.length - 1]?.payload.config as Record<string, unknown> | undefined;
  }
  close(): void {
    this.readyState = 3;
    // A closed connection has no channels (a test waiting for a join must not find a stale socket's).
    this.joins.clear();
  }
}

const NOTE_COLUMNS = [{ name: 'id', type: 'int4' }, { name: 'title', type: 'text' }];
const position = (seq: number) => `0000000000000001:${seq.toString(16).toUpperCase().padStart(8, '0')}`;

export const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

/** Waits (up to 1 s) for `check`; returns its last answer. */
export async function until(check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 200 && !check(); i++) await tick();
  return check();
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** An in-memory PostgREST; `respond` may take over a request (return undefined to let it through). */
export function memoryPostgrest() {
  const tables: Record<string, Array<Record<string, unknown>>> = {};
  const requests: Array<{ method: string; url: string }> = [];
  let respond: ((url: string, method: string) => Promise<Response> | undefined) | undefined;
  const fetchFn = (async (input: string, init?: { method?: string; body?: string }) => {
    const url = String(input);
    const method = init?.method ?? 'GET';
    requests.push({ method, url });
    const taken = respond?.(url, method);
    if (taken) return taken;
    const path = new URL(url).pathname.split('/').filter(Boolean);
    if (path[0] === 'rpc') return json(null);
    const table = path[path.length - 1]!;
    if (method === 'GET') return json((tables[table] ?? []).slice().sort((a, b) => Number(a.id) - Number(b.id)));
    if (method === 'POST') {
      const body = JSON.parse(init!.body!) as Record<string, unknown> | Array<Record<string, unknown>>;
      const rows = Array.isArray(body) ? body : [body];
      (tables[table] ??= []).push(...rows);
      return json(rows, 201);
    }
    return json([]);
  }) as unknown as typeof fetch;
  return {
    tables,
    requests,
    fetchFn,
    gets: () => requests.filter((request) => request.method === 'GET').length,
    respondWith: (handler: typeof respond) => {
      respond = handler;
    },
  };
}

/** An api (reducerPath `api`) and, unless `sync: false`, a sync middleware (`sync`) over the fakes. */
export function fakeApiAndSync(fetchFn: typeof fetch, names: { api?: string; sync?: string } = {}) {
  const warnings: string[] = [];
  // The middleware's behaviour on a failed fetch is what these tests see: no retries in between.
  const api = createPostgrestApi({ url: 'http://postgrest.invalid', fetchFn, retry: false, reducerPath: (names.api ?? 'postgrestApi') as 'postgrestApi' });
  const sync = createSyncMiddleware({
    api,
    reducerPath: (names.sync ?? 'sync') as 'sync',
    url: 'ws://realtime.invalid/realtime/v1',
    WebSocket: FakeSocket as never,
    vsn: '1.0.0',
    environment: false,
    onWarning: (message) => warnings.push(message),
  });
  return { api, sync, warnings };
}

/** A store with one api and its sync middleware (RTK's checks on), recording every action. */
export function fakeStore(fetchFn: typeof fetch) {
  const { api, sync, warnings } = fakeApiAndSync(fetchFn);
  const { store, actions } = syncStore(api, sync);
  return { api, sync, store, warnings, actions };
}

/**
 * Starts a live entry of `request` in a store made by fakeStore and waits for its first fetch;
 * `done` unsubscribes it and disconnects the store.
 */
export async function startLive(made: ReturnType<typeof fakeStore>, request: unknown) {
  const { api, sync, store } = made;
  const subscription = store.dispatch(api.endpoints.live.initiate(request as never));
  const select = () => api.endpoints.live.select(request as never)(store.getState() as never);
  expect(await until(() => select().status === 'fulfilled')).toBe(true);
  const done = () => {
    subscription.unsubscribe();
    store.dispatch(sync.actions.disconnect());
  };
  return { select, socket: FakeSocket.last, done };
}

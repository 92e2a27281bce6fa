/** For client benchmarks: a realtime server in a fake WebSocket (vsn 1.0.0), so only the client is measured. */

/** A realtime server in memory: answers joins and heartbeats and lets the bench push changes (vsn 1.0.0). */
export class FakeRealtime {
  static last: FakeRealtime | undefined;
  readyState = 0;
  binaryType = 'arraybuffer';
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  joined: Array<{ topic: string; joinRef: string; ids: number[] }> = [];
  positionSeq = 0;
  constructor(_url: string) {
    FakeRealtime.last = this;
    setTimeout(() => {
      this.readyState = 1;
      this.onopen?.({});
    }, 0);
  }
  private deliver(message: object): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  send(data: string | ArrayBuffer): void {
    const frame = JSON.parse(String(data)) as { topic: string; event: string; ref: string; join_ref: string; payload: { config?: { postgres_changes?: object[] } } };
    queueMicrotask(() => {
      if (frame.event === 'heartbeat') return this.deliver({ topic: 'phoenix', event: 'phx_reply', ref: frame.ref, join_ref: null, payload: { status: 'ok', response: {} } });
      if (frame.event === 'phx_join') {
        const bindings = (frame.payload.config?.postgres_changes ?? []).map((binding, index) => ({ ...binding, id: index + 1 }));
        this.joined.push({ topic: frame.topic, joinRef: frame.join_ref, ids: bindings.map((binding) => binding.id) });
        this.deliver({ topic: frame.topic, event: 'phx_reply', ref: frame.ref, join_ref: frame.join_ref, payload: { status: 'ok', response: { postgres_changes: bindings } } });
        this.deliver({ topic: frame.topic, event: 'system', ref: null, join_ref: frame.join_ref, payload: { extension: 'postgres_changes', status: 'ok', message: 'Subscribed to PostgreSQL', channel: frame.topic.slice(9), position: position(0) } });
        return;
      }
      if (frame.ref !== null) this.deliver({ topic: frame.topic, event: 'phx_reply', ref: frame.ref, join_ref: frame.join_ref, payload: { status: 'ok', response: {} } });
    });
  }
  /** One change of `table` on the first joined channel. */
  push(event: { table: string; columns: ReadonlyArray<{ name: string; type: string }>; type: 'INSERT' | 'UPDATE' | 'DELETE'; row: object; old: object }): void {
    const channel = this.joined[0]!;
    const data: Record<string, unknown> = { schema: 'public', table: event.table, commit_timestamp: '2026-11-24T10:00:00.000Z', type: event.type, columns: event.columns, errors: null };
    if (event.type !== 'DELETE') data.record = event.row;
    if (event.type !== 'INSERT') data.old_record = event.old;
    this.deliver({ topic: channel.topic, event: 'postgres_changes', ref: null, join_ref: channel.joinRef, payload: { ids: channel.ids, data, position: position(++this.positionSeq) } });
  }
  close(): void {
    this.readyState = 3;
  }
}

const position = (seq: number) => `0000000000000001:${seq.toString(16).toUpperCase().padStart(8, '0')}`;
export const tick = () => new Promise((resolve) => setImmediate(resolve));

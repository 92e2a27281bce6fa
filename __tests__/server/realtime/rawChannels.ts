/**
 * Raw vsn 1.0.0 sockets joining postgres_changes channels with any config (the stock client can't
 * send our extensions or odd payloads): every frame kept, helpers to read a channel's changes and
 * system messages. Close everything with `closeAll` in afterAll.
 */
import { WebSocket } from 'ws';
import { waitFor } from './realtimeHarness';

export interface Frame {
  topic: string;
  event: string;
  ref: string | null;
  payload: Record<string, unknown>;
}

export interface ChangePayload {
  ids: number[];
  data: {
    type: string;
    table: string;
    record?: Record<string, unknown>;
    old_record?: Record<string, unknown>;
    columns: Array<{ name: string; type: string }>;
    errors: string[] | null;
  };
  position: string;
}

export interface SystemPayload {
  extension: string;
  status: string;
  message: string;
  position?: string | null;
  resumed?: boolean;
  resync?: boolean;
  reason?: string;
  tables?: Array<{ schema: string; table: string; columns: Array<{ name: string }> }>;
}

export interface RawSocket {
  socket: WebSocket;
  frames: Frame[];
  closed: Promise<{ code: number; reason: string }>;
}

export interface JoinedChannel extends RawSocket {
  topic: string;
  /** The join's phx_reply payload, once it arrived. */
  reply(): Promise<{ status: string; response: Record<string, unknown> }>;
  changes(): ChangePayload[];
  systems(): SystemPayload[];
  /** Waits for "Subscribed to PostgreSQL". */
  subscribed(): Promise<SystemPayload>;
  /** Waits for a postgres_changes system message with status error. */
  refused(): Promise<SystemPayload>;
}

export interface JoinOptions {
  accessToken?: string;
  /** Bindings; default every event of `table`. */
  bindings?: Array<Record<string, unknown>>;
  table?: string;
  /** Extra join config (resume_after, leave_events ...). */
  config?: Record<string, unknown>;
  /** Join on this already open socket instead of a new one. */
  on?: RawSocket;
}

/** Opens and tracks raw sockets against one server URL. */
export function rawChannels(url: () => string, apikey: () => string) {
  const sockets: WebSocket[] = [];
  let counter = 0;

  async function connect(key = apikey()): Promise<RawSocket> {
    const socket = new WebSocket(`${url()}/websocket?apikey=${key}&vsn=1.0.0`);
    sockets.push(socket);
    const frames: Frame[] = [];
    socket.on('message', (data) => frames.push(JSON.parse(String(data)) as Frame));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
    await new Promise((resolve, reject) => socket.on('open', resolve).on('error', reject));
    return { socket, frames, closed };
  }

  async function join(options: JoinOptions = {}): Promise<JoinedChannel> {
    const raw = options.on ?? (await connect());
    const topic = `realtime:raw-${++counter}`;
    const bindings = options.bindings ?? [{ event: '*', schema: 'public', table: options.table }];
    const payload = { config: { postgres_changes: bindings, ...options.config }, ...(options.accessToken && { access_token: options.accessToken }) };
    raw.socket.send(JSON.stringify({ topic, event: 'phx_join', ref: topic, join_ref: topic, payload }));
    const on = (event: string) => raw.frames.filter((frame) => frame.topic === topic && frame.event === event).map((frame) => frame.payload);
    const systems = () => on('system') as unknown as SystemPayload[];
    return {
      ...raw,
      topic,
      reply: () => waitFor(() => on('phx_reply')[0] as { status: string; response: Record<string, unknown> } | undefined),
      changes: () => on('postgres_changes') as unknown as ChangePayload[],
      systems,
      subscribed: () => waitFor(() => systems().find((message) => message.message === 'Subscribed to PostgreSQL')),
      refused: () => waitFor(() => systems().find((message) => message.extension === 'postgres_changes' && message.status === 'error')),
    };
  }

  return {
    connect,
    join,
    closeAll() {
      for (const socket of sockets) socket.terminate();
    },
  };
}

/** The key (`id`) each change is about. */
export const changeIds = (changes: readonly ChangePayload[]) => changes.map((change) => change.data.record?.id ?? change.data.old_record?.id);

/** The socket's public contract: options, observable events, and the WebSocket it drives. */
import type { Vsn } from './serializer.js';
import type { BackoffPolicy, RandomSource } from './backoff.js';
import type { ChannelState, ConnectionState } from './machines.js';

/** What the socket needs of a WebSocket: the browser's, or `ws`'s (which also has `terminate`). */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  send(data: string | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
  /** Drops the connection without a closing handshake (`ws` has it); used for dead connections. */
  terminate?(): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** setTimeout / clearTimeout, injectable for fake clocks. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface PhoenixSocketOptions {
  /** The endpoint, e.g. `ws://host:port/realtime/v1`; `/websocket` and the query string are appended. */
  url: string;
  /** Query parameters, e.g. `{ apikey }`. */
  params: Record<string, string>;
  /** Default '2.0.0', like realtime-js ≥ 2.91. */
  vsn?: Vsn;
  WebSocket: WebSocketConstructor;
  /** Default 25 000 like realtime-js. No reply before the next beat ⇒ the connection is dead. */
  heartbeatIntervalMs?: number;
  /** Push and join timeout. Default 10 000. */
  timeoutMs?: number;
  /** A connection attempt not open by then is abandoned and retried. Default 10 000. */
  connectionTimeoutMs?: number;
  /**
   * Reconnect delays (full jitter, drawn per attempt). Default 1 s growing ×2 up to 10 s. The attempt
   * count (and so the delay) starts again only once a connection stayed up `minUptimeMs`.
   */
  reconnect?: Partial<BackoffPolicy>;
  /** Default 5 000 (reconnecting-websocket's). */
  minUptimeMs?: number;
  /** Delays before rejoining a channel that errored while the socket stayed open. Default as `reconnect`'s default. */
  rejoin?: Partial<BackoffPolicy>;
  /** Everything observable; must not throw (a throw is re-raised asynchronously, the socket carries on). */
  onEvent(event: SocketEvent): void;
  /** For tests. Default Math.random. */
  random?: RandomSource;
  /**
   * Heartbeats, push and join timeouts, reconnect and rejoin delays. Default the global timers.
   * (reconnecting-websocket's connection timeout and uptime timers are its own, on the global ones.)
   */
  timers?: Timers;
  /** For latency. Default Date.now. */
  now?: () => number;
}

/** The connection's state (machines.ts). */
export type ConnectionStatus = ConnectionState;
/** A channel's state (machines.ts). */
export type ChannelStatus = ChannelState;

export type SocketEvent =
  | { type: 'status'; status: ConnectionStatus; attempt?: number; delayMs?: number; code?: number; reason?: string }
  | { type: 'heartbeat'; status: 'sent' | 'ok' | 'timeout'; latencyMs?: number }
  | { type: 'channel'; topic: string; status: ChannelStatus; joinRef?: string; response?: unknown; error?: string }
  /** A server push on a channel: postgres_changes, system, presence_state, presence_diff, broadcast. */
  | { type: 'message'; topic: string; event: string; payload: unknown; joinRef: string | null }
  /** Malformed frame, failing payload function, etc.; never thrown. */
  | { type: 'error'; code: string; message: string };

export interface PushResult {
  status: 'ok' | 'error' | 'timeout';
  response: unknown;
}

export interface PushOptions {
  /** Send as a v2 binary kind-3 frame (a `broadcast` with `{ type, event, payload }`). */
  binary?: boolean;
  /**
   * Default true. False for pushes the server never answers (a broadcast on a channel without
   * `ack`): resolves `ok` as soon as the frame is sent.
   */
  awaitReply?: boolean;
}

export interface PhoenixSocket {
  /** Opens the connection (and keeps reopening it) until disconnect(). */
  connect(): void;
  /** Closes the connection and clears every timer; no reconnect until connect(). Channels stay registered and rejoin on connect(). */
  disconnect(): void;
  /** Token sent as `access_token` in every (re)join, and pushed to joined channels now. */
  setAuth(token: string | null): void;
  /** Joins `topic`; `payload()` is evaluated on every (re)join. Idempotent per topic (a second call only replaces `payload`). */
  join(topic: string, payload: () => object): void;
  /**
   * Joins a joined (or joining) `topic` again, with `payload()` evaluated anew: the server replaces
   * the current join by the new one. Nothing to do while the join is not sent yet (it evaluates the
   * payload when it goes out) or for a channel that is errored, leaving or unknown.
   */
  rejoin(topic: string): void;
  /** Leaves `topic` and forgets it. */
  leave(topic: string): void;
  /** Sends one frame on a joined channel and resolves with its reply, `timeout`, or `error` (not joined, connection lost, bad payload). */
  push(topic: string, event: string, payload: unknown, options?: PushOptions): Promise<PushResult>;
  /** The connection state. */
  readonly state: ConnectionStatus;
  /** The state of `topic`'s channel ('closed' when unknown). */
  channelState(topic: string): ChannelStatus;
}

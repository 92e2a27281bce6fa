/**
 * The Phoenix Channels wire facts of the Supabase Realtime protocol that the server
 * (lib/server/realtime) and the client (lib/sync/phoenix) both speak: versions, topics, event
 * names, the message model, reply payloads, and the v2 binary frame layout
 * (docs/realtime-protocol.md §1.2–1.4, §2). Browser-safe: types and constants only.
 */

/** Protocol versions a connection negotiates with its `vsn` query parameter. */
export type Vsn = '1.0.0' | '2.0.0';
export const VSNS: readonly Vsn[] = ['1.0.0', '2.0.0'];

/** Phoenix's version when a client sends no `vsn` (phoenix `socket.ex`); clients choose their own. */
export const PHOENIX_DEFAULT_VSN: Vsn = '1.0.0';

/** Every channel topic starts with it: `realtime:<name>`. */
export const TOPIC_PREFIX = 'realtime:';

/** The channel name of a topic (`realtime:room` → `room`); a topic without the prefix is its own name. */
export const channelName = (topic: string): string => (topic.startsWith(TOPIC_PREFIX) ? topic.slice(TOPIC_PREFIX.length) : topic);

/** Topic of socket-level messages (heartbeat and its reply). */
export const PHOENIX_TOPIC = 'phoenix';

/** Event names of the protocol. */
export const EVENT = {
  join: 'phx_join',
  reply: 'phx_reply',
  leave: 'phx_leave',
  close: 'phx_close',
  error: 'phx_error',
  heartbeat: 'heartbeat',
  accessToken: 'access_token',
  broadcast: 'broadcast',
  presence: 'presence',
  presenceState: 'presence_state',
  presenceDiff: 'presence_diff',
  postgresChanges: 'postgres_changes',
  system: 'system',
} as const;

export type RealtimeEventName = (typeof EVENT)[keyof typeof EVENT];

/** One Phoenix message in either direction, whatever frame carried it. */
export interface PhoenixMessage<P = unknown> {
  /** The channel's join ref: the ref of the `phx_join` push that opened it; null outside a channel. */
  joinRef: string | null;
  /** The push's own ref, echoed by its reply; null for server pushes and fan-out broadcasts. */
  ref: string | null;
  topic: string;
  event: string;
  payload: P;
}

export type ReplyStatus = 'ok' | 'error';

/** Payload of `phx_reply`. */
export interface ReplyPayload<R = unknown> {
  status: ReplyStatus;
  response: R;
}

/** The payload of a `broadcast` message as realtime-js sends and expects it. */
export interface BroadcastEnvelope {
  type: 'broadcast';
  event: string;
  payload: unknown;
  meta?: Record<string, unknown>;
}

/**
 * vsn 2.0.0 binary frame kinds (Phoenix's 0–2; Supabase's user broadcasts 3, client → server, and
 * 4, server → client, the only ones Supabase uses).
 */
export const BINARY_KIND = { push: 0, reply: 1, broadcast: 2, userBroadcastPush: 3, userBroadcast: 4 } as const;
/** How a binary user broadcast's payload is encoded. */
export const PAYLOAD_ENCODING = { binary: 0, json: 1 } as const;
/** Every binary header string's length is one uint8 byte count. */
export const MAX_HEADER_STRING_BYTES = 255;
/** Kind-3 header: kind, join_ref_len, ref_len, topic_len, user_event_len, metadata_len, payload_encoding. */
export const PUSH_HEADER_BYTES = 7;
/** Kind-4 header: kind, topic_len, user_event_len, metadata_len, payload_encoding. */
export const BROADCAST_HEADER_BYTES = 5;

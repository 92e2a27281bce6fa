/**
 * The message model of the Supabase Realtime protocol (Phoenix Channels), independent of how a vsn
 * puts it on the wire. See docs/realtime-protocol.md §1.2–1.4 and §2.
 */

import { EVENT, PHOENIX_DEFAULT_VSN, PHOENIX_TOPIC, type BroadcastEnvelope, type PhoenixMessage, type ReplyPayload, type ReplyStatus, type Vsn } from '../../../protocol/phoenix.js';

// The wire model both sides share (lib/protocol), re-exported for the server's modules.
export { EVENT, PHOENIX_TOPIC, PHOENIX_DEFAULT_VSN as DEFAULT_VSN };
export type { BroadcastEnvelope, PhoenixMessage, ReplyPayload, ReplyStatus, Vsn };
export type { RealtimeEventName } from '../../../protocol/phoenix.js';

/** A message decoded from a client: the payload is always a JSON object (or a broadcast envelope holding bytes). */
export type InboundMessage = PhoenixMessage<Record<string, unknown>>;

/** Binary user payloads: what realtime-js sends as an ArrayBuffer, and what we hand it back. */
export type BinaryPayload = Uint8Array | ArrayBuffer;

/**
 * A user broadcast (`channel.send({ type: 'broadcast', event, payload })`) with its payload's
 * encoding made explicit: v2 clients get `binary` ones as kind-4 frames, v1 clients can't get them.
 */
export interface UserBroadcast {
  topic: string;
  /** The user's event name (`payload.event` of the envelope), not `broadcast`. */
  event: string;
  /** Bytes when `encoding` is `binary`; any JSON value when `json`. */
  payload: unknown;
  encoding: 'binary' | 'json';
  /** Goes out as the envelope's `meta` (e.g. `{ id, replayed }`). */
  metadata?: Record<string, unknown>;
}

/** True for the byte containers a binary broadcast payload may be held in (Buffer is a Uint8Array). */
export function isBinaryPayload(value: unknown): value is BinaryPayload {
  return value instanceof Uint8Array || value instanceof ArrayBuffer;
}

/** The reply to `request` (same join_ref, ref and topic), as the client matches it. */
export function replyTo<R>(
  request: Pick<PhoenixMessage, 'joinRef' | 'ref' | 'topic'>,
  status: ReplyStatus,
  response: R,
): PhoenixMessage<ReplyPayload<R>> {
  return { joinRef: request.joinRef, ref: request.ref, topic: request.topic, event: EVENT.reply, payload: { status, response } };
}

/** A server push on one channel (`system`, `presence_state`, `phx_close` ...): carries the channel's join_ref. */
export function channelPush<P>(joinRef: string | null, topic: string, event: string, payload: P): PhoenixMessage<P> {
  return { joinRef, ref: null, topic, event, payload };
}

/**
 * `phx_close` / `phx_error` for a channel: Phoenix sends both with ref = join_ref (the client
 * matches them to the channel's join), payload `{}` for close and `{reason}` or `{}` for error.
 */
export function channelLifecycle(
  event: typeof EVENT.close | typeof EVENT.error,
  joinRef: string,
  topic: string,
  payload: Record<string, unknown> = {},
): PhoenixMessage<Record<string, unknown>> {
  return { joinRef, ref: joinRef, topic, event, payload };
}

/** A fan-out message (`broadcast`, `postgres_changes`, `presence_diff`): null refs, so one frame fits every socket. */
export function fanoutMessage<P>(topic: string, event: string, payload: P): PhoenixMessage<P> {
  return { joinRef: null, ref: null, topic, event, payload };
}

/** The `broadcast` message carrying `broadcast` to subscribers. */
export function userBroadcastMessage(broadcast: UserBroadcast): PhoenixMessage<BroadcastEnvelope> {
  const envelope: BroadcastEnvelope = { type: 'broadcast', event: broadcast.event, payload: broadcast.payload };
  if (broadcast.metadata !== undefined) envelope.meta = broadcast.metadata;
  return fanoutMessage(broadcast.topic, EVENT.broadcast, envelope);
}

/**
 * The user broadcast inside a `broadcast` message whose payload is an envelope with a string
 * `event`, or null for anything else. `encoding` is `binary` exactly when the user payload is bytes.
 */
export function asUserBroadcast(message: Pick<PhoenixMessage, 'topic' | 'event' | 'payload'>): UserBroadcast | null {
  if (message.event !== EVENT.broadcast) return null;
  const envelope = message.payload;
  if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope)) return null;
  const { event, payload, meta } = envelope as Record<string, unknown>;
  if (typeof event !== 'string') return null;
  const broadcast: UserBroadcast = {
    topic: message.topic,
    event,
    payload,
    encoding: isBinaryPayload(payload) ? 'binary' : 'json',
  };
  if (meta !== null && typeof meta === 'object' && !Array.isArray(meta)) broadcast.metadata = meta as Record<string, unknown>;
  return broadcast;
}

/**
 * Broadcast (docs/realtime-protocol.md §4): a client's `broadcast` push goes to every channel of the
 * room, the sender's own only with `self`, and is acknowledged only with `ack`.
 */
import { encodeFanout } from './codec.js';
import { asUserBroadcast, EVENT, replyTo, type BroadcastEnvelope, type InboundMessage, type PhoenixMessage } from './messages.js';
import type { JoinedChannel, Rooms } from './rooms.js';

/** Fans out one broadcast push of `sender`; returns the reply to send it, if any. */
export function handleBroadcast(rooms: Rooms, sender: JoinedChannel, message: InboundMessage): PhoenixMessage | null {
  const broadcast = asUserBroadcast(message);
  if (broadcast === null) {
    return replyTo(message, 'error', { reason: 'MalformedBroadcast: payload must be {type: "broadcast", event: string, payload}' });
  }
  // The client's `meta` is not forwarded: receivers read meta.id / meta.replayed as server facts.
  const envelope: BroadcastEnvelope = { type: 'broadcast', event: broadcast.event, payload: broadcast.payload };
  const frames = encodeFanout(sender.topic, EVENT.broadcast, envelope);
  const self = sender.config.broadcast.self;
  rooms.fanout(sender.room, frames, (channel) => self || channel !== sender);
  return sender.config.broadcast.ack ? replyTo(message, 'ok', {}) : null;
}

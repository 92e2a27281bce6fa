/**
 * Broadcast (docs/realtime-protocol.md §4): a client's `broadcast` push goes to every channel of the
 * room, the sender's own only with `self`, and is acknowledged only with `ack`.
 */
import { writeRefusedMessage } from '../authorization/channelPolicies.js';
import { encodeFanout } from '../codec/index.js';
import { asUserBroadcast, EVENT, replyTo, type BroadcastEnvelope, type InboundMessage, type PhoenixMessage } from '../codec/messages.js';
import { mayReadBroadcast, mayWriteBroadcast, roomKey, type JoinedChannel, type Rooms } from './rooms.js';
import { channelName, TOPIC_PREFIX } from '../../../protocol/phoenix.js';


/** A broadcast for every channel of a room that may receive it (from the database, or from another node of a cluster). */
export interface RoomBroadcast {
  /** `realtime:<name>`. */
  topic: string;
  private: boolean;
  event: string;
  payload: unknown;
}

/**
 * Fans out one broadcast push of `sender`; returns the reply to send it, if any. `relay` carries it
 * to the room's channels elsewhere (the other nodes of a cluster), after this node's got it.
 */
export function handleBroadcast(rooms: Rooms, sender: JoinedChannel, message: InboundMessage, relay?: (broadcast: RoomBroadcast) => void): PhoenixMessage | null {
  const broadcast = asUserBroadcast(message);
  if (broadcast === null) {
    return replyTo(message, 'error', { reason: 'MalformedBroadcast: payload must be {type: "broadcast", event: string, payload}' });
  }
  // A private channel sends only what an INSERT policy on realtime.messages allows (Supabase drops
  // the rest silently; we say so to a push that awaits a reply).
  if (!mayWriteBroadcast(sender)) {
    return message.ref === null ? null : replyTo(message, 'error', { reason: writeRefusedMessage(channelName(sender.topic)) });
  }
  // The client's `meta` is not forwarded: receivers read meta.id / meta.replayed as server facts.
  const envelope: BroadcastEnvelope = { type: 'broadcast', event: broadcast.event, payload: broadcast.payload };
  const frames = encodeFanout(sender.topic, EVENT.broadcast, envelope);
  const self = sender.config.broadcast.self;
  rooms.fanout(sender.room, frames, (channel) => (self || channel !== sender) && mayReadBroadcast(channel));
  relay?.({ topic: sender.topic, private: sender.config.private, event: broadcast.event, payload: broadcast.payload });
  return sender.config.broadcast.ack ? replyTo(message, 'ok', {}) : null;
}

/**
 * A broadcast from the database (a row of realtime.messages: `realtime.send`, `realtime.broadcast_changes`)
 * to every channel of its topic's room that may receive it.
 */
export function sendDatabaseBroadcast(rooms: Rooms, message: { topic: string; event: string; payload: unknown; private: boolean }): void {
  deliverBroadcast(rooms, { ...message, topic: TOPIC_PREFIX + message.topic });
}

/** Sends `broadcast` to every channel of its room on this node that may receive it (no sender to skip). */
export function deliverBroadcast(rooms: Rooms, broadcast: RoomBroadcast): void {
  const envelope: BroadcastEnvelope = { type: 'broadcast', event: broadcast.event, payload: broadcast.payload };
  rooms.fanout(roomKey(broadcast.topic, broadcast.private), encodeFanout(broadcast.topic, EVENT.broadcast, envelope), mayReadBroadcast);
}

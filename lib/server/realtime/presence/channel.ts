/**
 * Presence on channels (docs/realtime-protocol.md §3): wires the pure tracker (tracker.ts) to
 * joined channels. `presence_diff`s go only to presence-enabled channels of the room: realtime-js
 * buffers diffs that arrive before a `presence_state` forever, so sending them elsewhere leaks.
 */
import { encodeFanout } from '../codec/index.js';
import { channelPush, EVENT, replyTo, type InboundMessage, type PhoenixMessage } from '../codec/messages.js';
import { PresenceError, type PresenceDiff, type PresenceTracker } from './tracker.js';
import { mayReadPresence, mayWritePresence, type JoinedChannel, type Rooms } from '../channels/rooms.js';
import { trackRefusedMessage } from '../authorization/channelPolicies.js';
import { channelName } from '../../../protocol/phoenix.js';

export interface PresenceChannels {
  /** Pushes `presence_state` to a channel that just joined with presence enabled. */
  afterJoin(channel: JoinedChannel): void;
  /** Handles a `presence` push (track / untrack); returns its reply. */
  handle(channel: JoinedChannel, message: InboundMessage): PhoenixMessage;
  /** The channel is gone (leave, close, socket closed): its presences leave. */
  leave(channel: JoinedChannel): void;
}

/** Presence for every channel of one server, over one tracker. */
export function createPresenceChannels(rooms: Rooms, tracker: PresenceTracker): PresenceChannels {
  // Tracker topics are room keys, so public and private presences of one name stay apart.
  function publish(channel: JoinedChannel, diff: PresenceDiff | null): void {
    if (diff === null) return;
    const frames = encodeFanout(channel.topic, EVENT.presenceDiff, diff);
    rooms.fanout(channel.room, frames, (member) => member.config.presence.enabled && mayReadPresence(member));
  }

  return {
    afterJoin(channel) {
      if (!channel.config.presence.enabled || !mayReadPresence(channel)) return;
      channel.peer.send(channelPush(channel.joinRef, channel.topic, EVENT.presenceState, tracker.state(channel.room)));
    },

    handle(channel, message) {
      const { event, payload } = message.payload;
      try {
        if (event === 'track' && !mayWritePresence(channel)) {
          return replyTo(message, 'error', { reason: trackRefusedMessage(channelName(channel.topic)) });
        } else if (event === 'track') {
          publish(channel, tracker.track(channel.room, channel.peer.id, channel.config.presence.key, payload));
        } else if (event === 'untrack') {
          publish(channel, tracker.untrack(channel.room, channel.peer.id));
        } else {
          return replyTo(message, 'error', { reason: 'presence event must be "track" or "untrack"' });
        }
      } catch (error) {
        if (error instanceof PresenceError) return replyTo(message, 'error', { reason: reasonOf(error) });
        throw error;
      }
      return replyTo(message, 'ok', {});
    },

    leave(channel) {
      publish(channel, tracker.untrack(channel.room, channel.peer.id));
    },
  };
}

/** Supabase's text first (clients match on it), then, for an oversized payload, the sizes and the option to raise. */
function reasonOf(error: PresenceError): string {
  if (error.code !== 'PRESENCE_PAYLOAD_TOO_LARGE') return error.message;
  return `${error.message}: the payload's JSON is ${error.details.bytes} bytes, more than maxPresencePayloadBytes (${error.details.limit})`;
}

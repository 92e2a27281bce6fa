/**
 * Presence on channels (docs/realtime-protocol.md §3): wires the pure tracker (tracker.ts) to
 * joined channels. `presence_diff`s go only to presence-enabled channels of the room: realtime-js
 * buffers diffs that arrive before a `presence_state` forever, so sending them elsewhere leaks.
 */
import { encodeFanout } from '../codec/index.js';
import { channelPush, EVENT, replyTo, type InboundMessage, type PhoenixMessage } from '../codec/messages.js';
import { PresenceError, type PresenceDiff, type PresenceState, type PresenceTracker } from './tracker.js';
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

/**
 * Presence this server's tracker does not hold: the other nodes' of a cluster (cluster/clusterPresence.ts).
 * Local clients get remote diffs through `sendPresenceDiff`.
 */
export interface PresenceMirror {
  /** This node's presence in `room` changed by `diff` (its local channels have it already). */
  published(room: string, diff: PresenceDiff): void;
  /** Adds the metas held elsewhere in `room` to a `presence_state` about to be sent. */
  addRemote(room: string, state: PresenceState): void;
}

/** Sends a `presence_diff` to the channels of `room` on this server that have presence and may see it. */
export function sendPresenceDiff(rooms: Rooms, room: string, topic: string, diff: PresenceDiff): void {
  const frames = encodeFanout(topic, EVENT.presenceDiff, diff);
  rooms.fanout(room, frames, (member) => member.config.presence.enabled && mayReadPresence(member));
}

/** Presence for every channel of one server, over one tracker (and, in a cluster, the other nodes' `mirror`). */
export function createPresenceChannels(rooms: Rooms, tracker: PresenceTracker, mirror?: PresenceMirror): PresenceChannels {
  // Tracker topics are room keys, so public and private presences of one name stay apart.
  function publish(channel: JoinedChannel, diff: PresenceDiff | null): void {
    if (diff === null) return;
    sendPresenceDiff(rooms, channel.room, channel.topic, diff);
    mirror?.published(channel.room, diff);
  }

  return {
    afterJoin(channel) {
      if (!channel.config.presence.enabled || !mayReadPresence(channel)) return;
      const state = tracker.state(channel.room);
      mirror?.addRemote(channel.room, state);
      channel.peer.send(channelPush(channel.joinRef, channel.topic, EVENT.presenceState, state));
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

/**
 * Which channels are joined to which room. A room is a topic plus its privacy: public and private
 * channels of one name never see each other (Supabase's `tenant_topic/3`). Broadcast, presence and
 * (next) postgres_changes all fan out through here, so a frame is encoded once per (room, vsn).
 */
import type { FanoutFrames } from '../codec/index.js';
import type { JoinConfig } from './joinConfig.js';
import type { PhoenixMessage, Vsn } from '../codec/messages.js';
import type { JwtClaims } from '../../stack/jwt.js';

/** The socket side of a channel: what the channel layer may send through. */
export interface ChannelPeer {
  /** Unique per socket for the life of the server. */
  readonly id: string;
  readonly vsn: Vsn;
  /** Encodes and sends one message; dropped silently when this vsn cannot carry it or the socket is closing. */
  send(message: PhoenixMessage): void;
  /** Sends an already-encoded frame (fan-out). */
  sendFrame(frame: string | Buffer): void;
}

/**
 * What row level security on `realtime.messages` lets a private channel's token do on its topic
 * (Supabase's policies): receive (read) and send (write) broadcasts, see (read) and track (write) presence.
 */
export interface ChannelPolicies {
  readonly broadcast: { readonly read: boolean; readonly write: boolean };
  readonly presence: { readonly read: boolean; readonly write: boolean };
}

/** One joined channel (one `phx_join` of one socket). */
export interface JoinedChannel {
  readonly peer: ChannelPeer;
  /** `realtime:<name>`. */
  readonly topic: string;
  readonly joinRef: string;
  /** The room key: topic plus privacy. */
  readonly room: string;
  readonly config: JoinConfig;
  /** The claims of the token the channel is joined with; replaced by `access_token` refreshes. */
  claims: JwtClaims;
  /** A private channel's authorization (replaced by a refresh); undefined on public channels, which may do everything. */
  policies?: ChannelPolicies;
}

/** Whether `channel` may receive broadcasts on its topic (a private channel without a decision may not). */
export const mayReadBroadcast = (channel: JoinedChannel): boolean => (channel.config.private ? (channel.policies?.broadcast.read ?? false) : true);
/** Whether `channel` may send broadcasts on its topic (a private channel without a decision may not). */
export const mayWriteBroadcast = (channel: JoinedChannel): boolean => (channel.config.private ? (channel.policies?.broadcast.write ?? false) : true);
/** Whether `channel` may track presence on its topic (a private channel without a decision may not). */
export const mayWritePresence = (channel: JoinedChannel): boolean => (channel.config.private ? (channel.policies?.presence.write ?? false) : true);
/** Whether `channel` may see presence on its topic (a private channel without a decision may not). */
export const mayReadPresence = (channel: JoinedChannel): boolean => (channel.config.private ? (channel.policies?.presence.read ?? false) : true);

/** The room of a topic; private rooms are keyed apart so a public join can never reach them. */
export function roomKey(topic: string, isPrivate: boolean): string {
  return `${isPrivate ? 'private' : 'public'}|${topic}`;
}

/** The topic of a room key (what `roomKey` was given). */
export function roomTopic(room: string): string {
  return room.slice(room.indexOf('|') + 1);
}

export interface Rooms {
  add(channel: JoinedChannel): void;
  remove(channel: JoinedChannel): void;
  members(room: string): ReadonlySet<JoinedChannel>;
  /** Sends `frames` to every member of `room` that `include` accepts, in the frame of its socket's vsn. */
  fanout(room: string, frames: FanoutFrames, include: (channel: JoinedChannel) => boolean): void;
}

const EMPTY: ReadonlySet<JoinedChannel> = new Set();

/** Creates an empty room registry. */
export function createRooms(): Rooms {
  const rooms = new Map<string, Set<JoinedChannel>>();
  return {
    add(channel) {
      let members = rooms.get(channel.room);
      if (!members) rooms.set(channel.room, (members = new Set()));
      members.add(channel);
    },
    remove(channel) {
      const members = rooms.get(channel.room);
      if (!members) return;
      members.delete(channel);
      if (members.size === 0) rooms.delete(channel.room);
    },
    members(room) {
      return rooms.get(room) ?? EMPTY;
    },
    fanout(room, frames, include) {
      const members = rooms.get(room);
      if (!members) return;
      // No copy: a send never leaves a room synchronously (closing a slow socket only starts ws's close
      // handshake; its channels leave on ws's later 'close'), and a Set skips members deleted mid-iteration anyway.
      for (const channel of members) {
        if (!include(channel)) continue;
        const frame = frames.frameFor(channel.peer.vsn);
        if (frame !== null) channel.peer.sendFrame(frame);
      }
    },
  };
}

/**
 * One socket's channels (docs/realtime-protocol.md §1.4, §2.1–2.3, §2.5, §2.6): `phx_join` on
 * `realtime:<name>`, `phx_leave`, `access_token` refreshes, token expiry, and routing of
 * `broadcast` / `presence` pushes to joined channels.
 */
import { handleBroadcast } from './broadcast.js';
import { parseJoinConfig } from './joinConfig.js';
import { channelLifecycle, channelPush, EVENT, replyTo, type InboundMessage } from './messages.js';
import type { PresenceChannels } from './presenceChannel.js';
import { roomKey, type ChannelPeer, type JoinedChannel, type Rooms } from './rooms.js';
import { checkRealtimeToken, expiredMessage } from './tokens.js';

const TOPIC_PREFIX = 'realtime:';
/** setTimeout's largest delay; longer expiries re-arm when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Lets another feature follow channel lifecycles without the channel layer knowing it
 * (postgres_changes does: changes/extension.ts).
 */
export interface ChannelExtension {
  /** After the join reply (and `presence_state`) went out. */
  onJoin?(channel: JoinedChannel): void;
  /** After an `access_token` refresh replaced `channel.claims`. */
  onClaimsChanged?(channel: JoinedChannel): void;
  /** The channel left, was replaced, expired, or its socket closed. */
  onLeave?(channel: JoinedChannel): void;
}

/** What every socket's channels share. */
export interface ChannelContext {
  jwtSecret: string;
  rooms: Rooms;
  presence: PresenceChannels;
  extensions: readonly ChannelExtension[];
}

export interface SocketChannels {
  /** Handles one decoded message whose topic is not `phoenix`. */
  handle(message: InboundMessage): void;
  /** The socket closed: every channel leaves without sending anything. */
  closeAll(): void;
}

interface ChannelState extends JoinedChannel {
  token: string;
  exp: number;
  timer: NodeJS.Timeout | undefined;
}

/** Channels of one socket that connected with `socketToken` (its verified `apikey`). */
export function createSocketChannels(peer: ChannelPeer, socketToken: string, context: ChannelContext): SocketChannels {
  const joined = new Map<string, ChannelState>();

  function teardown(channel: ChannelState): void {
    clearTimeout(channel.timer);
    if (joined.get(channel.topic) === channel) joined.delete(channel.topic);
    context.rooms.remove(channel);
    context.presence.leave(channel);
    for (const extension of context.extensions) extension.onLeave?.(channel);
  }

  /** Supabase's shutdown: a `system` error naming why, then `phx_close` (client status CLOSED). */
  function shutdown(channel: ChannelState, message: string): void {
    const channelName = channel.topic.slice(TOPIC_PREFIX.length);
    peer.send(channelPush(channel.joinRef, channel.topic, EVENT.system, { extension: 'system', status: 'error', message, channel: channelName }));
    peer.send(channelLifecycle(EVENT.close, channel.joinRef, channel.topic));
    teardown(channel);
  }

  function scheduleExpiry(channel: ChannelState): void {
    clearTimeout(channel.timer);
    const delay = channel.exp * 1000 - Date.now();
    channel.timer = setTimeout(() => {
      const now = Math.floor(Date.now() / 1000);
      if (now < channel.exp) scheduleExpiry(channel);
      else shutdown(channel, expiredMessage(channel.exp, now));
    }, Math.min(Math.max(delay, 0), MAX_TIMER_MS));
    // An open channel must not keep a process alive on its own.
    channel.timer.unref();
  }

  function join(message: InboundMessage): void {
    const { topic } = message;
    const fail = (reason: string) => peer.send(replyTo(message, 'error', { reason }));
    if (!topic.startsWith(TOPIC_PREFIX)) return fail('unmatched topic');
    if (topic === TOPIC_PREFIX) return fail('TopicNameRequired: You must provide a topic name');
    // The join push's own ref becomes the channel's join_ref (phoenix.js sends both equal).
    const joinRef = message.joinRef ?? message.ref;
    if (joinRef === null) return fail('InvalidJoinPayload: phx_join needs a ref');

    const previous = joined.get(topic);
    if (previous) {
      // Phoenix semantics: the old channel is closed before the new join is processed.
      peer.send(channelLifecycle(EVENT.close, previous.joinRef, topic));
      teardown(previous);
    }

    const parsed = parseJoinConfig(message.payload);
    if (!parsed.ok) return fail(`InvalidJoinPayload: ${parsed.message}`);
    const config = parsed.config;
    const token = config.accessToken ?? socketToken;
    const checked = checkRealtimeToken(context.jwtSecret, token);
    if (!checked.ok) return fail(`InvalidJWTToken: ${checked.message}`);

    const channel: ChannelState = {
      peer,
      topic,
      joinRef,
      room: roomKey(topic, config.private),
      config,
      claims: checked.claims,
      token,
      exp: checked.exp,
      timer: undefined,
    };
    joined.set(topic, channel);
    context.rooms.add(channel);
    scheduleExpiry(channel);
    const postgresChanges = config.postgresChanges.map((binding) => ({ ...binding.params, id: binding.id }));
    peer.send(replyTo({ joinRef, ref: message.ref, topic }, 'ok', { postgres_changes: postgresChanges }));
    context.presence.afterJoin(channel);
    for (const extension of context.extensions) extension.onJoin?.(channel);
  }

  function refreshToken(channel: ChannelState, message: InboundMessage): void {
    const token = message.payload.access_token;
    // Supabase ignores missing, unchanged and `sb_` (non-JWT) tokens without a word.
    if (typeof token !== 'string' || token === channel.token || token.startsWith('sb_')) return;
    const checked = checkRealtimeToken(context.jwtSecret, token);
    if (!checked.ok) return shutdown(channel, checked.message);
    channel.token = token;
    channel.claims = checked.claims;
    channel.exp = checked.exp;
    scheduleExpiry(channel);
    for (const extension of context.extensions) extension.onClaimsChanged?.(channel);
  }

  return {
    handle(message) {
      if (message.event === EVENT.join) return join(message);
      const channel = joined.get(message.topic);
      if (!channel) {
        if (message.ref !== null) peer.send(replyTo(message, 'error', { reason: 'unmatched topic' }));
        return;
      }
      switch (message.event) {
        case EVENT.leave:
          peer.send(replyTo(message, 'ok', {}));
          peer.send(channelLifecycle(EVENT.close, channel.joinRef, channel.topic));
          return teardown(channel);
        case EVENT.accessToken:
          return refreshToken(channel, message);
        case EVENT.broadcast: {
          const reply = handleBroadcast(context.rooms, channel, message);
          if (reply !== null) peer.send(reply);
          return;
        }
        case EVENT.presence:
          return peer.send(context.presence.handle(channel, message));
        default:
          if (message.ref !== null) peer.send(replyTo(message, 'error', { reason: `UnknownEvent: no handler for event on ${channel.topic}` }));
      }
    },

    closeAll() {
      for (const channel of [...joined.values()]) teardown(channel);
    },
  };
}

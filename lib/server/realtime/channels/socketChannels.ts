/**
 * One socket's channels (docs/realtime-protocol.md §1.4, §2.1–2.3, §2.5, §2.6): `phx_join` on
 * `realtime:<name>`, `phx_leave`, `access_token` refreshes, token expiry, and routing of
 * `broadcast` / `presence` pushes to joined channels.
 *
 * A join is answered only once every extension authorized it (postgres_changes checks the token's
 * role in the database), and so is a refresh that changes the role. Like a Phoenix socket, which
 * waits for a channel's join before reading its next message, the socket's later messages wait
 * (in order, bounded) until then; heartbeats are answered meanwhile (transport/connection.ts).
 */
import { unusableClaims } from '../authorization/claims.js';
import { handleBroadcast, type RoomBroadcast } from './broadcast.js';
import { parseJoinConfig } from './joinConfig.js';
import { createConnectionLimiter, DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './limits.js';
import { channelLifecycle, channelPush, EVENT, replyTo, type InboundMessage } from '../codec/messages.js';
import type { PresenceChannels } from '../presence/channel.js';
import { roomKey, type ChannelPeer, type JoinedChannel, type Rooms } from './rooms.js';
import { checkRealtimeToken, expiredMessage, type AcceptedToken } from './tokens.js';
import type { JwtClaims } from '../../stack/jwt.js';
import { channelName, TOPIC_PREFIX } from '../../../protocol/phoenix.js';

/** setTimeout's largest delay; longer expiries re-arm when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Lets another feature follow channel lifecycles without the channel layer knowing it
 * (postgres_changes does: changes/extension.ts).
 */
export interface ChannelExtension {
  /**
   * Before a join is answered, and before an `access_token` refresh that changes the role applies:
   * null to accept, or the reason to refuse (the join's error reply, or the refreshed channel's
   * shutdown message). `claims` are the token's (on a refresh, the new ones). Called on a refresh
   * when the role changes, and on every refresh of a private channel.
   */
  authorize?(channel: JoinedChannel, claims: JwtClaims): Promise<string | null> | string | null;
  /**
   * After the join is authorized, before it is answered: an extension that must be ready before the
   * client hears `ok` (postgres_changes: its bindings live, so a write committed after the reply
   * reaches the channel) returns true and then calls `ready` once: null to answer `ok`, or a reason
   * to refuse the join with (only when the client asked to wait, `channel.config.postgresChangesOptions`).
   * Meanwhile the channel is joined (a leave or close tears it down) but in no room, and the
   * socket's other channels go on. `ready` may send the reply synchronously: an extension calls it
   * where nothing can reach the channel between the reply and what must follow it.
   */
  prepare?(channel: JoinedChannel, ready: (refusal: string | null) => void): boolean;
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
  /** Carries a client's broadcast to the room's channels on other nodes (a cluster: cluster/node.ts). */
  relayBroadcast?: (broadcast: RoomBroadcast) => void;
  extensions: readonly ChannelExtension[];
  /** postgres_changes bindings one socket's channels may hold together. */
  maxBindingsPerConnection: number;
  /** How long a join whose bindings aren't live yet is held before it is answered `ok` anyway (the client didn't ask to wait). */
  joinHoldMs: number;
  /** The longest a client asking to wait (`postgres_changes_options.wait`) is held; its `timeout` is clamped to this. */
  maxJoinWaitMs: number;
  /** Channels, joins and messages one connection may have (limits.ts). Default: DEFAULT_CONNECTION_LIMITS. */
  limits?: Readonly<ConnectionLimits>;
}

/**
 * The longest topic a join may name, in UTF-8 bytes (`realtime:` included). Topics key rooms,
 * presence and cached private-channel decisions: a 5 MB frame must not make a 5 MB key.
 */
export const MAX_TOPIC_BYTES = 1024;

/** Messages (and their frames' bytes) a socket may send while a join or refresh is being authorized; later ones are refused. */
export const MAX_WAITING_MESSAGES = 1000;
export const MAX_WAITING_BYTES = 1024 * 1024;

export interface SocketChannels {
  /** Handles one decoded message whose topic is not `phoenix`; `bytes` is its frame's size (what it may hold while waiting). */
  handle(message: InboundMessage, bytes?: number): void;
  /** The socket closed: every channel leaves without sending anything. */
  closeAll(): void;
}

interface ChannelState extends JoinedChannel {
  token: string;
  exp: number;
  timer: NodeJS.Timeout | undefined;
  /** While the join is held (prepare): its timeout; the channel is in no room and gets nothing. */
  hold: NodeJS.Timeout | undefined;
  answered: boolean;
}

/** Supabase's reason for a `wait` join whose postgres_changes did not become live in time. */
export const waitTimeoutMessage = (ms: number) =>
  `PostgresChangesSubscribeTimeout: the postgres_changes subscription was not live within ${ms} ms; try again later`;

/**
 * Channels of one socket that connected with `socketToken` (its verified `apikey`); `closeForPolicy`
 * closes the socket (1008) when it keeps flooding past a rate limit.
 */
export function createSocketChannels(peer: ChannelPeer, socketToken: string, context: ChannelContext, closeForPolicy: (reason: string) => void = () => undefined): SocketChannels {
  const joined = new Map<string, ChannelState>();
  const limiter = createConnectionLimiter(context.limits ?? DEFAULT_CONNECTION_LIMITS, closeForPolicy);

  function teardown(channel: ChannelState): void {
    clearTimeout(channel.timer);
    clearTimeout(channel.hold);
    if (joined.get(channel.topic) === channel) joined.delete(channel.topic);
    context.rooms.remove(channel);
    context.presence.leave(channel);
    for (const extension of context.extensions) extension.onLeave?.(channel);
  }

  /** Supabase's shutdown: a `system` error naming why, then `phx_close` (client status CLOSED). */
  function shutdown(channel: ChannelState, message: string): void {
    peer.send(channelPush(channel.joinRef, channel.topic, EVENT.system, { extension: 'system', status: 'error', message, channel: channelName(channel.topic) }));
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

  /** Checks a token for this socket: verified, and claims the server can use (claims.ts). */
  function checkToken(token: unknown): AcceptedToken | { ok: false; message: string } {
    const checked = checkRealtimeToken(context.jwtSecret, token);
    if (!checked.ok) return checked;
    const problem = unusableClaims(checked.claims);
    return problem === null ? checked : { ok: false, message: `Invalid JWT: ${problem}` };
  }

  /** Every extension's verdict on `claims` for `channel`: null, or the first refusal. */
  async function authorize(channel: JoinedChannel, claims: JwtClaims): Promise<string | null> {
    for (const extension of context.extensions) {
      if (!extension.authorize) continue;
      let verdict: string | null;
      try {
        verdict = await extension.authorize(channel, claims);
      } catch (error) {
        verdict = `UnableToAuthorize: ${(error as Error)?.message ?? String(error)}`;
      }
      if (verdict !== null) return verdict;
    }
    return null;
  }

  const bindingsOf = (channel: JoinedChannel) => channel.config.postgresChanges.length;

  function join(message: InboundMessage): Promise<void> | void {
    const { topic } = message;
    const fail = (reason: string): void => {
      peer.send(replyTo(message, 'error', { reason }));
    };
    if (!topic.startsWith(TOPIC_PREFIX)) return fail('unmatched topic');
    if (topic === TOPIC_PREFIX) return fail('TopicNameRequired: You must provide a topic name');
    const topicBytes = Buffer.byteLength(topic);
    if (topicBytes > MAX_TOPIC_BYTES) return fail(`TopicNameTooLong: a topic may have at most ${MAX_TOPIC_BYTES} bytes, this one has ${topicBytes}`);
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
    const overLimit = limiter.checkJoin(joined.size, config.postgresChanges.length);
    if (overLimit !== null) return fail(overLimit);
    const token = config.accessToken ?? socketToken;
    const checked = checkToken(token);
    if (!checked.ok) return fail(`InvalidJWTToken: ${checked.message}`);
    let held = 0;
    for (const channel of joined.values()) held += bindingsOf(channel);
    if (held + config.postgresChanges.length > context.maxBindingsPerConnection) {
      return fail(`TooManyBindings: this connection would hold more than ${context.maxBindingsPerConnection} postgres_changes bindings (it holds ${held}); leave a channel first`);
    }

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
      hold: undefined,
      answered: false,
    };
    const accept = () => {
      joined.set(topic, channel);
      scheduleExpiry(channel);
      hold(channel, message);
    };
    if (!context.extensions.some((extension) => extension.authorize)) return accept();
    return authorize(channel, checked.claims).then((refusal) => {
      if (closed) return;
      if (refusal !== null) fail(refusal);
      else accept();
    });
  }

  /**
   * Answers a joined channel's join once every extension that holds it is ready (prepare), or when
   * the hold times out: `ok`, or for a client that asked to wait, the refusal. Later messages of
   * this socket don't wait for it: the hold can last seconds (replication down).
   */
  function hold(channel: ChannelState, message: InboundMessage): void {
    const holders = context.extensions.filter((extension) => extension.prepare);
    const waitOptions = channel.config.postgresChangesOptions;
    const wait = waitOptions?.wait === true;
    const holdMs = wait ? Math.min(waitOptions!.timeoutMs ?? context.maxJoinWaitMs, context.maxJoinWaitMs) : context.joinHoldMs;
    let pending = holders.length;
    const settle = (refusal: string | null) => {
      if (channel.answered) return;
      channel.answered = true;
      clearTimeout(channel.hold);
      channel.hold = undefined;
      if (closed || joined.get(channel.topic) !== channel) return;
      if (refusal !== null && wait) {
        peer.send(replyTo(message, 'error', { reason: refusal }));
        teardown(channel);
        return;
      }
      context.rooms.add(channel);
      const postgresChanges = channel.config.postgresChanges.map((binding) => ({ ...binding.params, id: binding.id }));
      peer.send(replyTo({ joinRef: channel.joinRef, ref: message.ref, topic: channel.topic }, 'ok', { postgres_changes: postgresChanges }));
      context.presence.afterJoin(channel);
      for (const extension of context.extensions) extension.onJoin?.(channel);
    };
    for (const extension of holders) {
      let called = false;
      const held = extension.prepare!(channel, (refusal) => {
        if (called) return;
        called = true;
        if (refusal !== null) settle(refusal);
        else if (--pending === 0) settle(null);
      });
      if (!held && !called) {
        called = true;
        pending--;
      }
    }
    if (channel.answered) return;
    if (pending === 0) return settle(null);
    channel.hold = setTimeout(() => settle(wait ? waitTimeoutMessage(holdMs) : null), holdMs);
    channel.hold.unref();
  }

  function refreshToken(channel: ChannelState, message: InboundMessage): Promise<void> | void {
    const token = message.payload.access_token;
    // Supabase ignores missing, unchanged and `sb_` (non-JWT) tokens without a word.
    if (typeof token !== 'string' || token === channel.token || token.startsWith('sb_')) return;
    const checked = checkToken(token);
    if (!checked.ok) return shutdown(channel, checked.message);
    const apply = () => {
      channel.token = token;
      channel.claims = checked.claims;
      channel.exp = checked.exp;
      scheduleExpiry(channel);
      for (const extension of context.extensions) extension.onClaimsChanged?.(channel);
    };
    // Same role on a public channel: what the join authorized still holds (the claims are checked
    // with every batch). A private channel's policies may read any claim: always checked again.
    const reauthorize = checked.claims.role !== channel.claims.role || channel.config.private;
    if (!reauthorize || !context.extensions.some((extension) => extension.authorize)) return apply();
    return authorize(channel, checked.claims).then((refusal) => {
      if (closed || joined.get(channel.topic) !== channel) return;
      if (refusal !== null) shutdown(channel, refusal);
      else apply();
    });
  }

  /** Handles one message now; a promise while its join or refresh is being authorized. */
  function process(message: InboundMessage): Promise<void> | void {
    if (message.event === EVENT.join) return join(message);
    const channel = joined.get(message.topic);
    if (!channel) {
      if (message.ref !== null) peer.send(replyTo(message, 'error', { reason: 'unmatched topic' }));
      return;
    }
    if (!channel.answered && message.event !== EVENT.leave && message.event !== EVENT.accessToken) {
      // Stock clients buffer pushes until the join's `ok`; this one didn't wait for it.
      if (message.ref !== null) peer.send(replyTo(message, 'error', { reason: `ChannelNotJoined: the join of ${channel.topic} is not answered yet` }));
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
        const reply = handleBroadcast(context.rooms, channel, message, context.relayBroadcast);
        if (reply !== null) peer.send(reply);
        return;
      }
      case EVENT.presence:
        return peer.send(context.presence.handle(channel, message));
      default:
        if (message.ref !== null) peer.send(replyTo(message, 'error', { reason: `UnknownEvent: no handler for event on ${channel.topic}` }));
    }
  }

  /** Messages that arrived while a join or refresh was being authorized, in order, with their sizes. */
  const waiting: InboundMessage[] = [];
  const waitingSizes: number[] = [];
  let waitingBytes = 0;
  let busy = false;
  const nextWaiting = (): InboundMessage | undefined => {
    waitingBytes -= waitingSizes.shift() ?? 0;
    return waiting.shift();
  };
  let closed = false;

  /** Processes `message`, then what waited behind it, stopping at the next one that must wait. */
  function run(message: InboundMessage): void {
    for (let next: InboundMessage | undefined = message; next; next = nextWaiting()) {
      let pending: Promise<void> | void;
      try {
        pending = process(next);
      } catch (error) {
        pending = undefined;
        // A bug of ours, triggered by this client only: answer it like Supabase's crashed channel does.
        if (next.ref !== null) peer.send(replyTo(next, 'error', { reason: 'Unknown Error on Channel' }));
      }
      // Only a promise waits: what a handler returns otherwise (a send's result) means nothing here.
      if (pending instanceof Promise) {
        busy = true;
        void pending.finally(() => {
          busy = false;
          const after = nextWaiting();
          if (after && !closed) run(after);
        });
        return;
      }
    }
  }

  return {
    handle(message, bytes = 0) {
      if (closed) return;
      const refusal = limiter.admit(message.event);
      if (refusal !== null) {
        if (message.ref !== null) peer.send(replyTo(message, 'error', { reason: refusal }));
        return;
      }
      if (!busy) return run(message);
      if (waiting.length >= MAX_WAITING_MESSAGES || waitingBytes + bytes > MAX_WAITING_BYTES) {
        if (message.ref !== null) {
          peer.send(replyTo(message, 'error', { reason: `TooManyMessages: more than ${MAX_WAITING_MESSAGES} messages or ${MAX_WAITING_BYTES} bytes would wait for a join to be authorized` }));
        }
        return;
      }
      waiting.push(message);
      waitingSizes.push(bytes);
      waitingBytes += bytes;
    },

    closeAll() {
      closed = true;
      waiting.length = 0;
      waitingSizes.length = 0;
      waitingBytes = 0;
      for (const channel of [...joined.values()]) teardown(channel);
    },
  };
}

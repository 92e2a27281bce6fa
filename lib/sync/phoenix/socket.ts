/**
 * A Phoenix socket for the Supabase Realtime protocol: one WebSocket reopened with jittered backoff
 * (on reconnecting-websocket, reconnect.ts), heartbeats that detect a dead connection, pushes matched
 * to replies by ref with a timeout, and channels that rejoin (re-evaluating their join payload) after
 * every reconnect or server error. Every observable change is reported through `onEvent`; nothing
 * here throws on bad frames. Browser-safe: the WebSocket class and timers are injected.
 */
import { EVENT, PHOENIX_TOPIC } from '../../protocol/phoenix.js';
import { backoffDelay } from './backoff.js';
import { createHeartbeat } from './heartbeat.js';
import { channelTransition, connectionTransition, type ChannelEvent, type ChannelState, type ConnectionState } from './machines.js';
import { createPushRegistry } from './pushes.js';
import { startReconnectLoop, type ReconnectLoop } from './reconnect.js';
import { decodeFrame, encodeFrame, type PhoenixMessage } from './serializer.js';
import { errorMessage, parseReply, reasonOf, resolveSocketOptions } from './socketOptions.js';
import type { Transport } from './transport.js';
import type { PhoenixSocket, PhoenixSocketOptions, PushResult, SocketEvent } from './types.js';

export type { ChannelStatus, ConnectionStatus, PhoenixSocket, PhoenixSocketOptions, PushOptions, PushResult, SocketEvent, Timers, WebSocketConstructor, WebSocketLike } from './types.js';
export { socketUrl, DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_TIMEOUT_MS, DEFAULT_VSN } from './socketOptions.js';


interface Channel {
  readonly topic: string;
  payload: () => object;
  state: ChannelState;
  /** Ref of the join in flight or accepted; null while none is. */
  joinRef: string | null;
  rejoinAttempt: number;
  rejoinTimer: unknown;
}

/** Creates a socket; nothing happens until `connect()`. Throws a TypeError for invalid options. */
export function createPhoenixSocket(options: PhoenixSocketOptions): PhoenixSocket {
  const { vsn, endpoint, heartbeatIntervalMs, timeoutMs, connectionTimeoutMs, minUptimeMs, reconnectPolicy, rejoinPolicy, timers, random, now, WebSocketClass } = resolveSocketOptions(options);

  let connection: ConnectionState = 'closed';
  /** From connect() to disconnect(). */
  let loop: ReconnectLoop | null = null;
  /** The open connection. */
  let ws: Transport | null = null;
  let lastRef = 0;
  let token: string | null = null;
  const pushes = createPushRegistry(timers);
  const channels = new Map<string, Channel>();

  const nextRef = () => String(++lastRef);

  function emit(event: SocketEvent): void {
    try {
      options.onEvent(event);
    } catch (error) {
      // A listener's bug must not corrupt the socket's state; surface it outside this call stack.
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  function send(message: PhoenixMessage, binary = false): boolean {
    const encoded = encodeFrame(vsn, message, { binary });
    if (!encoded.ok) {
      emit({ type: 'error', code: encoded.error.code, message: `${message.topic} ${message.event}: ${encoded.error.message}` });
      return false;
    }
    if (!ws) return false;
    try {
      ws.send(encoded.frame);
      return true;
    } catch (error) {
      emit({ type: 'error', code: 'SEND_FAILED', message: errorMessage(error) });
      return false;
    }
  }

  // ---- connection ----

  function startLoop(): ReconnectLoop {
    return startReconnectLoop({
      endpoint,
      WebSocketClass,
      policy: reconnectPolicy,
      connectionTimeoutMs,
      minUptimeMs,
      random,
      timers,
      onOpen: opened,
      onMessage: receive,
      onDrop({ code, reason, attempt, delayMs }) {
        ws = null;
        connection = connectionTransition(connection, 'dropped');
        connectionLost('connection lost');
        emit({ type: 'status', status: 'reconnecting', attempt, delayMs, code, reason });
      },
      onRetry(attempt) {
        connection = connectionTransition(connection, 'retry');
        emit({ type: 'status', status: 'connecting', attempt });
      },
      onConstructorFailed: (error) => emit({ type: 'error', code: 'CONNECT_FAILED', message: errorMessage(error) }),
    });
  }

  function opened(transport: Transport): void {
    connection = connectionTransition(connection, 'opened');
    if (connection !== 'open') return;
    ws = transport;
    emit({ type: 'status', status: 'open' });
    heartbeat.start();
    for (const channel of [...channels.values()]) {
      if (channel.state === 'joining') sendJoin(channel);
      else if (channel.state === 'errored' && channelEvent(channel, 'socketOpened') === 'joining') sendJoin(channel);
    }
  }

  /** What every way of losing the connection shares: no heartbeat, no pending reply, channels errored. */
  function connectionLost(reason: string): void {
    heartbeat.stop();
    for (const channel of [...channels.values()]) {
      channel.joinRef = null; // replies to the lost joins are no longer awaited
      clearRejoin(channel);
      channelEvent(channel, 'socketClosed', { error: reason });
    }
    pushes.failAll({ status: 'error', response: { reason } });
  }

  // ---- heartbeat ----

  const heartbeat = createHeartbeat({
    intervalMs: heartbeatIntervalMs,
    timers,
    now,
    nextRef,
    send: (ref) => send({ joinRef: null, ref, topic: PHOENIX_TOPIC, event: EVENT.heartbeat, payload: {} }),
    onSent: () => emit({ type: 'heartbeat', status: 'sent' }),
    onReply: (latencyMs) => emit({ type: 'heartbeat', status: 'ok', latencyMs }),
    onTimeout() {
      emit({ type: 'heartbeat', status: 'timeout' });
      const socket = ws;
      ws = null;
      connection = connectionTransition(connection, 'heartbeatTimeout');
      connectionLost('heartbeat timeout');
      // Reported closed at once, so the loop reconnects (onDrop) without waiting for a closing
      // handshake the dead connection will never complete.
      socket?.drop(1000, 'heartbeat timeout');
    },
  });

  // ---- inbound ----

  function receive(data: unknown): void {
    const decoded = decodeFrame(vsn, data);
    if (!decoded.ok) {
      emit({ type: 'error', code: decoded.error.code, message: decoded.error.message });
      return;
    }
    const message = decoded.message;
    if (message.event === EVENT.reply) {
      if (message.topic === PHOENIX_TOPIC && heartbeat.reply(message.ref)) return;
      const reply = parseReply(message.payload);
      if (!reply) emit({ type: 'error', code: 'INVALID_REPLY', message: `phx_reply on ${message.topic} lacks status "ok" or "error"` });
      if (message.ref !== null) pushes.reply(message.ref, reply ?? { status: 'error', response: message.payload });
      return;
    }
    const channel = channels.get(message.topic);
    if (!channel) {
      // The server confirms a leave with phx_close after its reply, once the channel is forgotten
      // (phoenix.js drops it silently too).
      if (message.event === EVENT.close) return;
      emit({ type: 'error', code: 'UNKNOWN_TOPIC', message: `${message.event} for ${message.topic}, which is not joined: ignored` });
      return;
    }
    // A frame of an earlier join of this topic (phoenix.js `isMember`); v1 puts the join ref of
    // phx_close / phx_error in `ref`.
    if (message.joinRef !== null && message.joinRef !== channel.joinRef) return;
    const control = message.event === EVENT.error || message.event === EVENT.close;
    if (control && message.joinRef === null && message.ref !== null && message.ref !== channel.joinRef) return;
    if (message.event === 'phx_error') {
      channel.joinRef = null;
      channelEvent(channel, 'serverError', { error: reasonOf(message.payload) ?? 'channel error' });
      pushes.failAll({ status: 'error', response: { reason: 'channel error' } }, channel.topic);
      scheduleRejoin(channel);
    } else if (message.event === EVENT.close) {
      channelEvent(channel, 'serverClose', { response: message.payload });
    } else if (channel.state === 'joined' || channel.state === 'joining') {
      emit({ type: 'message', topic: message.topic, event: message.event, payload: message.payload, joinRef: channel.joinRef });
    }
  }

  // ---- channels ----

  /** Applies `event`; reports a changed state (and every failure), and forgets a closed channel. */
  function channelEvent(channel: Channel, event: ChannelEvent, detail: { response?: unknown; error?: string } = {}): ChannelState {
    const from = channel.state;
    const to = channelTransition(from, event);
    channel.state = to;
    const failure = event === 'joinError' || event === 'joinTimeout' || event === 'serverError';
    // 'joining' is reported when a join frame is actually sent (sendJoin), with its ref.
    if ((from !== to || failure) && to !== 'joining') {
      emit({ type: 'channel', topic: channel.topic, status: to, ...(channel.joinRef !== null && { joinRef: channel.joinRef }), ...detail });
    }
    if (to === 'closed' && channels.get(channel.topic) === channel) {
      clearRejoin(channel);
      channels.delete(channel.topic);
      pushes.failAll({ status: 'error', response: { reason: 'channel closed' } }, channel.topic);
    }
    return to;
  }

  function sendJoin(channel: Channel): void {
    if (connection !== 'open' || !ws) return;
    clearRejoin(channel);
    let payload: object;
    try {
      payload = channel.payload();
      if (payload === null || typeof payload !== 'object') throw new TypeError(`join payload must be an object, got ${payload === null ? 'null' : typeof payload}`);
    } catch (error) {
      emit({ type: 'error', code: 'JOIN_PAYLOAD_FAILED', message: `${channel.topic}: ${errorMessage(error)}` });
      channelEvent(channel, 'joinError', { error: errorMessage(error) });
      scheduleRejoin(channel);
      return;
    }
    const ref = nextRef();
    channel.joinRef = ref;
    emit({ type: 'channel', topic: channel.topic, status: 'joining', joinRef: ref });
    pushes.await(ref, channel.topic, timeoutMs, (result) => joinSettled(channel, ref, result));
    const body = token === null ? payload : { ...payload, access_token: token };
    if (!send({ joinRef: ref, ref, topic: channel.topic, event: EVENT.join, payload: body })) pushes.reply(ref, { status: 'error', response: { reason: 'join frame could not be sent' } });
  }

  function joinSettled(channel: Channel, ref: string, result: PushResult): void {
    if (channels.get(channel.topic) !== channel || channel.joinRef !== ref) return; // superseded
    if (result.status === 'ok') {
      channel.rejoinAttempt = 0;
      channelEvent(channel, 'joinOk', { response: result.response });
      return;
    }
    if (result.status === 'timeout') {
      // Like phoenix.js: tell the server to drop the join in case it completes late.
      send({ joinRef: ref, ref: nextRef(), topic: channel.topic, event: EVENT.leave, payload: {} });
      channel.joinRef = null;
      channelEvent(channel, 'joinTimeout', { error: 'join timed out' });
    } else {
      channel.joinRef = null;
      channelEvent(channel, 'joinError', { response: result.response, error: reasonOf(result.response) ?? 'join refused' });
    }
    scheduleRejoin(channel);
  }

  /** Rejoins an errored channel after a backoff delay; while disconnected the reopening socket rejoins instead. */
  function scheduleRejoin(channel: Channel): void {
    if (connection !== 'open' || channel.state !== 'errored') return;
    clearRejoin(channel);
    channel.rejoinAttempt += 1;
    channel.rejoinTimer = timers.setTimeout(() => {
      channel.rejoinTimer = null;
      if (channels.get(channel.topic) !== channel) return;
      if (channel.state === 'errored' && channelEvent(channel, 'rejoin') === 'joining') sendJoin(channel);
    }, backoffDelay(rejoinPolicy, channel.rejoinAttempt, random));
  }

  function clearRejoin(channel: Channel): void {
    if (channel.rejoinTimer !== null) timers.clearTimeout(channel.rejoinTimer);
    channel.rejoinTimer = null;
  }

  function leaveChannel(channel: Channel): void {
    clearRejoin(channel);
    const joinRef = channel.joinRef;
    const from = channel.state;
    if (channelEvent(channel, 'leave') !== 'leaving') return;
    if ((from !== 'joined' && from !== 'joining') || joinRef === null || connection !== 'open') {
      channelEvent(channel, 'leaveDone');
      return;
    }
    const ref = nextRef();
    pushes.await(ref, channel.topic, timeoutMs, () => {
      if (channels.get(channel.topic) === channel && channel.state === 'leaving') channelEvent(channel, 'leaveDone');
    });
    if (!send({ joinRef: joinRef, ref, topic: channel.topic, event: EVENT.leave, payload: {} })) pushes.reply(ref, { status: 'error', response: null });
  }

  return {
    connect() {
      const next = connectionTransition(connection, 'connect');
      if (next === connection) return;
      // Reconnecting: the attempt waiting out its delay goes now (onRetry reports it).
      if (loop?.retryNow()) return;
      connection = next;
      emit({ type: 'status', status: 'connecting' });
      loop?.stop(1000, 'reconnect');
      loop = startLoop();
    },

    disconnect() {
      const wasClosed = connection === 'closed';
      connection = connectionTransition(connection, 'disconnect');
      loop?.stop(1000, 'disconnect');
      loop = null;
      ws = null;
      connectionLost('disconnected');
      if (!wasClosed) emit({ type: 'status', status: 'closed', code: 1000, reason: 'disconnect' });
    },

    setAuth(next) {
      if (next !== null && (typeof next !== 'string' || next.length === 0)) throw new TypeError('setAuth: token must be a non-empty string or null');
      if (next === token) return;
      token = next;
      if (token === null) return;
      for (const channel of channels.values()) {
        if (channel.state === 'joined' && channel.joinRef !== null) {
          send({ joinRef: channel.joinRef, ref: nextRef(), topic: channel.topic, event: EVENT.accessToken, payload: { access_token: token } });
        }
      }
    },

    join(topic, payload) {
      if (typeof topic !== 'string' || topic.length === 0 || topic === PHOENIX_TOPIC) throw new TypeError(`join: topic must be a non-empty string other than "phoenix", got ${JSON.stringify(topic)}`);
      if (typeof payload !== 'function') throw new TypeError('join: payload must be a function returning the join payload');
      const existing = channels.get(topic);
      if (existing) {
        existing.payload = payload;
        if (existing.state === 'leaving' || existing.state === 'errored') {
          clearRejoin(existing);
          if (channelEvent(existing, 'join') === 'joining') sendJoin(existing);
        }
        return;
      }
      const channel: Channel = { topic, payload, state: 'closed', joinRef: null, rejoinAttempt: 0, rejoinTimer: null };
      channels.set(topic, channel);
      channelEvent(channel, 'join');
      sendJoin(channel);
    },

    leave(topic) {
      const channel = channels.get(topic);
      if (channel) leaveChannel(channel);
    },

    rejoin(topic) {
      const channel = channels.get(topic);
      // A join not sent yet (socket not open) or a rejoin waiting out its delay evaluates the payload
      // when it goes out; a leaving or closed channel has nothing to rejoin.
      if (!channel || channel.joinRef === null || connection !== 'open') return;
      if (channel.state !== 'joined' && channel.state !== 'joining') return;
      // The server closes the current join (phx_close with its join_ref, ignored here as superseded)
      // and processes the new one; a reply to a join still in flight is ignored the same way.
      if (channelEvent(channel, 'reconfigure') === 'joining') sendJoin(channel);
    },

    push(topic, event, payload, pushOptions = {}) {
      const channel = channels.get(topic);
      if (!channel || channel.state !== 'joined' || channel.joinRef === null || connection !== 'open') {
        return Promise.resolve({ status: 'error', response: { reason: `channel ${topic} is not joined` } });
      }
      if (typeof event !== 'string' || event.length === 0) return Promise.resolve({ status: 'error', response: { reason: 'event must be a non-empty string' } });
      const ref = nextRef();
      const message: PhoenixMessage = { joinRef: channel.joinRef, ref, topic, event, payload };
      const encoded = encodeFrame(vsn, message, { binary: pushOptions.binary === true });
      if (!encoded.ok) return Promise.resolve({ status: 'error', response: { reason: encoded.error.message, code: encoded.error.code } });
      return new Promise<PushResult>((resolve) => {
        if (pushOptions.awaitReply !== false) pushes.await(ref, topic, timeoutMs, resolve);
        try {
          ws!.send(encoded.frame);
        } catch (error) {
          if (!pushes.reply(ref, { status: 'error', response: { reason: errorMessage(error) } })) resolve({ status: 'error', response: { reason: errorMessage(error) } });
          return;
        }
        if (pushOptions.awaitReply === false) resolve({ status: 'ok', response: null });
      });
    },

    get state() {
      return connection;
    },

    channelState(topic) {
      return channels.get(topic)?.state ?? 'closed';
    },
  };
}

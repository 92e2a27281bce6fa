/**
 * The reconnect loop, on reconnecting-websocket (rws): it reopens the connection after every close,
 * gives up on an attempt that does not open within `connectionTimeoutMs`, and counts attempts,
 * starting again from 1 only after a connection stayed up `minUptimeMs` (so a server that accepts
 * and drops at once is backed off like one that refuses).
 *
 * The delay before each attempt is ours, not rws's: rws 4.4 has no jitter, and its `close()` leaves
 * the timer of a delay in progress running (up to the whole delay), which `disconnect()` must not.
 * So rws's own delays are zero and the attempt waits inside rws's url provider for our delay: the
 * reconnect policy's full jitter, uniform in [0, min(minDelayMs · factor^(attempt−1), maxDelayMs)],
 * drawn anew for every attempt from the injected random source, on the injected timers; `stop()`
 * clears it.
 */
import ReconnectingWebSocket, { type Options } from 'reconnecting-websocket';
import { backoffDelay, type BackoffPolicy, type RandomSource } from './backoff.js';
import { transportClass, type Transport } from './transport.js';
import type { Timers, WebSocketConstructor } from './types.js';

export interface ReconnectLoopOptions {
  endpoint: string;
  WebSocketClass: WebSocketConstructor;
  policy: BackoffPolicy;
  connectionTimeoutMs: number;
  minUptimeMs: number;
  random: RandomSource;
  timers: Timers;
  onOpen(transport: Transport): void;
  onMessage(data: unknown): void;
  /** The connection closed, or an attempt failed; attempt number `attempt` starts after `delayMs`. */
  onDrop(drop: { code: number; reason: string; attempt: number; delayMs: number }): void;
  /** The delay of attempt `attempt` is over (or was skipped): it connects now. */
  onRetry(attempt: number): void;
  /** The WebSocket constructor threw (the attempt fails like a refused connection). */
  onConstructorFailed(error: unknown): void;
}

export interface ReconnectLoop {
  /** Ends the delay of the attempt waiting, which connects now; false when none waits. */
  retryNow(): boolean;
  /** Closes the connection (or the attempt in progress) with `code`; nothing runs afterwards. */
  stop(code: number, reason: string): void;
}

/**
 * The options rws runs with. Zero delays (see above); no limit on attempts, as before; nothing
 * queued while disconnected: the socket fails what it cannot send rather than replaying stale frames
 * on the next connection.
 */
export function driverOptions(WebSocket: unknown, connectionTimeoutMs: number, minUptimeMs: number): Options {
  return {
    WebSocket,
    minReconnectionDelay: 0,
    maxReconnectionDelay: 0,
    reconnectionDelayGrowFactor: 1,
    connectionTimeout: connectionTimeoutMs,
    minUptime: minUptimeMs,
    maxRetries: Infinity,
    maxEnqueuedMessages: 0,
    startClosed: false,
  };
}

interface Delay {
  attempt: number;
  timer: unknown;
  over: Promise<void>;
  end(): void;
}

/**
 * Starts connecting at once. One loop per `connect()`: a stopped rws does not reliably start again
 * (a close during its delay can leave it locked), so `disconnect()` stops this one for good.
 */
export function startReconnectLoop(options: ReconnectLoopOptions): ReconnectLoop {
  const { timers } = options;
  let stopped = false;
  let transport: Transport | null = null;
  let delay: Delay | null = null;

  const WebSocketClass = transportClass(options.WebSocketClass, {
    created: (created) => (transport = created),
    constructorFailed: (error) => !stopped && options.onConstructorFailed(error),
  });
  // The url provider is where an attempt waits out our delay.
  const url = () => (stopped || !delay ? Promise.resolve(options.endpoint) : delay.over.then(() => options.endpoint));
  const rws = new ReconnectingWebSocket(url, undefined, driverOptions(WebSocketClass, options.connectionTimeoutMs, options.minUptimeMs));
  rws.binaryType = 'arraybuffer';
  rws.onopen = () => {
    if (!stopped && transport) options.onOpen(transport);
  };
  rws.onmessage = (event) => {
    if (!stopped) options.onMessage(event.data);
  };
  rws.onclose = (event) => {
    if (!stopped) closed(event);
  };

  function closed(event: { code?: number; reason?: string; target?: unknown }): void {
    transport = null;
    if (delay) return; // this attempt's failure is already reported
    // rws closes an attempt it timed out itself, with code 1000 and reason 'timeout'.
    const timedOut = event.target === rws;
    const code = timedOut ? 1006 : (event.code ?? 1006);
    const reason = timedOut ? 'connection timeout' : (event.reason ?? '');
    // rws counted the next attempt before reporting the close.
    const attempt = rws.retryCount;
    const delayMs = backoffDelay(options.policy, attempt, options.random);
    let end!: () => void;
    const over = new Promise<void>((resolve) => (end = resolve));
    delay = { attempt, over, end, timer: timers.setTimeout(retry, delayMs) };
    options.onDrop({ code, reason, attempt, delayMs });
  }

  function retry(): void {
    const current = delay;
    if (!current) return;
    timers.clearTimeout(current.timer);
    delay = null;
    options.onRetry(current.attempt);
    current.end();
  }

  return {
    retryNow() {
      if (stopped || !delay) return false;
      retry();
      return true;
    },
    stop(code, reason) {
      if (stopped) return;
      stopped = true;
      rws.onopen = null;
      rws.onmessage = null;
      rws.onclose = null;
      // Clears rws's connection-timeout and uptime timers and closes the socket (or, later, the
      // attempt waiting: rws creates nothing once closed).
      rws.close(code, reason);
      if (delay) {
        timers.clearTimeout(delay.timer);
        delay.end();
        delay = null;
      }
      transport = null;
    },
  };
}

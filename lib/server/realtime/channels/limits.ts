/**
 * What one connection may do (issue 10 §4), with Supabase's defaults and error texts: channels held,
 * joins per second, `broadcast` / `presence` pushes per second, postgres_changes bindings per join;
 * and when a connection that goes on past a rate limit after being refused counts as a flooder.
 *
 * Rates are token buckets (a burst up to the bucket, then the steady rate), counted when a message
 * arrives, not when it is processed: messages that waited behind a join's authorization must not
 * count as a burst of their own. Pure but for the clock: the channel layer asks, and sends the
 * refusals and closes the socket itself.
 */

/** The limits of one connection; `createRealtimeServer` options of the same names. */
export interface ConnectionLimits {
  /** Channels one connection may have joined at once. */
  maxChannelsPerConnection: number;
  /** Joins per second, as a steady rate; the burst is the larger of this and `maxChannelsPerConnection`. */
  maxJoinsPerSecond: number;
  /** `broadcast` and `presence` pushes per second, as a steady rate; the burst is one second's worth. */
  maxMessagesPerSecond: number;
  /** postgres_changes bindings one join may carry. */
  maxBindingsPerChannel: number;
}

/**
 * The defaults.
 * - Channels 100 and joins 100/s: Supabase's (`TENANT_MAX_CHANNELS_PER_CLIENT`,
 *   `TENANT_MAX_JOINS_PER_SECOND`). The join burst is 100 too, so a client that reconnects rejoins
 *   all the channels it may hold at once.
 * - Messages 200/s: Supabase's 100/s is per project (every client together, deliveries included)
 *   and would not fit one socket of ours: our client sends cursor broadcasts at up to ~60/s per
 *   channel, and one tab with two shared documents plus presence and chat is ~150/s. 200 leaves that
 *   room while still bounding what one socket can make the server fan out (200 × room size frames
 *   a second) far below what the server delivers (bench/results/limits.json).
 * - Bindings per channel 100: Supabase has no such cap, and apps written for it put one `.on()` per
 *   table in one channel; the whole per-connection allowance (`maxBindingsPerConnection`, 100) fits in
 *   one join. Lower it to bound how much validation one join can ask for.
 */
export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = Object.freeze({
  maxChannelsPerConnection: 100,
  maxJoinsPerSecond: 100,
  maxMessagesPerSecond: 200,
  maxBindingsPerChannel: 100,
});

/** Supabase's join error reply when a client holds its maximum of channels. */
export const TOO_MANY_CHANNELS = 'ChannelRateLimitReached: Too many channels';
/** Supabase's join error reply past the join rate. */
export const TOO_MANY_JOINS = 'ClientJoinRateLimitReached: Too many joins per second';
/** Supabase's text for too many messages (its log line; it closes the channel, we refuse the push). */
export const TOO_MANY_MESSAGES = 'MessagePerSecondRateLimitReached: Too many messages per second';
/** Ours: Supabase has no per-join cap on bindings. */
export const TOO_MANY_BINDINGS_IN_CHANNEL = 'TooManyBindings: too many postgres_changes bindings in one channel';

/**
 * A connection is closed as a flooder when, within one second of a rate limit's first refusal, it
 * is refused more times than that limit's rate: it was told, and went on sending faster than the
 * limit after being told (more than twice the limit in that second). A client that only goes over
 * the limit a little keeps its connection and loses the pushes past it.
 */
export const FLOOD_WINDOW_MS = 1000;

/** The events a connection's message rate counts. */
const COUNTED_EVENTS: ReadonlySet<string> = new Set(['broadcast', 'presence']);
const JOIN_EVENT = 'phx_join';

export interface ConnectionLimiter {
  /**
   * Counts a message the moment it arrives: null to go on, or the reason its push is refused.
   * A refusal may also have reported the connection as a flooder (`onFlood`).
   */
  admit(event: string): string | null;
  /** A join about to be accepted: null, or why it is refused (the channels held count, not this one). */
  checkJoin(channelsHeld: number, bindings: number): string | null;
}

/** A token bucket of `capacity` tokens refilled at `perSecond`, plus the refusals of its flood window. */
interface Bucket {
  readonly perSecond: number;
  readonly capacity: number;
  tokens: number;
  refilledAt: number;
  floodWindowStart: number;
  refusalsInWindow: number;
}

const bucket = (perSecond: number, capacity: number, now: number): Bucket => ({
  perSecond,
  capacity,
  tokens: capacity,
  refilledAt: now,
  floodWindowStart: -Infinity,
  refusalsInWindow: 0,
});

/** Takes one token if there is one. */
function take(b: Bucket, now: number): boolean {
  b.tokens = Math.min(b.capacity, b.tokens + ((now - b.refilledAt) * b.perSecond) / 1000);
  b.refilledAt = now;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

/** Counts a refusal in the bucket's flood window; true once the window holds more than the rate. */
function floods(b: Bucket, now: number): boolean {
  if (now - b.floodWindowStart >= FLOOD_WINDOW_MS) {
    b.floodWindowStart = now;
    b.refusalsInWindow = 0;
  }
  return ++b.refusalsInWindow > b.perSecond;
}

/**
 * The limiter of one connection. `onFlood` gets the close reason (at most 123 bytes, a WebSocket
 * close reason's limit) once the connection counts as a flooder; `now` is a monotonic clock in ms.
 */
export function createConnectionLimiter(
  limits: Readonly<ConnectionLimits>,
  onFlood: (reason: string) => void,
  now: () => number = () => performance.now(),
): ConnectionLimiter {
  const start = now();
  const joins = bucket(limits.maxJoinsPerSecond, Math.max(limits.maxJoinsPerSecond, limits.maxChannelsPerConnection), start);
  const messages = bucket(limits.maxMessagesPerSecond, limits.maxMessagesPerSecond, start);
  let flooded = false;

  function refuse(b: Bucket, at: number, reason: string, limitName: string): string {
    if (!flooded && floods(b, at)) {
      flooded = true;
      onFlood(`${reason} (kept on past ${limitName} = ${b.perSecond} after refusals)`);
    }
    return reason;
  }

  return {
    admit(event) {
      const isJoin = event === JOIN_EVENT;
      if (!isJoin && !COUNTED_EVENTS.has(event)) return null;
      const at = now();
      if (isJoin) return take(joins, at) ? null : refuse(joins, at, TOO_MANY_JOINS, 'maxJoinsPerSecond');
      return take(messages, at) ? null : refuse(messages, at, TOO_MANY_MESSAGES, 'maxMessagesPerSecond');
    },

    checkJoin(channelsHeld, bindings) {
      const maxChannels = limits.maxChannelsPerConnection;
      if (channelsHeld >= maxChannels) return `${TOO_MANY_CHANNELS} (this connection holds ${maxChannels} = maxChannelsPerConnection; leave a channel first)`;
      if (bindings > limits.maxBindingsPerChannel) {
        return `${TOO_MANY_BINDINGS_IN_CHANNEL} (this join has ${bindings}, more than maxBindingsPerChannel = ${limits.maxBindingsPerChannel})`;
      }
      return null;
    },
  };
}

/**
 * Graceful degradation: when the app wants the realtime socket and it has not been live for
 * `degradedAfterMs` (down, or dropping again before it stayed open for a while: a flapping socket
 * counts as down), the status becomes `degraded` and live entries are refetched every
 * `pollIntervalMs` (at once first), keeping their data; once the socket has stayed open for
 * `stableAfterMs` the channels have rejoined and resumed (or refetched) as always, the status leaves
 * `degraded` and polling stops. Rounds that fall while the app is offline are skipped.
 */
import { inBackground } from '../phoenix/socketOptions.js';
import type { HandlerContext, SyncHandler } from './types.js';

export const DEFAULT_DEGRADED_AFTER_MS = 10_000;
export const DEFAULT_POLL_INTERVAL_MS = 30_000;

export interface DegradedOptions {
  degradedAfterMs?: number;
  pollIntervalMs?: number;
  /** Refetches every live entry not fetching now. */
  poll(): void;
  /** The api's reducerPath: its fulfilled fetches while degraded advance `lastSyncTime`. */
  apiPath?: string;
}

export function degradedHandler(context: HandlerContext, options: DegradedOptions): SyncHandler {
  const { actions } = context;
  const after = options.degradedAfterMs ?? DEFAULT_DEGRADED_AFTER_MS;
  const every = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  /** How long the socket must stay open to count as live again. */
  const stableAfter = Math.min(after / 2, 5_000);
  /** Counting down to `degraded` since the socket was last live (or first asked for). */
  let countdown: unknown = null;
  let polling: unknown = null;
  /** Counting the time the socket has stayed open. */
  let stable: unknown = null;

  const clear = (handle: unknown) => {
    if (handle !== null) context.timers.clearTimeout(handle);
  };

  function stop(): void {
    clear(countdown);
    clear(polling);
    clear(stable);
    countdown = polling = stable = null;
    if (context.mirror().connection.degradedSince !== null) context.dispatch(actions.degradedChanged({ degraded: false, at: context.now() }));
  }

  function poll(): void {
    polling = null;
    // Offline (the app or the browser says so), a poll could only fail: skip the round, keep the beat.
    if (context.mirror().connection.online) context.safely(options.poll);
    polling = inBackground(context.timers.setTimeout(poll, every));
  }

  function startCountdown(): void {
    if (countdown !== null || context.mirror().connection.degradedSince !== null) return;
    countdown = inBackground(context.timers.setTimeout(() => {
      countdown = null;
      const status = context.mirror().connection.status;
      // Open but not yet for long enough (a socket that keeps dropping) counts as down.
      if (status === 'closed' || status === 'idle' || (status === 'open' && stable === null)) return;
      context.dispatch(actions.degradedChanged({ degraded: true, at: context.now() }));
      poll();
    }, after));
  }

  const fulfilledType = options.apiPath === undefined ? undefined : `${options.apiPath}/executeQuery/fulfilled`;

  return {
    onAnyAction(action) {
      // A poll's results while degraded: the cache was equal to the database then (once per poll round).
      if (action.type !== fulfilledType) return undefined;
      const { degradedSince, lastSyncTime } = context.mirror().connection;
      const now = context.now();
      if (degradedSince !== null && (lastSyncTime === null || now - lastSyncTime >= every / 2)) context.dispatch(actions.polled({ at: now }));
      return undefined;
    },
    onSocketEvent(event) {
      if (event.type !== 'status') return;
      if (event.status === 'closed') return stop();
      if (event.status === 'open') {
        // Live again once it stays open (a drop before then keeps the countdown going).
        if (countdown === null && context.mirror().connection.degradedSince === null) return;
        clear(stable);
        stable = inBackground(context.timers.setTimeout(stop, stableAfter));
        return;
      }
      clear(stable);
      stable = null;
      startCountdown();
    },
    onAction(action) {
      // The app no longer wants the socket: not degraded, nothing to poll for.
      if (actions.disconnect.match(action)) stop();
      return undefined;
    },
  };
}

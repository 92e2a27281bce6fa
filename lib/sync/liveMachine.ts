/**
 * A live entry's lifecycle (lib/sync/live.ts) as a pure state machine `(state, event) → state`, the
 * way phoenix/machines.ts writes the connection and channel: the table is a
 * `Record<LiveState, Record<LiveEvent, LiveState>>`, so the compiler rejects a missing state × event
 * pair, and events that make no sense in a state leave it unchanged (a gate timer that fires after
 * its fetch settled, a settle for no fetch in flight). live.ts performs the side effects (holding and
 * applying changes, dispatching refetches, answering the fetch gate), decided from the state an
 * event left and the one it reached.
 *
 * The lifecycle: an entry is followed as its first fetch starts. A fetch started while its table's
 * changes are live holds the changes that arrive during it and applies them on top of its result
 * (each carries the full new row, so it converges); one that must wait for the changes to be live
 * is gated until they are (or until the gate times out: it then starts anyway). A fetch that started
 * before the changes were live may miss some: its entry is stale, refetched once they are live.
 * Between fetches a current entry is patched from the changes; a failed fetch leaves it stale, or
 * failed when the error may pass (then the table's next changes refetch it too). A refetch asked
 * because the data may be wrong (a change the client can't patch exactly, a write while not live, a
 * rejoin that did not resume, a resync notice) makes the entry doubted until a fetch succeeds: a
 * doubted entry whose fetch fails is not in step with the database, whatever changes it held.
 *
 * Each state is one combination of the six booleans live.ts kept before (LIVE_STATE_FLAGS); the
 * others never occur, or don't differ in behaviour from one of these (`startedLive` and `gated` mean
 * nothing between fetches, `stale` is always false during one, and `retry` only counts while stale).
 */

export const LIVE_STATES = [
  /** Not fetching, in step with the database as far as it knows: changes patch it. (Also the state an entry is made in: its first fetch starts at once.) */
  'current',
  /** As current, but a refetch was asked because the data may be wrong. */
  'currentDoubted',
  /** Not fetching; its last result may miss changes (it started before they were live, or failed): refetched once they are. */
  'stale',
  /** As stale, and a refetch was asked. */
  'staleDoubted',
  /** Stale because its last fetch failed for a reason that may pass: the table's next changes refetch it too. */
  'failed',
  /** As failed, and a refetch was asked. */
  'failedDoubted',
  /** A fetch started while the changes were not live: changes during it are dropped, and its result is stale. */
  'fetching',
  /** As fetching, and a refetch was asked. */
  'fetchingDoubted',
  /** A fetch started while the changes were live: changes during it are held, then applied on top of its result. */
  'fetchingLive',
  /** As fetchingLive, and a refetch was asked (if it fails, the held changes can't make the old data right). */
  'fetchingLiveDoubted',
  /** A fetch waiting (the gate) for its table's changes to be live, started before they were. */
  'gated',
  /** As gated, and a refetch was asked. */
  'gatedDoubted',
  /** A fetch that started while live and then found the changes not live at its gate (the socket dropped): still holds changes. */
  'gatedLive',
  /** As gatedLive, and a refetch was asked. */
  'gatedLiveDoubted',
  /** Its cache entry was removed: no longer followed. Every event leaves it here. */
  'removed',
] as const;
export type LiveState = (typeof LIVE_STATES)[number];

export const LIVE_EVENTS = [
  /** A fetch of the entry starts (RTK's pending, or the first fetch as the entry is followed) while its channel is not live. */
  'fetchStarted',
  /** A fetch of the entry starts while its channel is live. */
  'fetchStartedLive',
  /** The fetch in flight waits for its channel to be live (the gate). */
  'gateWait',
  /** The gate's wait timed out: the fetch starts anyway, before the changes are live. */
  'gateTimeout',
  /** The fetch in flight succeeded. */
  'fetchOk',
  /** The fetch in flight failed for a reason that may pass (no response, 5xx, 401, 403, 408, 429); the entry has data from before. */
  'fetchFailed',
  /** The fetch in flight was refused for good (any other 4xx); the entry has data from before. */
  'fetchRefused',
  /** As fetchFailed, with no data cached (nothing to keep in step). */
  'fetchFailedEmpty',
  /** As fetchRefused, with no data cached. */
  'fetchRefusedEmpty',
  /** The channel's changes are live, resuming where they left off (or found live as a stale fetch settles). */
  'live',
  /** The channel's changes are live after a join that did not resume: those in between are not coming. */
  'liveFresh',
  /** A resync notice: the channel missed changes. */
  'resync',
  /** Changes of the entry's table arrived. */
  'changes',
  /** A refetch was asked because the data may be wrong (a change not patched exactly, a write while not live). */
  'refetch',
  /** The cache entry was removed (its last subscriber left long enough ago). */
  'removed',
] as const;
export type LiveEvent = (typeof LIVE_EVENTS)[number];

/** The state an entry is followed in (its first fetch starts at once). */
export const LIVE_INITIAL_STATE: LiveState = 'current';

// Columns below, in order: fetchStarted, fetchStartedLive, gateWait, gateTimeout, fetchOk, fetchFailed, fetchRefused,
// fetchFailedEmpty, fetchRefusedEmpty, live, liveFresh, resync, changes, refetch, removed.
export const LIVE_TABLE: Record<LiveState, Record<LiveEvent, LiveState>> = {
  // Between fetches (a settle or a gate event here is for no fetch in flight: unchanged).
  current: {
    fetchStarted: 'fetching', fetchStartedLive: 'fetchingLive', gateWait: 'current', gateTimeout: 'current',
    fetchOk: 'current', fetchFailed: 'current', fetchRefused: 'current', fetchFailedEmpty: 'current', fetchRefusedEmpty: 'current',
    // A rejoin that did not resume lost changes: refetched. A resync notice says so too.
    live: 'current', liveFresh: 'currentDoubted', resync: 'currentDoubted', changes: 'current', refetch: 'currentDoubted', removed: 'removed',
  },
  currentDoubted: {
    fetchStarted: 'fetchingDoubted', fetchStartedLive: 'fetchingLiveDoubted', gateWait: 'currentDoubted', gateTimeout: 'currentDoubted',
    fetchOk: 'currentDoubted', fetchFailed: 'currentDoubted', fetchRefused: 'currentDoubted', fetchFailedEmpty: 'currentDoubted', fetchRefusedEmpty: 'currentDoubted',
    live: 'currentDoubted', liveFresh: 'currentDoubted', resync: 'currentDoubted', changes: 'currentDoubted', refetch: 'currentDoubted', removed: 'removed',
  },
  // Stale entries are refetched once live (no longer stale: they wait for that fetch); changes are dropped.
  stale: {
    fetchStarted: 'fetching', fetchStartedLive: 'fetchingLive', gateWait: 'stale', gateTimeout: 'stale',
    fetchOk: 'stale', fetchFailed: 'stale', fetchRefused: 'stale', fetchFailedEmpty: 'stale', fetchRefusedEmpty: 'stale',
    live: 'currentDoubted', liveFresh: 'currentDoubted', resync: 'staleDoubted', changes: 'stale', refetch: 'staleDoubted', removed: 'removed',
  },
  staleDoubted: {
    fetchStarted: 'fetchingDoubted', fetchStartedLive: 'fetchingLiveDoubted', gateWait: 'staleDoubted', gateTimeout: 'staleDoubted',
    fetchOk: 'staleDoubted', fetchFailed: 'staleDoubted', fetchRefused: 'staleDoubted', fetchFailedEmpty: 'staleDoubted', fetchRefusedEmpty: 'staleDoubted',
    live: 'currentDoubted', liveFresh: 'currentDoubted', resync: 'staleDoubted', changes: 'staleDoubted', refetch: 'staleDoubted', removed: 'removed',
  },
  // A failed entry's next changes refetch it (it stays failed until that fetch starts).
  failed: {
    fetchStarted: 'fetching', fetchStartedLive: 'fetchingLive', gateWait: 'failed', gateTimeout: 'failed',
    fetchOk: 'failed', fetchFailed: 'failed', fetchRefused: 'failed', fetchFailedEmpty: 'failed', fetchRefusedEmpty: 'failed',
    live: 'currentDoubted', liveFresh: 'currentDoubted', resync: 'failedDoubted', changes: 'failedDoubted', refetch: 'failedDoubted', removed: 'removed',
  },
  failedDoubted: {
    fetchStarted: 'fetchingDoubted', fetchStartedLive: 'fetchingLiveDoubted', gateWait: 'failedDoubted', gateTimeout: 'failedDoubted',
    fetchOk: 'failedDoubted', fetchFailed: 'failedDoubted', fetchRefused: 'failedDoubted', fetchFailedEmpty: 'failedDoubted', fetchRefusedEmpty: 'failedDoubted',
    live: 'currentDoubted', liveFresh: 'currentDoubted', resync: 'failedDoubted', changes: 'failedDoubted', refetch: 'failedDoubted', removed: 'removed',
  },
  // Fetches. A new fetch (one superseding this one) starts afresh; `doubted` lasts until a fetch succeeds.
  // Started before live: its result is stale whatever happens; a failure leaves it stale (or failed).
  fetching: {
    fetchStarted: 'fetching', fetchStartedLive: 'fetchingLive', gateWait: 'gated', gateTimeout: 'fetching',
    fetchOk: 'stale', fetchFailed: 'failed', fetchRefused: 'stale', fetchFailedEmpty: 'failed', fetchRefusedEmpty: 'stale',
    live: 'fetching', liveFresh: 'fetching', resync: 'fetching', changes: 'fetching', refetch: 'fetchingDoubted', removed: 'removed',
  },
  fetchingDoubted: {
    fetchStarted: 'fetchingDoubted', fetchStartedLive: 'fetchingLiveDoubted', gateWait: 'gatedDoubted', gateTimeout: 'fetchingDoubted',
    fetchOk: 'stale', fetchFailed: 'failedDoubted', fetchRefused: 'staleDoubted', fetchFailedEmpty: 'failedDoubted', fetchRefusedEmpty: 'staleDoubted',
    live: 'fetchingDoubted', liveFresh: 'fetchingDoubted', resync: 'fetchingDoubted', changes: 'fetchingDoubted', refetch: 'fetchingDoubted', removed: 'removed',
  },
  // Started live: in step after it (even when it fails, with data from before and no doubt); a rejoin
  // that did not resume or a resync notice means its result may predate the gap: it started before.
  fetchingLive: {
    fetchStarted: 'fetching', fetchStartedLive: 'fetchingLive', gateWait: 'gatedLive', gateTimeout: 'fetchingLive',
    fetchOk: 'current', fetchFailed: 'current', fetchRefused: 'current', fetchFailedEmpty: 'failed', fetchRefusedEmpty: 'stale',
    live: 'fetchingLive', liveFresh: 'fetching', resync: 'fetching', changes: 'fetchingLive', refetch: 'fetchingLiveDoubted', removed: 'removed',
  },
  fetchingLiveDoubted: {
    fetchStarted: 'fetchingDoubted', fetchStartedLive: 'fetchingLiveDoubted', gateWait: 'gatedLiveDoubted', gateTimeout: 'fetchingLiveDoubted',
    fetchOk: 'current', fetchFailed: 'failedDoubted', fetchRefused: 'staleDoubted', fetchFailedEmpty: 'failedDoubted', fetchRefusedEmpty: 'staleDoubted',
    live: 'fetchingLiveDoubted', liveFresh: 'fetchingDoubted', resync: 'fetchingDoubted', changes: 'fetchingLiveDoubted', refetch: 'fetchingLiveDoubted', removed: 'removed',
  },
  // Gated: released by live (resumed or not: it starts now, while live), or started anyway at the timeout.
  gated: {
    fetchStarted: 'fetching', fetchStartedLive: 'fetchingLive', gateWait: 'gated', gateTimeout: 'fetching',
    fetchOk: 'stale', fetchFailed: 'failed', fetchRefused: 'stale', fetchFailedEmpty: 'failed', fetchRefusedEmpty: 'stale',
    live: 'fetchingLive', liveFresh: 'fetchingLive', resync: 'gated', changes: 'gated', refetch: 'gatedDoubted', removed: 'removed',
  },
  gatedDoubted: {
    fetchStarted: 'fetchingDoubted', fetchStartedLive: 'fetchingLiveDoubted', gateWait: 'gatedDoubted', gateTimeout: 'fetchingDoubted',
    fetchOk: 'stale', fetchFailed: 'failedDoubted', fetchRefused: 'staleDoubted', fetchFailedEmpty: 'failedDoubted', fetchRefusedEmpty: 'staleDoubted',
    live: 'fetchingLiveDoubted', liveFresh: 'fetchingLiveDoubted', resync: 'gatedDoubted', changes: 'gatedDoubted', refetch: 'gatedDoubted', removed: 'removed',
  },
  gatedLive: {
    fetchStarted: 'fetching', fetchStartedLive: 'fetchingLive', gateWait: 'gatedLive', gateTimeout: 'fetchingLive',
    fetchOk: 'current', fetchFailed: 'current', fetchRefused: 'current', fetchFailedEmpty: 'failed', fetchRefusedEmpty: 'stale',
    live: 'fetchingLive', liveFresh: 'fetchingLive', resync: 'gated', changes: 'gatedLive', refetch: 'gatedLiveDoubted', removed: 'removed',
  },
  gatedLiveDoubted: {
    fetchStarted: 'fetchingDoubted', fetchStartedLive: 'fetchingLiveDoubted', gateWait: 'gatedLiveDoubted', gateTimeout: 'fetchingLiveDoubted',
    fetchOk: 'current', fetchFailed: 'failedDoubted', fetchRefused: 'staleDoubted', fetchFailedEmpty: 'failedDoubted', fetchRefusedEmpty: 'staleDoubted',
    live: 'fetchingLiveDoubted', liveFresh: 'fetchingLiveDoubted', resync: 'gatedDoubted', changes: 'gatedLiveDoubted', refetch: 'gatedLiveDoubted', removed: 'removed',
  },
  removed: {
    fetchStarted: 'removed', fetchStartedLive: 'removed', gateWait: 'removed', gateTimeout: 'removed',
    fetchOk: 'removed', fetchFailed: 'removed', fetchRefused: 'removed', fetchFailedEmpty: 'removed', fetchRefusedEmpty: 'removed',
    live: 'removed', liveFresh: 'removed', resync: 'removed', changes: 'removed', refetch: 'removed', removed: 'removed',
  },
};

/** The live entry's state after `event`. */
export function liveTransition(state: LiveState, event: LiveEvent): LiveState {
  return LIVE_TABLE[state][event];
}

/**
 * The six booleans live.ts kept per entry before this machine, as each state sets them (false where
 * a boolean meant nothing in that state: `startedLive` and `gated` between fetches, `retry` while not
 * stale). `removed` had none (the entry was dropped).
 */
export interface LiveFlags {
  /** A fetch is in flight. */
  fetching: boolean;
  /** The fetch in flight started while the channel was live (changes during it are held). */
  startedLive: boolean;
  /** The fetch in flight waits for the channel to be live. */
  gated: boolean;
  /** The result may miss changes: refetch once the channel is live. */
  stale: boolean;
  /** Stale because a fetch failed for a reason that may pass: refetched on the table's next changes too. */
  retry: boolean;
  /** A refetch was asked because the data may be wrong (cleared when a fetch succeeds). */
  needsFetch: boolean;
}

const flags = (bits: string): LiveFlags => {
  const [fetching, startedLive, gated, stale, retry, needsFetch] = [...bits].map((bit) => bit === '1');
  return { fetching: fetching!, startedLive: startedLive!, gated: gated!, stale: stale!, retry: retry!, needsFetch: needsFetch! };
};

// Bits, in order: fetching, startedLive, gated, stale, retry, needsFetch.
export const LIVE_STATE_FLAGS: Record<Exclude<LiveState, 'removed'>, LiveFlags> = {
  current: flags('000000'),
  currentDoubted: flags('000001'),
  stale: flags('000100'),
  staleDoubted: flags('000101'),
  failed: flags('000110'),
  failedDoubted: flags('000111'),
  fetching: flags('100000'),
  fetchingDoubted: flags('100001'),
  fetchingLive: flags('110000'),
  fetchingLiveDoubted: flags('110001'),
  gated: flags('101000'),
  gatedDoubted: flags('101001'),
  gatedLive: flags('111000'),
  gatedLiveDoubted: flags('111001'),
};

const flagsOf = (state: LiveState): LiveFlags | undefined => (state === 'removed' ? undefined : LIVE_STATE_FLAGS[state]);

/** A fetch of the entry is in flight (gated or not). */
export function isFetching(state: LiveState): boolean {
  return flagsOf(state)?.fetching ?? false;
}

/** The fetch in flight started while live: changes that arrive during it are held for its result. */
export function holdsChanges(state: LiveState): boolean {
  return flagsOf(state)?.startedLive ?? false;
}

/** Between fetches, the result may miss changes (stale or failed): refetched once the channel is live. */
export function isStale(state: LiveState): boolean {
  return flagsOf(state)?.stale ?? false;
}

/** Stale after a failure that may pass: the table's next changes refetch it. */
export function retriesOnChanges(state: LiveState): boolean {
  return flagsOf(state)?.retry ?? false;
}

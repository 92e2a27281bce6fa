/**
 * The live entry's lifecycle as an exhaustive table: every state × event pair is written out here,
 * so a change to the machine must change this file too. The table is also checked against the six
 * booleans live.ts kept before it (the code as it was, transcribed below), and walked through the
 * lifecycles live.ts describes.
 */
import {
  holdsChanges,
  isFetching,
  isStale,
  LIVE_EVENTS,
  LIVE_INITIAL_STATE,
  LIVE_STATE_FLAGS,
  LIVE_STATES,
  LIVE_TABLE,
  liveTransition,
  retriesOnChanges,
  type LiveEvent,
  type LiveFlags,
  type LiveState,
} from '../../lib/sync/liveMachine.js';

// Columns: fetchStarted, fetchStartedLive, gateWait, gateTimeout, fetchOk, fetchFailed, fetchRefused, fetchFailedEmpty,
// fetchRefusedEmpty, live, liveFresh, resync, changes, refetch, removed.
const expected: Record<LiveState, LiveState[]> = {
  current: ['fetching', 'fetchingLive', 'current', 'current', 'current', 'current', 'current', 'current', 'current', 'current', 'currentDoubted', 'currentDoubted', 'current', 'currentDoubted', 'removed'],
  currentDoubted: ['fetchingDoubted', 'fetchingLiveDoubted', 'currentDoubted', 'currentDoubted', 'currentDoubted', 'currentDoubted', 'currentDoubted', 'currentDoubted', 'currentDoubted', 'currentDoubted', 'currentDoubted', 'currentDoubted', 'currentDoubted', 'currentDoubted', 'removed'],
  stale: ['fetching', 'fetchingLive', 'stale', 'stale', 'stale', 'stale', 'stale', 'stale', 'stale', 'currentDoubted', 'currentDoubted', 'staleDoubted', 'stale', 'staleDoubted', 'removed'],
  staleDoubted: ['fetchingDoubted', 'fetchingLiveDoubted', 'staleDoubted', 'staleDoubted', 'staleDoubted', 'staleDoubted', 'staleDoubted', 'staleDoubted', 'staleDoubted', 'currentDoubted', 'currentDoubted', 'staleDoubted', 'staleDoubted', 'staleDoubted', 'removed'],
  failed: ['fetching', 'fetchingLive', 'failed', 'failed', 'failed', 'failed', 'failed', 'failed', 'failed', 'currentDoubted', 'currentDoubted', 'failedDoubted', 'failedDoubted', 'failedDoubted', 'removed'],
  failedDoubted: ['fetchingDoubted', 'fetchingLiveDoubted', 'failedDoubted', 'failedDoubted', 'failedDoubted', 'failedDoubted', 'failedDoubted', 'failedDoubted', 'failedDoubted', 'currentDoubted', 'currentDoubted', 'failedDoubted', 'failedDoubted', 'failedDoubted', 'removed'],
  fetching: ['fetching', 'fetchingLive', 'gated', 'fetching', 'stale', 'failed', 'stale', 'failed', 'stale', 'fetching', 'fetching', 'fetching', 'fetching', 'fetchingDoubted', 'removed'],
  fetchingDoubted: ['fetchingDoubted', 'fetchingLiveDoubted', 'gatedDoubted', 'fetchingDoubted', 'stale', 'failedDoubted', 'staleDoubted', 'failedDoubted', 'staleDoubted', 'fetchingDoubted', 'fetchingDoubted', 'fetchingDoubted', 'fetchingDoubted', 'fetchingDoubted', 'removed'],
  fetchingLive: ['fetching', 'fetchingLive', 'gatedLive', 'fetchingLive', 'current', 'current', 'current', 'failed', 'stale', 'fetchingLive', 'fetching', 'fetching', 'fetchingLive', 'fetchingLiveDoubted', 'removed'],
  fetchingLiveDoubted: ['fetchingDoubted', 'fetchingLiveDoubted', 'gatedLiveDoubted', 'fetchingLiveDoubted', 'current', 'failedDoubted', 'staleDoubted', 'failedDoubted', 'staleDoubted', 'fetchingLiveDoubted', 'fetchingDoubted', 'fetchingDoubted', 'fetchingLiveDoubted', 'fetchingLiveDoubted', 'removed'],
  gated: ['fetching', 'fetchingLive', 'gated', 'fetching', 'stale', 'failed', 'stale', 'failed', 'stale', 'fetchingLive', 'fetchingLive', 'gated', 'gated', 'gatedDoubted', 'removed'],
  gatedDoubted: ['fetchingDoubted', 'fetchingLiveDoubted', 'gatedDoubted', 'fetchingDoubted', 'stale', 'failedDoubted', 'staleDoubted', 'failedDoubted', 'staleDoubted', 'fetchingLiveDoubted', 'fetchingLiveDoubted', 'gatedDoubted', 'gatedDoubted', 'gatedDoubted', 'removed'],
  gatedLive: ['fetching', 'fetchingLive', 'gatedLive', 'fetchingLive', 'current', 'current', 'current', 'failed', 'stale', 'fetchingLive', 'fetchingLive', 'gated', 'gatedLive', 'gatedLiveDoubted', 'removed'],
  gatedLiveDoubted: ['fetchingDoubted', 'fetchingLiveDoubted', 'gatedLiveDoubted', 'fetchingLiveDoubted', 'current', 'failedDoubted', 'staleDoubted', 'failedDoubted', 'staleDoubted', 'fetchingLiveDoubted', 'fetchingLiveDoubted', 'gatedDoubted', 'gatedLiveDoubted', 'gatedLiveDoubted', 'removed'],
  removed: ['removed', 'removed', 'removed', 'removed', 'removed', 'removed', 'removed', 'removed', 'removed', 'removed', 'removed', 'removed', 'removed', 'removed', 'removed'],
};

const cases = LIVE_STATES.flatMap((s) => LIVE_EVENTS.map((e, i) => [s, e, expected[s][i]] as [LiveState, LiveEvent, LiveState]));

const run = (events: readonly LiveEvent[], from: LiveState = LIVE_INITIAL_STATE): LiveState[] => {
  const trail: LiveState[] = [];
  let state = from;
  for (const event of events) trail.push((state = liveTransition(state, event)));
  return trail;
};

describe('live entry machine', () => {
  it('the table covers exactly the declared states and events', () => {
    expect(Object.keys(LIVE_TABLE).sort()).toEqual([...LIVE_STATES].sort());
    for (const s of LIVE_STATES) expect(Object.keys(LIVE_TABLE[s]).sort()).toEqual([...LIVE_EVENTS].sort());
    expect(Object.keys(expected).sort()).toEqual([...LIVE_STATES].sort());
    for (const s of LIVE_STATES) expect(expected[s]).toHaveLength(LIVE_EVENTS.length);
    expect(cases).toHaveLength(LIVE_STATES.length * LIVE_EVENTS.length);
    expect(cases.every(([, , to]) => to !== undefined)).toBe(true);
  });

  it.each(cases)('%s + %s → %s', (from, event, to) => {
    expect(liveTransition(from, event)).toBe(to);
  });

  it('removed is final and every state reaches it; only a fetch leaves the states between fetches', () => {
    for (const s of LIVE_STATES) expect(liveTransition(s, 'removed')).toBe('removed');
    expect(LIVE_EVENTS.filter((e) => liveTransition('removed', e) !== 'removed')).toEqual([]);
    for (const s of LIVE_STATES.filter((state) => state !== 'removed')) {
      expect(liveTransition(s, 'fetchStarted')).toMatch(/^fetching(Doubted)?$/);
      expect(liveTransition(s, 'fetchStartedLive')).toMatch(/^fetchingLive(Doubted)?$/);
    }
  });

  it('a fetch that succeeds ends every doubt; every state but removed has its six booleans', () => {
    for (const s of LIVE_STATES.filter(isFetching)) expect(liveTransition(s, 'fetchOk')).toMatch(/^(current|stale)$/);
    for (const s of LIVE_STATES) expect(s === 'removed' || s in LIVE_STATE_FLAGS).toBe(true);
    const combinations = Object.values(LIVE_STATE_FLAGS).map((f) => JSON.stringify(f));
    expect(new Set(combinations).size).toBe(combinations.length);
  });

  it('the predicates live.ts decides side effects by read the booleans', () => {
    expect(LIVE_STATES.filter(isFetching)).toEqual(['fetching', 'fetchingDoubted', 'fetchingLive', 'fetchingLiveDoubted', 'gated', 'gatedDoubted', 'gatedLive', 'gatedLiveDoubted']);
    expect(LIVE_STATES.filter(holdsChanges)).toEqual(['fetchingLive', 'fetchingLiveDoubted', 'gatedLive', 'gatedLiveDoubted']);
    expect(LIVE_STATES.filter(isStale)).toEqual(['stale', 'staleDoubted', 'failed', 'failedDoubted']);
    expect(LIVE_STATES.filter(retriesOnChanges)).toEqual(['failed', 'failedDoubted']);
  });
});

/**
 * What live.ts did to its six booleans for each event before the machine (one branch per event, as
 * the code read; guards the code evaluated against the world are split into events: isLive at a
 * fetch's start, resumed in onLive, mayPass and whether data was cached at a failure). Booleans that
 * mean nothing in a state are cleared (`normalize`) so states compare.
 */
function booleanStep(before: LiveFlags, event: LiveEvent): LiveFlags {
  const f = { ...before };
  switch (event) {
    case 'fetchStarted':
    case 'fetchStartedLive':
      Object.assign(f, { fetching: true, startedLive: event === 'fetchStartedLive', gated: false, stale: false });
      break;
    case 'gateWait':
      f.gated = true;
      break;
    case 'gateTimeout':
      f.gated = false;
      break;
    case 'fetchOk':
      Object.assign(f, { fetching: false, gated: false, needsFetch: false, retry: false });
      if (!f.startedLive) f.stale = true;
      break;
    case 'fetchFailed':
    case 'fetchRefused':
    case 'fetchFailedEmpty':
    case 'fetchRefusedEmpty': {
      Object.assign(f, { fetching: false, gated: false });
      const hasData = event === 'fetchFailed' || event === 'fetchRefused';
      if (!f.needsFetch && f.startedLive && !f.stale && hasData) break;
      f.stale = true;
      f.retry = event === 'fetchFailed' || event === 'fetchFailedEmpty';
      break;
    }
    case 'live':
    case 'liveFresh': {
      const resumed = event === 'live';
      if (f.fetching) {
        f.startedLive = f.gated || (resumed && f.startedLive);
        f.gated = false;
      } else if (f.stale || !resumed) {
        f.stale = false;
        f.needsFetch = true;
      }
      break;
    }
    case 'resync':
      if (f.fetching) f.startedLive = false;
      else f.needsFetch = true;
      break;
    case 'changes':
      // Applying them may ask a refetch: that is the `refetch` event live.ts sends after.
      if (!f.fetching && f.stale && f.retry) f.needsFetch = true;
      break;
    case 'refetch':
      f.needsFetch = true;
      break;
    case 'removed':
      break;
  }
  return normalize(f);
}

function normalize(f: LiveFlags): LiveFlags {
  return {
    fetching: f.fetching,
    startedLive: f.fetching && f.startedLive,
    gated: f.fetching && f.gated,
    stale: f.stale,
    retry: f.stale && f.retry,
    needsFetch: f.needsFetch,
  };
}

const flagsOf = (state: LiveState) => LIVE_STATE_FLAGS[state as Exclude<LiveState, 'removed'>];
/** Settles and gate events between fetches are for no fetch in flight: the machine leaves the state (the booleans never saw them). */
const noFetchInFlight = new Set<LiveEvent>(['fetchOk', 'fetchFailed', 'fetchRefused', 'fetchFailedEmpty', 'fetchRefusedEmpty', 'gateWait', 'gateTimeout']);
const comparable = cases.filter(([from, event]) => from !== 'removed' && event !== 'removed' && (isFetching(from) || !noFetchInFlight.has(event)));

describe('the machine is the booleans live.ts kept', () => {
  it.each(comparable)('%s + %s → %s', (from, event, to) => {
    expect(flagsOf(to)).toEqual(booleanStep(flagsOf(from), event));
  });

  it('between fetches, the gate events change nothing the booleans would show', () => {
    for (const s of LIVE_STATES.filter((state) => state !== 'removed' && !isFetching(state))) {
      expect(normalize(booleanStep(flagsOf(s), 'gateWait'))).toEqual(flagsOf(s));
      expect(normalize(booleanStep(flagsOf(s), 'gateTimeout'))).toEqual(flagsOf(s));
    }
  });
});

describe('lifecycles', () => {
  it('subscribe first, then fetch: gated until live, changes held during the fetch, then patched', () => {
    // Followed as its first fetch starts; the channel was just subscribed (not live), so the fetch waits.
    expect(run(['fetchStarted', 'gateWait', 'liveFresh', 'changes', 'fetchOk', 'changes', 'changes'])).toEqual([
      'fetching', 'gated', 'fetchingLive', 'fetchingLive', 'current', 'current', 'current',
    ]);
  });

  it('a fetch that started before the subscription was live is refetched once it is', () => {
    // The gate timed out: the fetch runs unguarded, its result is stale, and the refetch runs live.
    expect(run(['fetchStarted', 'gateWait', 'gateTimeout', 'changes', 'fetchOk', 'changes', 'live', 'fetchStartedLive', 'fetchOk'])).toEqual([
      'fetching', 'gated', 'fetching', 'fetching', 'stale', 'stale', 'currentDoubted', 'fetchingLiveDoubted', 'current',
    ]);
  });

  it('a rejoin that resumes keeps a live fetch live; one that does not refetches everything', () => {
    expect(run(['fetchStartedLive', 'live', 'fetchOk', 'live'])).toEqual(['fetchingLive', 'fetchingLive', 'current', 'current']);
    expect(run(['fetchStartedLive', 'liveFresh', 'fetchOk', 'live', 'fetchStartedLive', 'fetchOk', 'liveFresh'])).toEqual([
      'fetchingLive', 'fetching', 'stale', 'currentDoubted', 'fetchingLiveDoubted', 'current', 'currentDoubted',
    ]);
  });

  it('a resync notice during a fetch makes its result stale; between fetches it refetches', () => {
    expect(run(['fetchStartedLive', 'resync', 'fetchOk'])).toEqual(['fetchingLive', 'fetching', 'stale']);
    expect(run(['resync', 'fetchStartedLive', 'fetchOk'], 'current')).toEqual(['currentDoubted', 'fetchingLiveDoubted', 'current']);
  });

  it('a failed fetch: in step when it started live with data and no doubt, else waits for one that succeeds', () => {
    expect(run(['fetchStartedLive', 'changes', 'fetchFailed'], 'current')).toEqual(['fetchingLive', 'fetchingLive', 'current']);
    expect(run(['fetchStartedLive', 'fetchFailedEmpty'])).toEqual(['fetchingLive', 'failed']);
    // Failed for a reason that may pass: the next changes retry it, and that fetch failing keeps it failed.
    expect(run(['fetchStarted', 'fetchFailed', 'changes', 'fetchStartedLive', 'fetchFailed', 'live', 'fetchStartedLive', 'fetchOk'])).toEqual([
      'fetching', 'failed', 'failedDoubted', 'fetchingLiveDoubted', 'failedDoubted', 'currentDoubted', 'fetchingLiveDoubted', 'current',
    ]);
    // Refused for good: changes don't retry it; being live again does.
    expect(run(['fetchStarted', 'fetchRefused', 'changes', 'live'])).toEqual(['fetching', 'stale', 'stale', 'currentDoubted']);
  });

  it('a refetch asked because the data may be wrong: its failure leaves the entry stale, whatever changes it held', () => {
    expect(run(['refetch', 'fetchStartedLive', 'changes', 'fetchRefused'], 'current')).toEqual(['currentDoubted', 'fetchingLiveDoubted', 'fetchingLiveDoubted', 'staleDoubted']);
  });

  it('a removed entry ignores its fetch gate timer', () => {
    expect(run(['fetchStarted', 'gateWait', 'removed', 'gateTimeout', 'live'])).toEqual(['fetching', 'gated', 'removed', 'removed', 'removed']);
  });
});

/**
 * The presence tracker against phoenix's own client merge: `@supabase/phoenix` is the package
 * realtime-js (≥2.100) merges presence with (its PresenceAdapter wraps `Presence`), so what these
 * tests feed to `Presence.syncState` / `syncDiff` is exactly what a stock client would compute.
 */
import fc from 'fast-check';
import { Presence } from '@supabase/phoenix';
import {
  applyDiff,
  createPresenceTracker,
  PAYLOAD_NOT_MAP_MESSAGE,
  PAYLOAD_TOO_LARGE_MESSAGE,
  PresenceError,
  type PresenceDiff,
  type PresenceState,
  type PresenceTracker,
} from '../../../lib/server/realtime/presence/tracker';

function counterRefs(): () => string {
  let n = 0;
  return () => `ref${++n}`;
}

function tracker(options: { maxPayloadBytes?: number } = {}): PresenceTracker {
  return createPresenceTracker({ generateRef: counterRefs(), ...options });
}

/** What goes over the wire. */
function wire<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

// phoenix's .d.ts types a diff's `joins` as one presence instead of a record of them, hence the cast.
type PhoenixDiff = Parameters<typeof Presence.syncDiff>[1];

function phoenixApply(state: PresenceState, diff: PresenceDiff): PresenceState {
  return Presence.syncDiff(wire(state), wire(diff) as unknown as PhoenixDiff, () => undefined, () => undefined) as PresenceState;
}

function catchError(fn: () => unknown): PresenceError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PresenceError) return error;
    throw error;
  }
  throw new Error('expected a PresenceError');
}

describe('presence tracker: joins, updates and leaves', () => {
  it('a first track is a join with a fresh phx_ref and shows in the state', () => {
    const p = tracker();
    const diff = p.track('room', 'c1', 'ana', { status: 'online' });
    expect(wire(diff)).toEqual({ joins: { ana: { metas: [{ status: 'online', phx_ref: 'ref1' }] } }, leaves: {} });
    expect(wire(p.state('room'))).toEqual({ ana: { metas: [{ status: 'online', phx_ref: 'ref1' }] } });
    expect(wire(p.state('other'))).toEqual({});
  });

  it('re-tracking an identical payload (in any key order) changes nothing and returns null', () => {
    const p = tracker();
    p.track('room', 'c1', 'ana', { a: 1, nested: { x: [1, { y: 2 }], z: null } });
    const before = wire(p.state('room'));
    expect(p.track('room', 'c1', 'ana', { nested: { z: null, x: [1, { y: 2 }] }, a: 1 })).toBeNull();
    expect(wire(p.state('room'))).toEqual(before);
  });

  it('re-tracking a different payload is an update: new ref with phx_ref_prev, and the old meta leaves in the same diff', () => {
    const p = tracker();
    p.track('room', 'c1', 'ana', { status: 'online' });
    const diff = p.track('room', 'c1', 'ana', { status: 'away' });
    expect(wire(diff)).toEqual({
      joins: { ana: { metas: [{ status: 'away', phx_ref: 'ref2', phx_ref_prev: 'ref1' }] } },
      leaves: { ana: { metas: [{ status: 'online', phx_ref: 'ref1' }] } },
    });
    expect(wire(p.state('room'))).toEqual({ ana: { metas: [{ status: 'away', phx_ref: 'ref2', phx_ref_prev: 'ref1' }] } });
    // A second update points at the ref it replaces, and leaves with the meta as clients hold it.
    const again = p.track('room', 'c1', 'ana', { status: 'online' });
    expect(wire(again?.leaves)).toEqual({ ana: { metas: [{ status: 'away', phx_ref: 'ref2', phx_ref_prev: 'ref1' }] } });
    expect(again?.joins.ana?.metas[0]).toMatchObject({ phx_ref: 'ref3', phx_ref_prev: 'ref2' });
  });

  it('several connections share a key as several metas; one leaving removes only its meta', () => {
    const p = tracker();
    p.track('room', 'c1', 'ana', { device: 'phone' });
    const join2 = p.track('room', 'c2', 'ana', { device: 'laptop' });
    expect(wire(join2)).toEqual({ joins: { ana: { metas: [{ device: 'laptop', phx_ref: 'ref2' }] } }, leaves: {} });
    expect(wire(p.state('room')).ana?.metas.map((m) => m.device)).toEqual(['phone', 'laptop']);

    expect(wire(p.untrack('room', 'c1', 'ana'))).toEqual({ joins: {}, leaves: { ana: { metas: [{ device: 'phone', phx_ref: 'ref1' }] } } });
    expect(wire(p.state('room'))).toEqual({ ana: { metas: [{ device: 'laptop', phx_ref: 'ref2' }] } });
    p.untrack('room', 'c2');
    expect(wire(p.state('room'))).toEqual({});
  });

  it('an update of one of several metas under a key moves it last, as phoenix syncDiff places it', () => {
    const p = tracker();
    p.track('room', 'c1', 'ana', { v: 1 });
    p.track('room', 'c2', 'ana', { v: 2 });
    const client = wire(p.state('room'));
    const diff = p.track('room', 'c1', 'ana', { v: 3 })!;
    expect(phoenixApply(client, diff)).toEqual(wire(p.state('room')));
    expect(wire(p.state('room')).ana?.metas.map((m) => m.v)).toEqual([2, 3]);
  });

  it('untrack without a key removes every key of that join; untracking nothing returns null', () => {
    const p = tracker();
    p.track('room', 'c1', 'ana', { a: 1 });
    p.track('room', 'c1', 'bob', { b: 1 });
    p.track('room', 'c2', 'bob', { b: 2 });
    expect(p.untrack('room', 'c3')).toBeNull();
    expect(p.untrack('room', 'c1', 'zed')).toBeNull();
    expect(p.untrack('lobby', 'c1')).toBeNull();
    expect(wire(p.untrack('room', 'c1'))).toEqual({
      joins: {},
      leaves: { ana: { metas: [{ a: 1, phx_ref: 'ref1' }] }, bob: { metas: [{ b: 1, phx_ref: 'ref2' }] } },
    });
    expect(wire(p.state('room'))).toEqual({ bob: { metas: [{ b: 2, phx_ref: 'ref3' }] } });
    expect(p.untrack('room', 'c1')).toBeNull();
  });

  it('untrackConnection leaves every topic of that socket, one diff per topic, and no one else', () => {
    const p = tracker();
    p.track('room', 'c1', 'ana', { a: 1 });
    p.track('lobby', 'c1', 'ana', { a: 2 });
    p.track('lobby', 'c2', 'bob', { b: 1 });
    const diffs = p.untrackConnection('c1');
    expect(wire(diffs)).toEqual([
      { topic: 'room', diff: { joins: {}, leaves: { ana: { metas: [{ a: 1, phx_ref: 'ref1' }] } } } },
      { topic: 'lobby', diff: { joins: {}, leaves: { ana: { metas: [{ a: 2, phx_ref: 'ref2' }] } } } },
    ]);
    expect(wire(p.state('room'))).toEqual({});
    expect(wire(p.state('lobby'))).toEqual({ bob: { metas: [{ b: 1, phx_ref: 'ref3' }] } });
    expect(p.untrackConnection('c1')).toEqual([]);
    expect(p.untrackConnection('never-seen')).toEqual([]);
    // The connection can track again afterwards, as a new join.
    expect(p.track('room', 'c1', 'ana', { a: 1 })?.leaves).toEqual({});
  });

  it('one connection on two topics keeps two independent presences', () => {
    const p = tracker();
    p.track('room', 'c1', 'ana', { a: 1 });
    p.track('lobby', 'c1', 'ana', { a: 1 });
    p.untrack('room', 'c1');
    expect(wire(p.state('lobby'))).toEqual({ ana: { metas: [{ a: 1, phx_ref: 'ref2' }] } });
  });

  it('keys and topics such as __proto__ and constructor are ordinary keys', () => {
    const p = tracker();
    const diff = p.track('__proto__', 'constructor', '__proto__', { a: 1 });
    expect(Object.keys(diff!.joins)).toEqual(['__proto__']);
    p.track('__proto__', 'c2', 'constructor', { b: 1 });
    const state = p.state('__proto__');
    expect(Object.keys(state)).toEqual(['__proto__', 'constructor']);
    expect(JSON.parse(JSON.stringify(state))).toHaveProperty(['__proto__', 'metas', 0, 'a'], 1);
    expect(Object.keys(p.untrackConnection('constructor')[0]!.diff.leaves)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).metas).toBeUndefined(); // Object.prototype untouched
  });
});

describe('presence tracker: payloads and validation', () => {
  it.each([['a string', 'hello'], ['an array', [1, 2]], ['null', null], ['a number', 42], ['undefined', undefined], ['a Date', new Date(0)], ['a Map', new Map()]])(
    'refuses %s as a track payload with Supabase\'s message',
    (_what, payload) => {
      const p = tracker();
      const error = catchError(() => p.track('room', 'c1', 'ana', payload));
      expect(error.code).toBe('PRESENCE_PAYLOAD_NOT_MAP');
      expect(error.message).toBe(PAYLOAD_NOT_MAP_MESSAGE);
      expect(PAYLOAD_NOT_MAP_MESSAGE).toBe('Presence track payload must be a map');
      expect(wire(p.state('room'))).toEqual({});
    },
  );

  it('accepts an object with a null prototype', () => {
    const payload = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 });
    expect(tracker().track('room', 'c1', 'ana', payload)?.joins.ana?.metas[0]).toMatchObject({ a: 1 });
  });

  it('limits the payload by bytes of its UTF-8 JSON: at the limit passes, one byte over fails with the sizes', () => {
    // {"s":"…"} is 8 bytes of syntax; "é" is 2 bytes in UTF-8.
    const p = tracker({ maxPayloadBytes: 20 });
    expect(p.track('room', 'c1', 'ana', { s: 'éééééé' })).not.toBeNull(); // 8 + 12 = 20
    const error = catchError(() => p.track('room', 'c1', 'ana', { s: 'éééééée' })); // 21
    expect(error).toMatchObject({ code: 'PRESENCE_PAYLOAD_TOO_LARGE', message: PAYLOAD_TOO_LARGE_MESSAGE, details: { bytes: 21, limit: 20 } });
    // A refused update keeps the presence as it was.
    expect(wire(p.state('room')).ana?.metas[0]).toEqual({ s: 'éééééé', phx_ref: 'ref1' });
  });

  it('the default limit is 256 KiB', () => {
    const p = createPresenceTracker();
    expect(p.track('room', 'c1', 'ana', { s: 'x'.repeat(256 * 1024 - 8) })).not.toBeNull();
    expect(catchError(() => p.track('room', 'c1', 'ana', { s: 'x'.repeat(256 * 1024 - 7) })).code).toBe('PRESENCE_PAYLOAD_TOO_LARGE');
  });

  it('refuses payloads that are not JSON', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(catchError(() => tracker().track('room', 'c1', 'ana', { n: 1n })).code).toBe('PRESENCE_PAYLOAD_NOT_JSON');
    expect(catchError(() => tracker().track('room', 'c1', 'ana', cyclic)).code).toBe('PRESENCE_PAYLOAD_NOT_JSON');
  });

  it('the server owns phx_ref and phx_ref_prev: client values are dropped', () => {
    const p = tracker();
    const diff = p.track('room', 'c1', 'ana', { phx_ref: 'forged', phx_ref_prev: 'forged-too', a: 1 });
    expect(wire(diff?.joins)).toEqual({ ana: { metas: [{ a: 1, phx_ref: 'ref1' }] } });
    // …so a payload differing only in those fields is identical.
    expect(p.track('room', 'c1', 'ana', { a: 1, phx_ref: 'other' })).toBeNull();
  });

  it('keeps its own frozen copy of the payload', () => {
    const p = tracker();
    const payload = { list: [1], inner: { v: 1 } };
    p.track('room', 'c1', 'ana', payload);
    payload.list.push(2);
    payload.inner.v = 2;
    const meta = p.state('room').ana!.metas[0]!;
    expect(meta).toEqual({ list: [1], inner: { v: 1 }, phx_ref: 'ref1' });
    expect(Object.isFrozen(meta) && Object.isFrozen(meta.list) && Object.isFrozen(meta.inner)).toBe(true);
    expect(Object.isFrozen(payload)).toBe(false);
  });

  it('rejects non-string topics, connections and keys, and bad options, with codes', () => {
    const p = tracker();
    expect(catchError(() => p.track(1 as unknown as string, 'c1', 'ana', {})).code).toBe('PRESENCE_BAD_ARGUMENT');
    expect(catchError(() => p.track('room', null as unknown as string, 'ana', {})).message).toMatch(/connectionId must be a string, got null/);
    expect(catchError(() => p.untrack('room', 'c1', 5 as unknown as string)).code).toBe('PRESENCE_BAD_ARGUMENT');
    expect(catchError(() => p.untrackConnection(undefined as unknown as string)).code).toBe('PRESENCE_BAD_ARGUMENT');
    expect(catchError(() => createPresenceTracker({ maxPayloadBytes: 0 })).code).toBe('PRESENCE_BAD_OPTION');
    expect(catchError(() => createPresenceTracker({ maxPayloadBytes: Number.NaN })).code).toBe('PRESENCE_BAD_OPTION');
    expect(catchError(() => createPresenceTracker({ generateRef: 'x' as unknown as () => string })).code).toBe('PRESENCE_BAD_OPTION');
  });

  it('default refs are unique within a tracker and across trackers (a restarted server)', () => {
    const refs = new Set<string>();
    for (const p of [createPresenceTracker(), createPresenceTracker()]) {
      for (let i = 0; i < 500; i++) {
        const diff = p.track('room', `c${i}`, 'k', { i });
        refs.add(diff!.joins.k!.metas[0]!.phx_ref);
      }
    }
    expect(refs.size).toBe(1000);
  });
});

describe('applyDiff', () => {
  it('merges like phoenix syncDiff and leaves its arguments untouched', () => {
    const state: PresenceState = { ana: { metas: [{ phx_ref: 'r1', v: 1 }, { phx_ref: 'r2', v: 2 }] }, bob: { metas: [{ phx_ref: 'r3' }] } };
    const diff: PresenceDiff = {
      joins: { ana: { metas: [{ phx_ref: 'r4', phx_ref_prev: 'r1', v: 4 }] }, cyd: { metas: [{ phx_ref: 'r5' }] } },
      leaves: { ana: { metas: [{ phx_ref: 'r1', v: 1 }] }, bob: { metas: [{ phx_ref: 'r3' }] }, ghost: { metas: [{ phx_ref: 'r9' }] } },
    };
    const stateBefore = wire(state);
    const diffBefore = wire(diff);
    const merged = applyDiff(state, diff);
    expect(wire(merged)).toEqual({ ana: { metas: [{ phx_ref: 'r2', v: 2 }, { phx_ref: 'r4', phx_ref_prev: 'r1', v: 4 }] }, cyd: { metas: [{ phx_ref: 'r5' }] } });
    expect(wire(merged)).toEqual(phoenixApply(state, diff));
    expect(state).toEqual(stateBefore);
    expect(diff).toEqual(diffBefore);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: every observer that starts from a state() snapshot and applies every later diff in
// order ends up with the tracker's state, whether it merges with phoenix or with applyDiff.

const CONNECTIONS = ['c1', 'c2', 'c3', 'c4'];
const TOPICS = ['room', 'lobby'];
const KEYS = ['ana', 'bob', 'cyd'];

type Op =
  | { kind: 'track'; conn: string; topic: string; key: string; payload: Record<string, unknown> }
  | { kind: 'untrack'; conn: string; topic: string; key: string | undefined }
  | { kind: 'close'; conn: string }
  | { kind: 'lateJoin'; topic: string };

const conn = fc.constantFrom(...CONNECTIONS);
const topic = fc.constantFrom(...TOPICS);
const key = fc.constantFrom(...KEYS);
// Few payloads, so identical re-tracks (no-ops) happen often.
const payload = fc.oneof(
  fc.constantFrom({}, { s: 'online' }, { s: 'away' }),
  fc.record({ s: fc.constantFrom('online', 'away'), n: fc.integer({ min: 0, max: 2 }) }),
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('track' as const), conn, topic, key, payload }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('untrack' as const), conn, topic, key: fc.option(key, { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('close' as const), conn }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('lateJoin' as const), topic }) },
);

/** Equal as presence states; the text comparison is only a fast path (key order carries no meaning). */
function expectSameState(actual: PresenceState, expected: PresenceState): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) expect(wire(actual)).toEqual(wire(expected));
}

interface Observer {
  topic: string;
  phoenix: PresenceState;
  ours: PresenceState;
}

describe('presence tracker: convergence property', () => {
  it('initial and late observers applying every later diff reproduce state(), with phoenix syncDiff and with applyDiff', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80, size: 'max' }), (ops) => {
        const p = tracker();
        const seenRefs = new Set<string>();
        const observe = (t: string): Observer => {
          const snapshot = wire(p.state(t));
          // A client receiving presence_state runs syncState from its (empty) local state.
          return { topic: t, phoenix: Presence.syncState({}, wire(snapshot), () => undefined, () => undefined) as PresenceState, ours: snapshot };
        };
        const observers: Observer[] = TOPICS.map(observe);

        const publish = (t: string, diff: PresenceDiff): void => {
          expect(Object.keys(diff.joins).length + Object.keys(diff.leaves).length).toBeGreaterThan(0);
          for (const entry of Object.values(diff.joins)) {
            for (const meta of entry.metas) {
              expect(seenRefs.has(meta.phx_ref)).toBe(false);
              seenRefs.add(meta.phx_ref);
            }
          }
          for (const o of observers) {
            if (o.topic !== t) continue;
            o.phoenix = phoenixApply(o.phoenix, diff);
            o.ours = applyDiff(o.ours, wire(diff));
          }
        };

        for (const o of ops) {
          if (o.kind === 'lateJoin') {
            observers.push(observe(o.topic));
          } else if (o.kind === 'close') {
            for (const { topic: t, diff } of p.untrackConnection(o.conn)) publish(t, diff);
          } else {
            const before = wire(p.state(o.topic));
            const diff = o.kind === 'track' ? p.track(o.topic, o.conn, o.key, o.payload) : p.untrack(o.topic, o.conn, o.key);
            if (diff) publish(o.topic, diff);
            else expect(wire(p.state(o.topic))).toEqual(before);
          }
          for (const ob of observers) {
            const truth = p.state(ob.topic);
            expectSameState(ob.phoenix, truth);
            expectSameState(ob.ours, truth);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

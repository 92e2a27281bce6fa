/**
 * Our pure presence merge against @supabase/phoenix's own `Presence.syncState` / `syncDiff` / `list`
 * (what realtime-js ≥ 2.100 merges with), on random states and diffs; phoenix mutates its inputs, so
 * it gets copies.
 */
import fc from 'fast-check';
import { Presence } from '@supabase/phoenix';
import {
  emptyPresenceSession,
  list,
  metasByKey,
  receivePresenceDiff,
  receivePresenceState,
  syncDiff,
  syncState,
  type PresenceDiff,
  type PresenceState,
} from '../../../lib/sync/phoenix/presence.js';

const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
type PhoenixDiff = Parameters<typeof Presence.syncDiff>[1];
type PhoenixState = Parameters<typeof Presence.syncState>[0];
// Compared as JSON values (key order kept): @supabase/phoenix ≥ 0.4.5 builds its objects with another prototype.
const phoenixState = (a: PresenceState, b: PresenceState) => copy(Presence.syncState(copy(a) as unknown as PhoenixState, copy(b) as unknown as PhoenixState, () => undefined, () => undefined)) as unknown as PresenceState;
const phoenixDiff = (a: PresenceState, d: PresenceDiff) => copy(Presence.syncDiff(copy(a) as unknown as PhoenixState, copy(d) as unknown as PhoenixDiff, () => undefined, () => undefined)) as unknown as PresenceState;

// Few keys and refs so that states and diffs overlap often.
const key = fc.constantFrom('ana', 'bo', 'cy', 'dee');
const meta = fc.record({ phx_ref: fc.constantFrom('r1', 'r2', 'r3', 'r4', 'r5', 'r6'), status: fc.constantFrom('online', 'away') });
const entry = fc.uniqueArray(meta, { selector: (m) => m.phx_ref, minLength: 1, maxLength: 3 }).map((metas) => ({ metas }));
const state = fc.dictionary(key, entry, { maxKeys: 4 }).map(copy);
const diff = fc.record({ joins: state, leaves: state });

describe('presence merge = phoenix Presence', () => {
  it('syncState gives what phoenix gives, key order included, and leaves its inputs alone', () => {
    fc.assert(
      fc.property(state, state, (current, next) => {
        const before = copy([current, next]);
        const ours = syncState(current, next);
        expect(ours).toStrictEqual(phoenixState(current, next));
        expect(Object.keys(ours)).toEqual(Object.keys(phoenixState(current, next)));
        expect(copy([current, next])).toStrictEqual(before);
      }),
      { numRuns: 500 },
    );
  });

  it('syncDiff gives what phoenix gives, and leaves its inputs alone', () => {
    fc.assert(
      fc.property(state, diff, (current, d) => {
        const before = copy([current, d]);
        const ours = syncDiff(current, d);
        expect(ours).toStrictEqual(phoenixDiff(current, d));
        expect(Object.keys(ours)).toEqual(Object.keys(phoenixDiff(current, d)));
        expect(copy([current, d])).toStrictEqual(before);
      }),
      { numRuns: 500 },
    );
  });

  it('a sequence of states and diffs ends where phoenix ends', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(state.map((s) => ({ s })), diff.map((d) => ({ d }))), { maxLength: 12 }), (steps) => {
        let ours: PresenceState = {};
        let theirs: PresenceState = {};
        for (const step of steps) {
          if ('s' in step) [ours, theirs] = [syncState(ours, step.s), phoenixState(theirs, step.s)];
          else [ours, theirs] = [syncDiff(ours, step.d), phoenixDiff(theirs, step.d)];
        }
        expect(ours).toStrictEqual(theirs);
        const chooser = (k: string, e: { metas: unknown[] }) => `${k}:${e.metas.length}`;
        expect(list(ours, chooser)).toEqual(Presence.list(theirs as never, chooser as never));
        expect(list(ours)).toEqual(Presence.list(theirs as never));
      }),
    );
  });

  it('an update (join with phx_ref_prev + leave of the old meta in one diff) replaces the meta', () => {
    const s = syncState({}, { ana: { metas: [{ phx_ref: 'a', status: 'online' }] } });
    const next = syncDiff(s, {
      joins: { ana: { metas: [{ phx_ref: 'b', phx_ref_prev: 'a', status: 'away' }] } },
      leaves: { ana: { metas: [{ phx_ref: 'a', status: 'online' }] } },
    });
    expect(next).toEqual({ ana: { metas: [{ phx_ref: 'b', phx_ref_prev: 'a', status: 'away' }] } });
    expect(metasByKey(next)).toEqual({ ana: [{ phx_ref: 'b', phx_ref_prev: 'a', status: 'away' }] });
  });
});

describe('presence session: diffs before the state of the current join are buffered', () => {
  const joinA = { joins: { ana: { metas: [{ phx_ref: 'a' }] } }, leaves: {} };
  it('buffers a diff that arrives before presence_state and applies it after the state', () => {
    let session = receivePresenceDiff(emptyPresenceSession, '1', joinA);
    expect(session.state).toEqual({});
    session = receivePresenceState(session, '1', { bo: { metas: [{ phx_ref: 'b' }] } });
    expect(session).toEqual({ joinRef: '1', pending: [], state: { bo: { metas: [{ phx_ref: 'b' }] }, ana: { metas: [{ phx_ref: 'a' }] } } });
  });

  it('after a rejoin (new join ref) diffs wait for the new state, which replaces the old one', () => {
    let session = receivePresenceState(emptyPresenceSession, '1', { bo: { metas: [{ phx_ref: 'b' }] } });
    session = receivePresenceDiff(session, '1', joinA);
    expect(Object.keys(session.state)).toEqual(['bo', 'ana']);
    session = receivePresenceDiff(session, '7', { joins: {}, leaves: { ana: { metas: [{ phx_ref: 'a' }] } } });
    expect(session.pending).toHaveLength(1);
    session = receivePresenceState(session, '7', { ana: { metas: [{ phx_ref: 'a' }] }, cy: { metas: [{ phx_ref: 'c' }] } });
    expect(session.state).toEqual({ cy: { metas: [{ phx_ref: 'c' }] } });
  });
});

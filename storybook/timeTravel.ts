/**
 * The in-page DevTools' recorder: a store enhancer that keeps every action with the state it made,
 * and can show any recorded state instead of the latest one, the way the Redux DevTools extension
 * time-travels. Showing a past state is a reducer step of the store itself, below the middleware:
 * no middleware sees it, so RTK Query and the sync middleware send nothing. New actions still apply
 * to the latest state (recorded as usual); the page keeps showing the chosen one until it resumes.
 */
import type { Action, Reducer, StoreEnhancer, UnknownAction } from '@reduxjs/toolkit';

export interface RecordedAction {
  /** Increasing per recorder; survives trimming, so it names an entry for good. */
  seq: number;
  type: string;
  action: UnknownAction;
  at: number;
}

export interface TimeTravelSnapshot {
  entries: readonly RecordedAction[];
  /** The entry whose state the store shows, or null for the latest. */
  viewing: number | null;
}

export interface TimeTravel {
  enhancer: StoreEnhancer;
  getSnapshot(): TimeTravelSnapshot;
  subscribe(listener: () => void): () => void;
  /** Shows the state right after entry `seq`; null goes back to the latest state. */
  jumpTo(seq: number | null): void;
  /** The state after entry `seq` (undefined once trimmed). */
  stateAfter(seq: number): unknown;
}

const JUMP = '@@rtk-postgrest-demo/timeTravel/jump';

/** A recorder for one store; keeps the last `limit` actions (default 500). */
export function createTimeTravel(limit = 500): TimeTravel {
  const states = new Map<number, unknown>();
  let snapshot: TimeTravelSnapshot = { entries: [], viewing: null };
  let seq = 0;
  let latest: unknown;
  let jump: ((action: UnknownAction) => void) | null = null;
  const listeners = new Set<() => void>();
  const publish = (next: TimeTravelSnapshot) => {
    snapshot = next;
    // After the reducer has returned: listeners may read the store.
    queueMicrotask(() => listeners.forEach((listener) => listener()));
  };

  const wrap = <S, A extends Action>(reducer: Reducer<S, A>): Reducer<S, A> =>
    ((state: S | undefined, action: A) => {
      if (action.type === JUMP) {
        const target = (action as unknown as { seq: number | null }).seq;
        return (target === null ? latest : states.get(target)) as S;
      }
      const next = reducer((latest ?? state) as S | undefined, action);
      latest = next;
      seq += 1;
      states.set(seq, next);
      let entries = [...snapshot.entries, { seq, type: action.type, action: action as unknown as UnknownAction, at: Date.now() }];
      if (entries.length > limit) {
        const dropped = entries.slice(0, entries.length - limit);
        for (const entry of dropped) if (entry.seq !== snapshot.viewing) states.delete(entry.seq);
        entries = entries.slice(-limit);
      }
      publish({ entries, viewing: snapshot.viewing });
      return (snapshot.viewing === null ? next : states.get(snapshot.viewing)) as S;
    }) as Reducer<S, A>;

  const enhancer: StoreEnhancer = (createStore) => (reducer, preloadedState) => {
    const store = createStore(wrap(reducer as Reducer), preloadedState as never);
    // The store's own dispatch, inside every middleware: a jump is seen by the reducer only.
    jump = (action) => store.dispatch(action);
    return store as never;
  };

  return {
    enhancer,
    getSnapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    jumpTo(target) {
      if (!jump) throw new Error('timeTravel: the enhancer is not on a store yet');
      if (target !== null && !states.has(target)) throw new Error(`timeTravel: entry ${target} is no longer recorded`);
      publish({ entries: snapshot.entries, viewing: target });
      jump({ type: JUMP, seq: target });
    },
    stateAfter: (target) => states.get(target),
  };
}

/**
 * The in-page DevTools' recorder: a store enhancer that keeps every action with the state it made,
 * and a view of the store that can show any recorded state instead of the latest one.
 *
 * The store itself always holds the latest state, so every middleware (RTK Query's, the sync
 * middleware's) goes on reading and acting on the real state while the page shows a past one: a
 * row change arriving while you look back is patched into the latest state, not into the one shown.
 * Only the UI reads the view (`<Provider store={timeTravel.view(store)}>`); its dispatch is the
 * store's. Showing a past state dispatches nothing, so nothing is fetched.
 */
import type { Action, Reducer, Store, StoreEnhancer, UnknownAction } from '@reduxjs/toolkit';

export interface RecordedAction {
  /** Increasing per recorder; survives trimming, so it names an entry for good. */
  seq: number;
  type: string;
  action: UnknownAction;
  at: number;
}

export interface TimeTravelSnapshot {
  entries: readonly RecordedAction[];
  /** The entry whose state the view shows, or null for the latest. */
  viewing: number | null;
}

export interface TimeTravel {
  enhancer: StoreEnhancer;
  /** The store as the UI sees it: the shown state, the store's dispatch. One view per store. */
  view<S extends Store>(store: S): S;
  getSnapshot(): TimeTravelSnapshot;
  subscribe(listener: () => void): () => void;
  /** Shows the state right after entry `seq`; null goes back to the latest state. */
  jumpTo(seq: number | null): void;
}

/** A recorder for one store; keeps the last `limit` actions (default 500). */
export function createTimeTravel(limit = 500): TimeTravel {
  const states = new Map<number, unknown>();
  let snapshot: TimeTravelSnapshot = { entries: [], viewing: null };
  let seq = 0;
  const listeners = new Set<() => void>();
  /** The views' subscribers, told when the shown state changes by a jump. */
  const viewListeners = new Set<() => void>();
  const views = new WeakMap<Store, Store>();
  const publish = (next: TimeTravelSnapshot) => {
    snapshot = next;
    // After the reducer has returned: listeners may read the store.
    queueMicrotask(() => listeners.forEach((listener) => listener()));
  };

  const record = <S, A extends Action>(reducer: Reducer<S, A>): Reducer<S, A> =>
    ((state: S | undefined, action: A) => {
      const next = reducer(state, action);
      seq += 1;
      states.set(seq, next);
      let entries = [...snapshot.entries, { seq, type: action.type, action: action as unknown as UnknownAction, at: Date.now() }];
      if (entries.length > limit) {
        for (const entry of entries.slice(0, entries.length - limit)) if (entry.seq !== snapshot.viewing) states.delete(entry.seq);
        entries = entries.slice(-limit);
      }
      publish({ entries, viewing: snapshot.viewing });
      return next;
    }) as Reducer<S, A>;

  const enhancer: StoreEnhancer = (createStore) => (reducer, preloadedState) => createStore(record(reducer as Reducer), preloadedState as never) as never;

  return {
    enhancer,
    view<S extends Store>(store: S): S {
      const existing = views.get(store);
      if (existing) return existing as S;
      const view = {
        ...store,
        getState: () => (snapshot.viewing === null ? store.getState() : states.get(snapshot.viewing)),
        subscribe(listener: () => void) {
          const unsubscribe = store.subscribe(listener);
          viewListeners.add(listener);
          return () => {
            unsubscribe();
            viewListeners.delete(listener);
          };
        },
      } as unknown as S;
      views.set(store, view);
      return view;
    },
    getSnapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    jumpTo(target) {
      if (target !== null && !states.has(target)) throw new Error(`timeTravel: entry ${target} is no longer recorded`);
      publish({ entries: snapshot.entries, viewing: target });
      viewListeners.forEach((listener) => listener());
    },
  };
}

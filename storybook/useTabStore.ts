import { useEffect, useState } from 'react';
import type { DemoConfig } from './demoConfig';
import { createLiveStore, type LiveStore } from './liveStore';
import type { TimeTravel } from './timeTravel';

/**
 * One "browser tab" for as long as the component lives: its own store, signed in as the config's
 * `userIndex`th user, connected while mounted (the socket would open on the first subscription
 * anyway; connecting here lets unmount close it).
 */
export function useTabStore(config: DemoConfig, userIndex: number, fetchFn?: typeof fetch, timeTravel?: TimeTravel): LiveStore {
  const [tab] = useState(() => createLiveStore({ config, user: config.users[userIndex]!, fetchFn, timeTravel }));
  useEffect(() => {
    tab.store.dispatch(tab.sync.actions.connect());
    return () => {
      tab.store.dispatch(tab.sync.actions.disconnect());
    };
  }, [tab]);
  return tab;
}

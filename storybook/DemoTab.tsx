import { createContext, useContext, useSyncExternalStore, type ReactNode } from 'react';
import { Provider } from 'react-redux';
import type { DemoConfig } from './demoConfig';
import { DEMO_TIMING, type LiveStore } from './liveStore';
import type { DemoNetwork } from './network';
import type { TimeTravel } from './timeTravel';
import { useTabStore } from './useTabStore';

const TabContext = createContext<LiveStore | null>(null);

/** The tab (store, api, sync hooks, network) of the enclosing <DemoTab>. */
export function useTab(): LiveStore {
  const tab = useContext(TabContext);
  if (!tab) throw new Error('useTab: render inside <DemoTab>');
  return tab;
}

/** The tab's network counters and switches, re-rendering when they change. */
export function useNetwork(network: DemoNetwork = useTab().network) {
  return useSyncExternalStore(network.subscribe, network.getSnapshot);
}

export interface DemoTabProps {
  /** "Tab A": also the region's accessible name. */
  label: string;
  config: DemoConfig;
  /** Which demo user the tab signs in as. */
  userIndex: number;
  /** Every PostgREST request of the tab goes through it (tests pass a recording fetch). */
  fetchFn?: typeof fetch;
  /** The switches this demo offers: the offline switch, the realtime switch. */
  controls?: ReadonlyArray<'offline' | 'realtime'>;
  /** The in-page DevTools' recorder for this tab's store. */
  timeTravel?: TimeTravel;
  children: ReactNode;
}

/**
 * One client of a two-client demo: its own store, api, sync middleware and WebSocket, signed in as
 * one demo user, in a card showing who it is, its sync status and how many requests it has sent.
 */
export function DemoTab({ config, userIndex, fetchFn, timeTravel, ...frame }: DemoTabProps) {
  const tab = useTabStore(config, userIndex, fetchFn, timeTravel);
  return <TabFrame tab={tab} {...frame} />;
}

/**
 * Tab A (the first demo user) and tab B (the second) side by side, each its own client with the same
 * `children`: two browser tabs of one app.
 */
export function TwoTabs({ config, fetchFn, controls, children }: Omit<DemoTabProps, 'label' | 'userIndex' | 'timeTravel'>) {
  return (
    <div className="tabs">
      {(['Tab A', 'Tab B'] as const).map((label, index) => (
        <DemoTab key={label} label={label} config={config} userIndex={index} fetchFn={fetchFn} controls={controls}>
          {children}
        </DemoTab>
      ))}
    </div>
  );
}

export interface TabFrameProps {
  label: string;
  tab: LiveStore;
  /** The store the UI reads, when not `tab.store` (the time-travel view of it). */
  store?: LiveStore['store'];
  controls?: ReadonlyArray<'offline' | 'realtime'>;
  children: ReactNode;
}

/** The card of a tab made elsewhere (useTabStore), with its store provided to `children`. */
export function TabFrame({ label, tab, store = tab.store, controls = [], children }: TabFrameProps) {
  return (
    <Provider store={store}>
      <TabContext.Provider value={tab}>
        <section className="tab" aria-label={label}>
          <header className="tab-header">
            <Avatar name={tab.user.name} />
            <div className="tab-title">
              <div className="tab-label">{label}</div>
              <div className="tab-user">{tab.user.name}</div>
            </div>
            <StatusPill />
            <RequestCounter />
          </header>
          {controls.length > 0 && <NetworkSwitches controls={controls} />}
          <StatusBanner />
          {children}
        </section>
      </TabContext.Provider>
    </Provider>
  );
}

// Distinct hues (the demo users Ada and Brian get orange-red and blue).
const COLORS = ['#3b5bdb', '#2b8a3e', '#7048e8', '#1098ad', '#e8590c', '#d6336c'];

/** A stable colour per name. */
export function colorOf(name: string): string {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) | 0;
  return COLORS[Math.abs(hash) % COLORS.length]!;
}

export function Avatar({ name, online, small }: { name: string; online?: boolean; small?: boolean }) {
  return (
    <span className={`avatar${small ? ' small' : ''}${online ? ' online' : ''}`} style={{ background: colorOf(name) }} title={name} aria-label={name} role="img">
      {name.slice(0, 1).toUpperCase()}
    </span>
  );
}

/** `useSyncStatus().syncStatus`: synced, syncing, degraded or offline. */
export function StatusPill() {
  const { syncStatus } = useTab().hooks.useSyncStatus();
  return (
    <span className={`pill ${syncStatus}`} role="status" aria-label="Sync status">
      {syncStatus}
    </span>
  );
}

/** Every PostgREST request this tab sent, counted outside the store (time travel can't rewind it). */
export function RequestCounter() {
  const { requests } = useNetwork();
  return (
    <span className="counter" aria-label="Requests" title="PostgREST requests this tab has sent">
      {requests} {requests === 1 ? 'request' : 'requests'}
    </span>
  );
}

function NetworkSwitches({ controls }: { controls: ReadonlyArray<'offline' | 'realtime'> }) {
  const tab = useTab();
  const { offline, realtimeDown } = useNetwork();
  return (
    <div className="row">
      {controls.includes('offline') && (
        <label className="switch">
          <input type="checkbox" checked={offline} onChange={(event) => tab.setOffline(event.target.checked)} /> Offline
        </label>
      )}
      {controls.includes('realtime') && (
        <label className="switch">
          <input type="checkbox" checked={realtimeDown} onChange={(event) => tab.network.setRealtimeDown(event.target.checked)} /> Realtime server unreachable
        </label>
      )}
    </div>
  );
}

/** What the status means for the user: writes queue while offline; lists are polled while degraded. */
function StatusBanner() {
  const { syncStatus, pendingWrites } = useTab().hooks.useSyncStatus();
  if (syncStatus === 'offline') {
    return (
      <p className="banner bad" role="note">
        Offline: changes are kept in the outbox{pendingWrites > 0 ? ` (${pendingWrites} waiting)` : ''} and sent in order when the connection is back.
      </p>
    );
  }
  if (syncStatus === 'degraded') {
    return (
      <p className="banner warn" role="note">
        Live updates are interrupted: lists are refreshed every {DEMO_TIMING.pollIntervalMs / 1000} s until the realtime connection is back.
      </p>
    );
  }
  return null;
}

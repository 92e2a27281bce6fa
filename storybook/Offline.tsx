import { useEffect, useState } from 'react';
import type { OutboxItem } from '../lib/sync';
import type { DemoConfig } from './demoConfig';
import { TwoTabs, useNetwork, useTab } from './DemoTab';
import { LiveFeed, PublishForm } from './LiveFeed';
import { DEMO_TIMING } from './liveStore';

interface OfflineDemoProps {
  config: DemoConfig;
  /** Every PostgREST request of both tabs goes through it (tests pass their own). */
  fetchFn?: typeof fetch;
}

/**
 * Two tabs, each with an Offline switch, a publish form, its outbox and a live feed. Posts written
 * offline are shown at once (`.optimistic()`) and wait in the outbox; back online, they are sent one
 * at a time in the order written, and the other tab's feed receives them in that order.
 */
export function OfflineOutbox({ config, fetchFn }: OfflineDemoProps) {
  return (
    <>
      <p className="demo-lead">
        Switch <b>Tab A</b> offline and publish a few posts. Each is written with <code>.optimistic()</code>: it shows in A&apos;s feed at once, marked
        “saving…”, and waits in A&apos;s outbox (<code>useOutbox()</code>). Nothing reaches PostgREST, so Tab B sees nothing, and <code>useSyncStatus()</code>{' '}
        says <code>offline</code> with the writes waiting. Switch A back online (the switch dispatches{' '}
        <code>sync.actions.environmentChanged(&#123; online: true &#125;)</code>): the outbox sends the writes one at a time, each after the previous one was
        answered, and B&apos;s feed receives them through the realtime stream in the order they were written. A write PostgREST refuses (try an empty title)
        stays in the outbox as <code>failed</code> until you retry or discard it.
      </p>
      <TwoTabs config={config} fetchFn={fetchFn} controls={['offline']}>
        <SyncDetails />
        <PublishForm optimistic />
        <OutboxPanel />
        <LiveFeed />
      </TwoTabs>
    </>
  );
}

/**
 * Two tabs with a "Realtime server unreachable" switch: a tab whose socket can't connect turns
 * `degraded` and polls its live feed, so a post from the other tab still arrives; once the socket is
 * back and stays open, the tab is `synced` again and polling stops.
 */
export function RealtimeDownTabs({ config, fetchFn }: OfflineDemoProps) {
  const seconds = (ms: number) => `${ms / 1000} s`;
  return (
    <>
      <p className="demo-lead">
        Switch “Realtime server unreachable” in <b>Tab A</b>: PostgREST still answers, but A&apos;s WebSocket can&apos;t connect. After{' '}
        {seconds(DEMO_TIMING.degradedAfterMs)} without a live socket its status is <code>degraded</code> and the sync middleware refetches A&apos;s live feed
        every {seconds(DEMO_TIMING.pollIntervalMs)} (watch its fetch counter climb). Publish in <b>Tab B</b>: the post reaches A by the next poll, and{' '}
        <code>useSyncStatus().lastSyncTime</code> (“last synced”) moves with each poll. Switch it back: the socket reconnects, the channels resume, and once the
        socket has stayed open a moment A is <code>synced</code> again and polling stops.
      </p>
      <TwoTabs config={config} fetchFn={fetchFn} controls={['realtime']}>
        <SyncDetails />
        <PublishForm />
        <LiveFeed />
      </TwoTabs>
    </>
  );
}

/** The time now, again every `everyMs` (for "N s ago"). */
function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** "just now", "4 s ago", "2 min ago"; "never" for null. */
function ago(time: number | null, now: number): string {
  if (time === null) return 'never';
  const seconds = Math.max(0, Math.floor((now - time) / 1000));
  if (seconds < 1) return 'just now';
  if (seconds < 120) return `${seconds} s ago`;
  return `${Math.floor(seconds / 60)} min ago`;
}

/**
 * What `useSyncStatus()` returns, in words. `lastSyncTime` is when the cache was last known equal to
 * the database: a change or a poll applied. While live, the stream keeps it equal between changes,
 * so the line says "live" and when the last change came; otherwise how long ago it was last synced.
 */
function SyncDetails() {
  const { syncStatus, isOnline, lastSyncTime, pendingWrites } = useTab().hooks.useSyncStatus();
  const now = useNow();
  const when = ago(lastSyncTime, Math.max(now, lastSyncTime ?? 0));
  const live = syncStatus === 'synced' || syncStatus === 'syncing';
  return (
    <div className="meta sync-details" aria-label="Sync details">
      {live ? (
        <>
          <b>Live</b>: the realtime stream keeps it up to date (last change <b aria-label="Last change">{when}</b>)
        </>
      ) : (
        <>
          Last synced <b aria-label="Last synced">{when}</b> (
          {syncStatus === 'degraded' ? `by polling every ${DEMO_TIMING.pollIntervalMs / 1000} s` : 'nothing is synced while offline'})
        </>
      )}{' '}
      · socket {isOnline ? 'open' : 'not open'} · {pendingWrites} {pendingWrites === 1 ? 'write' : 'writes'} waiting
    </div>
  );
}

/** A queued write in a few words: an insert's title, else its method and table. */
function describeWrite(item: OutboxItem): string {
  const body = item.request.body;
  const row = (Array.isArray(body) ? body[0] : body) as Record<string, unknown> | null | undefined;
  if (item.request.action === 'insert' && row && typeof row.title === 'string') return row.title === '' ? '(empty title)' : row.title;
  return `${item.request.method} /${item.request.relation}`;
}

/** How often a write was sent, in words. */
function attemptsText(attempts: number): string {
  if (attempts === 0) return 'not sent yet';
  return attempts === 1 ? 'sent once' : `sent ${attempts} times`;
}

const STATUS_TAG: Record<OutboxItem['status'], string> = { queued: 'tag', sending: 'tag pending', failed: 'tag failed' };

/**
 * `useOutbox()`: the tab's writes not answered yet, in the order made, with their status and sends,
 * and those PostgREST refused after they had waited (kept until retried or discarded).
 */
function OutboxPanel() {
  const { outbox, retry, discard } = useTab().hooks.useOutbox();
  const { offline } = useNetwork();
  return (
    <section className="outbox">
      <h3 className="outbox-title">Outbox</h3>
      <ol className="list" aria-label="Outbox">
        {outbox.map((item) => {
          const what = describeWrite(item);
          return (
            <li key={item.id}>
              <strong className="grow">{what}</strong>
              <span className={STATUS_TAG[item.status]}>{item.status}</span>
              <span className="meta">{attemptsText(item.attempts)}</span>
              <button
                type="button"
                aria-label={`Retry ${what}`}
                disabled={item.status === 'sending' || offline}
                title={offline ? 'Offline: it is sent when the tab is back online' : 'Send it now'}
                onClick={() => retry(item.id)}
              >
                Retry
              </button>
              <button type="button" className="danger" aria-label={`Discard ${what}`} disabled={item.status === 'sending'} onClick={() => discard(item.id)}>
                Discard
              </button>
              {item.error && (
                <div className="meta outbox-error" role={item.status === 'failed' ? 'alert' : undefined}>
                  {item.status === 'failed' ? 'Refused: ' : 'Last try: '}
                  {item.error.message}
                </div>
              )}
            </li>
          );
        })}
      </ol>
      {outbox.length === 0 && <p className="empty">Empty: every write has been answered by PostgREST.</p>}
    </section>
  );
}

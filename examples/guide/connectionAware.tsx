/**
 * The guide's "Connection-aware Sync", pasted. On `online` it refetches every entry last updated
 * more than 30 s ago (an entry never fetched has `dataUpdatedAt` 0, so it is refetched too). Guide
 * bug: `setLastSyncTime` runs right after the refetch starts, so "Last sync" shows a time when the
 * data on screen is still the old one (and shows one even when nothing was refetched).
 * `useConnectionAwareSyncAwaited` awaits the refetch first. With rtk-postgrest, `useSyncStatus()`
 * already has `isOnline` and `lastSyncTime` (the time the cache was last known equal to the
 * database), and the middleware refetches and replays the outbox on reconnect.
 */
import { useEffect, useState } from 'react';
import { useQuery, useQueryClient, useSyncStatus } from '../../lib/react';
import type { Post } from './setup';

// ---- The guide, as written ----

export function useConnectionAwareSync() {
  const queryClient = useQueryClient();
  const [isOnline, setIsOnline] = useState(navigator.onLine);
  const [lastSyncTime, setLastSyncTime] = useState<Date | null>(null);
  
  useEffect(() => {
    const handleOnline = () => {
      setIsOnline(true);
      
      // Sync all stale queries when coming back online
      queryClient.refetchQueries({
        predicate: (query) => {
          const timeSinceLastFetch = Date.now() - (query.state.dataUpdatedAt || 0);
          return timeSinceLastFetch > 30000; // 30 seconds
        }
      });
      
      setLastSyncTime(new Date());
    };
    
    const handleOffline = () => {
      setIsOnline(false);
    };
    
    window.addEventListener('online', handleOnline);
    window.addEventListener('offline', handleOffline);
    
    return () => {
      window.removeEventListener('online', handleOnline);
      window.removeEventListener('offline', handleOffline);
    };
  }, [queryClient]);
  
  return { isOnline, lastSyncTime };
}

export function SyncStatus() {
  const { isOnline, lastSyncTime } = useConnectionAwareSync();
  
  return (
    <div className={`sync-status ${isOnline ? 'online' : 'offline'}`}>
      <span className="status-dot"></span>
      {isOnline ? 'Connected' : 'Offline'}
      {lastSyncTime && (
        <small>Last sync: {lastSyncTime.toLocaleTimeString()}</small>
      )}
    </div>
  );
}

// ---- Corrected: the time is set once the refetch has landed ----

export function useConnectionAwareSyncAwaited() {
  const queryClient = useQueryClient();
  const [isOnline, setIsOnline] = useState(navigator.onLine);
  const [lastSyncTime, setLastSyncTime] = useState<Date | null>(null);
  useEffect(() => {
    const handleOnline = async () => {
      setIsOnline(true);
      await queryClient.refetchQueries({
        predicate: (query) => query.state.dataUpdatedAt > 0 && Date.now() - query.state.dataUpdatedAt > 30000,
      });
      setLastSyncTime(new Date());
    };
    const handleOffline = () => setIsOnline(false);
    window.addEventListener('online', handleOnline);
    window.addEventListener('offline', handleOffline);
    return () => {
      window.removeEventListener('online', handleOnline);
      window.removeEventListener('offline', handleOffline);
    };
  }, [queryClient]);
  return { isOnline, lastSyncTime };
}

// ---- With rtk-postgrest: the sync middleware's status ----

export function LibrarySyncStatus() {
  const { isOnline, lastSyncTime, syncStatus } = useSyncStatus();
  return (
    <div className={`sync-status ${isOnline ? 'online' : 'offline'}`}>
      {isOnline ? 'Connected' : 'Offline'} ({syncStatus})
      {lastSyncTime !== null && <small> Last sync: {new Date(lastSyncTime).toLocaleTimeString()}</small>}
    </div>
  );
}

// ---- Components the tests render ----

export interface ScreenRender {
  lastSync: number | null;
  titles: string[];
}

/**
 * The author's posts (refreshed only by the hook under test: `staleTime: Infinity`, no reconnect
 * refetch of its own) next to the hook's "Last sync", each render recorded in `log`.
 */
export function Screen({ authorId, useSync, log }: { authorId: string; useSync: () => { lastSyncTime: Date | null }; log: ScreenRender[] }) {
  const { lastSyncTime } = useSync();
  const { data } = useQuery(['posts', authorId], (c) => c.from<Post>('guide_posts').select('*').eq('author_id', authorId).order('id'), { staleTime: Infinity, refetchOnReconnect: false });
  const titles = data?.map((post) => post.title) ?? [];
  log.push({ lastSync: lastSyncTime?.getTime() ?? null, titles });
  return (
    <>
      <ul aria-label="Posts">{titles.map((title) => <li key={title}>{title}</li>)}</ul>
      {lastSyncTime && <small>Last sync: {lastSyncTime.toLocaleTimeString()}</small>}
    </>
  );
}

export function LivePosts({ authorId }: { authorId: string }) {
  const { data } = useQuery(['live-posts', authorId], (c) => c.from<Post>('guide_posts').select('*').eq('author_id', authorId).order('id'), { live: true });
  return <ul aria-label="Posts">{data?.map((post) => <li key={post.id}>{post.title}</li>)}</ul>;
}

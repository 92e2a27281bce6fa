/**
 * The guide's "Graceful Degradation", pasted. `handleSyncFailure` makes every query use cached data
 * forever (`staleTime: Infinity`, `retry: false`: nothing ever resets it) and writes the banner into
 * the cache under `['app-status']`, read by `useQuery(['app-status'], () => null)`. Guide bug: the
 * banner lasts only while that reader's data is fresh: with `staleTime` 0 its own refetch (on mount
 * or focus) runs `() => null` and the banner is gone. With rtk-postgrest the sync middleware knows
 * when it is degraded (the realtime socket not live for `degradedAfterMs`; live entries are then
 * polled): `useSyncStatus().syncStatus === 'degraded'`.
 */
import { useCallback, useState } from 'react';
import { useQuery, useQueryClient, useSyncStatus } from '../../lib/react';
import type { Post } from './setup';

// ---- The guide, as written ----

export function useDegradedSync() {
  const [syncStatus, setSyncStatus] = useState<'synced' | 'degraded' | 'offline'>('synced');
  const queryClient = useQueryClient();
  
  const handleSyncFailure = useCallback(() => {
    setSyncStatus('degraded');
    
    // Fallback to cached data
    queryClient.setDefaultOptions({
      queries: {
        staleTime: Infinity, // Use cached data indefinitely
        retry: false, // Stop retrying
      }
    });
    
    // Show degraded mode indicator
    queryClient.setQueryData(['app-status'], {
      syncStatus: 'degraded',
      message: 'Using cached data. Some information may be outdated.'
    });
  }, [queryClient]);
  
  return { syncStatus, handleSyncFailure };
}

export function AppStatusIndicator() {
  const { data: appStatus } = useQuery(['app-status'], (): { syncStatus: string; message: string } | null => null);
  
  if (!appStatus || appStatus.syncStatus === 'synced') {
    return null;
  }
  
  return (
    <div className={`app-status-banner ${appStatus.syncStatus}`}>
      <span className="status-icon">⚠️</span>
      {appStatus.message}
    </div>
  );
}

export function SyncFailureButton() {
  const { syncStatus, handleSyncFailure } = useDegradedSync();
  return <button type="button" onClick={handleSyncFailure}>Sync failed ({syncStatus})</button>;
}

// ---- With rtk-postgrest: the middleware's own status ----

export function DegradedBanner() {
  const { syncStatus } = useSyncStatus();
  if (syncStatus !== 'degraded') return null;
  return (
    <div role="status" className="app-status-banner degraded">
      <span className="status-icon">⚠️</span>
      Live updates are interrupted; refreshing every few seconds.
    </div>
  );
}

export function LivePosts({ authorId }: { authorId: string }) {
  const { data } = useQuery(['posts', authorId], (c) => c.from<Post>('guide_posts').select('*').eq('author_id', authorId).order('id'), { live: true });
  return <ul aria-label="Posts">{data?.map((post) => <li key={post.id}>{post.title}</li>)}</ul>;
}

export function Posts({ authorId }: { authorId: string }) {
  const { data } = useQuery(['plain-posts', authorId], (c) => c.from<Post>('guide_posts').select('*').eq('author_id', authorId).order('id'));
  return <ul aria-label="Plain posts">{data?.map((post) => <li key={post.id}>{post.title}</li>)}</ul>;
}

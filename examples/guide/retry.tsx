/**
 * The guide's "Automatic Retry with Backoff", pasted. Every minute it refetches each entry in error
 * after 2^errorUpdateCount s (at most 30 s). Guide bugs: `errorUpdateCount` counts every failure the
 * entry ever had and never resets, so after five failures in its life every retry waits 30 s; a 4xx
 * (a bad request) is retried forever; the timeouts are not cleared on unmount; `{ queryKey }`
 * prefix-matches child keys. rtk-postgrest's base query already retries the failures that may pass
 * (network, 408, 429, 5xx) with backoff (`retry` option), and never a 4xx.
 */
import { useCallback, useEffect } from 'react';
import { useQuery, useQueryClient } from '../../lib/react';
import type { Post } from './setup';

// ---- The guide, as written ----

export function useRetryableSync() {
  const queryClient = useQueryClient();
  
  const retryFailedQueries = useCallback(async () => {
    const queryCache = queryClient.getQueryCache();
    const failedQueries = queryCache
      .findAll({ predicate: query => query.state.status === 'error' });
    
    for (const query of failedQueries) {
      const retryCount = query.state.errorUpdateCount;
      const delay = Math.min(1000 * Math.pow(2, retryCount), 30000); // Max 30s
      
      setTimeout(() => {
        queryClient.refetchQueries({ queryKey: query.queryKey });
      }, delay);
    }
  }, [queryClient]);
  
  useEffect(() => {
    const interval = setInterval(retryFailedQueries, 60000); // Check every minute
    return () => clearInterval(interval);
  }, [retryFailedQueries]);
  
  return { retryFailedQueries };
}

// ---- Components the tests render ----

export function RetriedPosts({ authorId }: { authorId: string }) {
  useRetryableSync();
  const { data, error, errorUpdateCount } = useQuery(['posts', authorId], (c) => c.from<Post>('guide_posts').select('*').eq('author_id', authorId).order('id'));
  return (
    <>
      <p aria-label="Status">{error ? `error ${errorUpdateCount}` : data ? `ok ${errorUpdateCount}` : 'loading'}</p>
      <ul aria-label="Posts">{data?.map((post) => <li key={post.id}>{post.title}</li>)}</ul>
    </>
  );
}

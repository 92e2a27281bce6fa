/**
 * The guide's "Batched Updates", pasted. `getQueryCache().batch(fn)` makes every `setQueryData`
 * inside it one `dataSet` action (one store update, one render). Guide flaw: each call starts its own
 * timeout, and the first one flushes everything, so the others run empty batches. The realtime usage
 * leaves the update logic out; `useRealtimeBatchedPosts` fills it in. Live entries need none of this:
 * the sync middleware applies the changes that arrive together in one action.
 */
import { useCallback, useRef } from 'react';
import { useQuery, useQueryClient, useRealtime } from '../../lib/react';
import type { Post } from './setup';

// ---- The guide, as written ----

export function useBatchedUpdates() {
  const queryClient = useQueryClient();
  const updateBatchRef = useRef<Array<() => void>>([]);
  
  const batchUpdate = useCallback((updateFn: () => void) => {
    updateBatchRef.current.push(updateFn);
    
    // Debounce batch execution
    setTimeout(() => {
      queryClient.getQueryCache().batch(() => {
        updateBatchRef.current.forEach(fn => fn());
        updateBatchRef.current = [];
      });
    }, 0);
  }, [queryClient]);
  
  return { batchUpdate };
}

// Usage
export function useRealtimeBatchUpdates() {
  const { batchUpdate } = useBatchedUpdates();
  
  useRealtime('posts-batch', {
    event: '*',
    schema: 'public',
    table: 'guide_posts'
  }, (payload) => {
    // Batch real-time updates
    batchUpdate(() => {
      // Update logic here
    });
  });
}

// ---- The update logic the guide leaves out ----

/** The author's posts, with the realtime inserts added to `['posts']` through the guide's batcher. */
export function useRealtimeBatchedPosts(authorId: string) {
  const queryClient = useQueryClient();
  const { batchUpdate } = useBatchedUpdates();
  useRealtime('posts-batch', { event: 'INSERT', schema: 'public', table: 'guide_posts', filter: `author_id=eq.${authorId}` }, (payload) => {
    batchUpdate(() => {
      queryClient.setQueryData(['posts'], (old: Post[] = []) => [...old, payload.new as Post]);
    });
  });
  return useQuery(['posts'], (c) => c.from<Post>('guide_posts').select('*').eq('author_id', authorId).order('id'), { staleTime: Infinity });
}

// ---- Components the tests render ----

/** Sets three keys through three `batchUpdate` calls in one event handler. */
export function Counters() {
  const queryClient = useQueryClient();
  const { batchUpdate } = useBatchedUpdates();
  const a = useQuery(['counter', 'a'], () => 0, { staleTime: Infinity });
  const b = useQuery(['counter', 'b'], () => 0, { staleTime: Infinity });
  const c = useQuery(['counter', 'c'], () => 0, { staleTime: Infinity });
  const bump = () => {
    for (const name of ['a', 'b', 'c']) batchUpdate(() => queryClient.setQueryData(['counter', name], (n: number = 0) => n + 1));
  };
  return (
    <>
      <p aria-label="Counters">{`${a.data ?? '-'} ${b.data ?? '-'} ${c.data ?? '-'}`}</p>
      <button type="button" onClick={bump}>Bump all</button>
    </>
  );
}

export function RealtimeBatchedPosts({ authorId }: { authorId: string }) {
  const { data } = useRealtimeBatchedPosts(authorId);
  return <ul aria-label="Posts">{data?.map((post) => <li key={post.id}>{post.title}</li>)}</ul>;
}

/**
 * The guide's "Selective Real-time Updates": a `useRealtime` binding filtered to one author
 * (`author_id=eq.X`) patching ['user-posts', X], and invalidating ['posts']. Runs as written.
 * Changes: the imports, `from('posts')` / `table: 'posts'` → `guide_posts` (typed rows).
 *
 * Its bug: the handler assumes the filter brings every change of the author's posts. The server
 * matches an UPDATE on its new row, so a post moved to another author never arrives; a DELETE
 * carries only the key (replica identity default), so a filtered binding never matches it. Both
 * rows stay in ['user-posts', X]. `useUserPostsLive` uses `live: true`: the middleware evaluates
 * the query's filter on each change and removes rows that leave it or are deleted.
 */
import { useQuery, useQueryClient, useRealtime } from '../../lib/react';
import type { Post } from './setup';

export function useUserPostsRealtime(userId: string) {
  const queryClient = useQueryClient();

  // Listen only to posts by this user
  useRealtime('user-posts', {
    event: '*',
    schema: 'public',
    table: 'guide_posts',
    filter: `author_id=eq.${userId}` // Only this user's posts
  }, (payload) => {
    // Update user-specific posts cache
    queryClient.setQueryData(['user-posts', userId], (oldPosts: Post[] = []) => {
      const { eventType, new: newRecord, old: oldRecord } = payload;

      switch (eventType) {
        case 'INSERT':
          return [...oldPosts, newRecord as Post];
        case 'UPDATE':
          return oldPosts.map(post =>
            post.id === newRecord.id ? newRecord as Post : post
          );
        case 'DELETE':
          return oldPosts.filter(post => post.id !== oldRecord.id);
        default:
          return oldPosts;
      }
    });

    // Also update the general posts cache
    queryClient.invalidateQueries(['posts']);
  });

  return useQuery(
    ['user-posts', userId],
    (client) => client.from<Post>('guide_posts').select('*').eq('author_id', userId)
  );
}

/** The author's posts, kept by the middleware: rows that leave the filter or are deleted go. */
export function useUserPostsLive(userId: string) {
  return useQuery(
    ['user-posts', userId],
    (client) => client.from<Post>('guide_posts').select('*').eq('author_id', userId),
    { live: true }
  );
}

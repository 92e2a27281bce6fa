/**
 * The guide's "PostgreSQL Change Events": ['posts'] fetched once, then patched by a `useRealtime`
 * handler (prepend on INSERT, merge on UPDATE, filter on DELETE), which also invalidates
 * ['post', id] and ['post-analytics']. Runs as written. Changes: the imports (`useRealtime` from
 * our hooks, under `<SyncProvider>`), `from('posts')` / `table: 'posts'` → `guide_posts` (typed
 * rows), `post.content` → `post.body`, and a `usePosts` prop on the list (so the corrected
 * hook reuses it).
 *
 * Its bugs: an INSERT is prepended whatever the order, and also when the row is already there
 * (our own insert: the write's tags refetch the list, and the change arrives too: a duplicate).
 * On DELETE `newRecord` is `{}`, so `invalidateQueries(['post', undefined])` matches no post's
 * query: its detail keeps showing a deleted post. `RealtimePostsLive` uses `live: true` instead:
 * the middleware patches the list by key, in its order, and nothing else is needed.
 */
import { useQuery, useQueryClient, useRealtime } from '../../lib/react';
import type { Post } from './setup';

export function useRealtimePosts() {
  const queryClient = useQueryClient();

  // Initial query
  const query = useQuery(['posts'], (client) =>
    client.from<Post>('guide_posts').select('*').order('created_at', { ascending: false })
  );

  // Real-time subscription for live updates
  useRealtime('posts-changes', {
    event: '*', // Listen to all events: INSERT, UPDATE, DELETE
    schema: 'public',
    table: 'guide_posts'
  }, (payload) => {
    const { eventType, new: newRecord, old: oldRecord } = payload;

    queryClient.setQueryData(['posts'], (oldPosts: Post[] = []) => {
      switch (eventType) {
        case 'INSERT':
          // Add new post to beginning of list
          return [newRecord as Post, ...oldPosts];

        case 'UPDATE':
          // Update existing post
          return oldPosts.map(post =>
            post.id === newRecord.id ? { ...post, ...newRecord } as Post : post
          );

        case 'DELETE':
          // Remove deleted post
          return oldPosts.filter(post => post.id !== oldRecord.id);

        default:
          return oldPosts;
      }
    });

    // Also invalidate related queries
    queryClient.invalidateQueries(['post', newRecord?.id]);
    queryClient.invalidateQueries(['post-analytics']);
  });

  return query;
}

/** The guide's list; `usePosts` (our addition) picks the hook, the guide's by default. */
export function RealtimePostsList({ usePosts = useRealtimePosts }: { usePosts?: typeof useRealtimePosts }) {
  const { data: posts, isLoading, error } = usePosts();

  if (isLoading) return <div>Loading posts...</div>;
  if (error) return <div>Error: {error.message}</div>;

  return (
    <div>
      <h2>Live Posts Feed</h2>
      {posts?.map(post => (
        <div key={post.id} className="post-item">
          <h3>{post.title}</h3>
          <p>{post.body}</p>
          <small>Last updated: {new Date(post.updated_at).toLocaleString()}</small>
        </div>
      ))}
    </div>
  );
}

/** ['posts'] kept by the middleware (`live: true`): no handler, no invalidation. */
export function useRealtimePostsLive() {
  return useQuery(
    ['posts'],
    (client) => client.from<Post>('guide_posts').select('*').order('created_at', { ascending: false }),
    { live: true }
  );
}

/** The guide's list on the live query. */
export function RealtimePostsLive() {
  return <RealtimePostsList usePosts={useRealtimePostsLive} />;
}

/**
 * The guide's "Basic Query Sync" (Automatic Query Synchronization): two queries, the second with
 * staleTime / refetchInterval / focus / reconnect options. Runs as written. Changes: the imports,
 * `from('posts')` → `from<Post>('guide_posts')` (typed rows), `post.content` → `post.body` (the
 * table's column), and `void postsWithRefresh` (the guide never reads it; our tsconfig refuses an
 * unused local).
 */
import { useQuery } from '../../lib/react';
import type { Post } from './setup';

export function PostsList() {
  // Query automatically syncs with server state
  const { data: posts, isLoading, error } = useQuery(
    ['posts'],
    (client) => client.from<Post>('guide_posts').select('*').order('created_at', { ascending: false })
  );

  // Automatic background refetch based on stale time
  const postsWithRefresh = useQuery(
    ['posts-fresh'],
    (client) => client.from<Post>('guide_posts').select('*'),
    {
      staleTime: 30000, // Data is fresh for 30 seconds
      refetchInterval: 60000, // Refetch every minute
      refetchOnWindowFocus: true, // Refetch when user returns to tab
      refetchOnReconnect: true, // Refetch when connection restored
    }
  );
  void postsWithRefresh;

  if (isLoading) return <div>Loading posts...</div>;
  if (error) return <div>Error: {error.message}</div>;

  return (
    <div>
      {posts?.map(post => (
        <div key={post.id}>
          <h3>{post.title}</h3>
          <p>{post.body}</p>
          <small>Updated: {new Date(post.updated_at).toLocaleString()}</small>
        </div>
      ))}
    </div>
  );
}

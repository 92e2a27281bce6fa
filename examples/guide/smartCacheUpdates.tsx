/**
 * The guide's "Smart Cache Updates": a hand-made optimistic insert (cancel ['posts'], snapshot it,
 * prepend a temporary row; restore the snapshot on error; invalidate when settled). Runs as
 * written. Changes: the imports, `from('posts')` → `from('guide_posts')`, the untyped
 * `postData` / `newPost` typed as the guide means them, and a cast of its temporary row.
 *
 * Its flaw: restoring the snapshot on error throws away whatever reached the cache meanwhile. On a
 * live entry that is a row another user wrote; it is gone until the `onSettled` refetch brings it
 * back. `useCreatePostFixed` writes with `.optimistic()` instead: the middleware shows the row at
 * once and a rollback removes only this write, with no snapshot, no refetch and no callbacks.
 */
import { useMutation, useQueryClient } from '../../lib/react';
import { client, type Post } from './setup';

export type NewPost = Pick<Post, 'author_id' | 'title'> & Partial<Pick<Post, 'body' | 'published'>>;

export function useOptimizedPostMutation() {
  const queryClient = useQueryClient();

  return useMutation({
    mutationFn: (postData: NewPost) =>
      client.from('guide_posts').insert(postData).select().single(),
    onMutate: async (newPost: NewPost) => {
      // Cancel outgoing refetches
      await queryClient.cancelQueries(['posts']);

      // Snapshot current state
      const previousPosts = queryClient.getQueryData(['posts']);

      // Optimistically update cache
      queryClient.setQueryData(['posts'], (old: Post[] = []) => [
        // (`as unknown as Post` added: the temporary row, with its string id, is no Post)
        { ...newPost, id: 'temp-' + Date.now(), created_at: new Date().toISOString() } as unknown as Post,
        ...old
      ]);

      return { previousPosts };
    },
    onError: (err, variables, context) => {
      // Rollback on error
      if (context?.previousPosts) {
        queryClient.setQueryData(['posts'], context.previousPosts);
      }
    },
    onSettled: () => {
      // Refetch to ensure server sync
      queryClient.invalidateQueries(['posts']);
    }
  });
}

/** The same insert with `.optimistic()`: shown at once, replaced by the server's row, rolled back alone on failure. */
export function useCreatePostFixed() {
  return useMutation({
    mutationFn: (postData: NewPost) => client.from('guide_posts').insert(postData).select().single().optimistic(),
  });
}

/**
 * The guide's "Selective Query Updates", pasted: one field changed in the list, the item and every
 * `filtered-posts` entry. These are edits of the client's cache only: the server never sees them,
 * and the entry's next refetch (or, for a live entry, the row's next change) replaces them.
 * Changed from the guide: types only (`postId` is the table's id type; the item updater takes
 * `Post | undefined`, as TanStack's updater type says).
 */
import { useCallback } from 'react';
import { useQuery, useQueryClient } from '../../lib/react';
import type { Post } from './setup';

// ---- The guide, as written ----

export function useSelectiveUpdate() {
  const queryClient = useQueryClient();
  
  const updatePostField = useCallback((postId: Post['id'], field: keyof Post, value: any) => {
    // Update specific field in posts list
    queryClient.setQueryData(['posts'], (oldPosts: Post[] = []) =>
      oldPosts.map(post => 
        post.id === postId ? { ...post, [field]: value } : post
      )
    );
    
    // Update specific field in individual post cache
    queryClient.setQueryData(['post', postId], (oldPost?: Post) => 
      oldPost ? { ...oldPost, [field]: value } : oldPost
    );
    
    // Update any filtered queries that might contain this post
    queryClient.setQueriesData(
      { predicate: query => query.queryKey[0] === 'filtered-posts' },
      (oldData: Post[] = []) => 
        oldData.map(post => 
          post.id === postId ? { ...post, [field]: value } : post
        )
    );
  }, [queryClient]);
  
  return { updatePostField };
}

// ---- Components the tests render ----

/** The list under the guide's key `['posts']` (this author's posts), plain or live. */
export function PostsList({ authorId, live = false }: { authorId: string; live?: boolean }) {
  const { data } = useQuery(['posts'], (c) => c.from<Post>('guide_posts').select('*').eq('author_id', authorId).order('id'), { live });
  return <ul aria-label="Posts">{data?.map((post) => <li key={post.id}>{post.title}</li>)}</ul>;
}

export function PostItem({ id }: { id: number }) {
  const { data } = useQuery(['post', id], (c) => c.from<Post>('guide_posts').select('*').eq('id', id).single());
  return <p aria-label="Post">{data?.title ?? '…'}</p>;
}

export function PublishedPosts({ authorId }: { authorId: string }) {
  const { data } = useQuery(['filtered-posts', 'published'], (c) => c.from<Post>('guide_posts').select('*').eq('author_id', authorId).eq('published', true).order('id'));
  return <ul aria-label="Published">{data?.map((post) => <li key={post.id}>{post.title}</li>)}</ul>;
}

/** A button that sets one post's field the guide's way. */
export function EditField({ postId, field, value }: { postId: number; field: keyof Post; value: unknown }) {
  const { updatePostField } = useSelectiveUpdate();
  return <button type="button" onClick={() => updatePostField(postId, field, value)}>Edit {String(field)}</button>;
}

/**
 * The guide's "Query Invalidation": a form whose mutation invalidates ['posts'] on success (by key,
 * and again by predicate). Changes: the imports, `from('posts')` → `from('guide_posts')`.
 *
 * As written it has two bugs: `onSubmit={handleSubmit}` hands React's submit event to `mutate` as
 * the row (the form has no fields, and nothing calls `preventDefault`; a type annotation is added
 * because our tsconfig refuses an implicit any), and the invalidations are
 * redundant: the insert's automatic tags already refetch every query of the table.
 * `CreatePostFormFixed` reads the form's fields, prevents the page load, and has no `onSuccess`.
 */
import type { FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '../../lib/react';
import { client, type Post } from './setup';

export function CreatePostForm() {
  const queryClient = useQueryClient();

  const createPost = useMutation({
    mutationFn: (postData: any) =>
      client.from('guide_posts').insert(postData).select().single(),
    onSuccess: () => {
      // Invalidate and refetch posts query
      queryClient.invalidateQueries(['posts']);

      // Or invalidate specific patterns
      queryClient.invalidateQueries({
        predicate: (query) => query.queryKey[0] === 'posts'
      });
    }
  });

  // The guide leaves `formData` and `postData` untyped; what React passes is the submit event.
  const handleSubmit = (formData: FormEvent<HTMLFormElement>) => {
    createPost.mutate(formData);
  };

  return (
    <form onSubmit={handleSubmit}>
      {/* Form fields */}
      <button type="submit" disabled={createPost.isLoading}>
        Create Post
      </button>
    </form>
  );
}

/**
 * The form as it should be: the row from the form's fields; the write's tags refetch ['posts'].
 * `guideInvalidation` keeps the guide's `onSuccess` (to show what it costs: refetches, nothing more).
 */
export function CreatePostFormFixed({ authorId, guideInvalidation = false }: { authorId: string; guideInvalidation?: boolean }) {
  const queryClient = useQueryClient();
  const createPost = useMutation({
    mutationFn: (postData: Pick<Post, 'author_id' | 'title' | 'published'>) =>
      client.from('guide_posts').insert(postData).select().single(),
    ...(guideInvalidation && {
      onSuccess: () => {
        queryClient.invalidateQueries(['posts']);
        queryClient.invalidateQueries({ predicate: (query) => query.queryKey[0] === 'posts' });
      },
    }),
  });

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    createPost.mutate({ author_id: authorId, title: String(form.get('title')), published: false });
  };

  return (
    <form onSubmit={handleSubmit}>
      <label>
        Title <input name="title" />
      </label>
      <button type="submit" disabled={createPost.isLoading}>
        Create Post
      </button>
      {createPost.isError && <p role="alert">{createPost.error?.message}</p>}
    </form>
  );
}

/** The posts the form's invalidation refetches (the test's view of ['posts']). */
export function PostTitles({ authorId }: { authorId: string }) {
  const { data } = useQuery(['posts'], (c) => c.from<Post>('guide_posts').select('*').eq('author_id', authorId).order('id'));
  return <ul aria-label="Posts">{data?.map((post) => <li key={post.id}>{post.title}</li>)}</ul>;
}

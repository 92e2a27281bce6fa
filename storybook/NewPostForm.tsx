import { useState, type FormEvent } from 'react';
import { useCurrentUser, useDemo } from './DemoStack';
import { ErrorBox } from './ErrorBox';
import { insertPost } from './posts';

/**
 * Adds a post with `useWriteMutation`. There is no cache code here: the insert invalidates the
 * posts list and every mounted feed refetches. Titles are not checked client-side, so an empty one
 * shows the database's own check-constraint error.
 */
export function NewPostForm() {
  const { api } = useDemo();
  const user = useCurrentUser();
  const [title, setTitle] = useState('');
  const [published, setPublished] = useState(false);
  const [write, { isLoading, isError, error }] = api.useWriteMutation();

  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await write(insertPost({ title, published, authorId: user?.id }));
    if (!('error' in result)) setTitle('');
  }

  return (
    <form aria-label="New post" onSubmit={submit} style={{ fontFamily: 'sans-serif', margin: '8px 0' }}>
      <label>Title <input value={title} onChange={(e) => setTitle(e.target.value)} /></label>{' '}
      <label><input type="checkbox" checked={published} onChange={(e) => setPublished(e.target.checked)} /> Published</label>{' '}
      <button type="submit" disabled={isLoading}>Add post</button>{' '}
      <small>{user ? `Posting as ${user.name}` : 'Posting anonymously (row level security refuses anonymous posts)'}</small>
      {isError && <ErrorBox title="Could not add the post" error={error} />}
    </form>
  );
}

import { useId, useState, type FormEvent } from 'react';
import { useCurrentUser, useDemo } from './DemoStack';
import { ErrorBox } from './ErrorBox';
import { insertPost } from './posts';

/**
 * Adds a post with `useWriteMutation`. There is no cache code here: the insert invalidates the
 * posts list and every mounted feed refetches. Titles are not checked client-side, so an empty one
 * shows the database's own check-constraint error. Anonymous visitors are told up front that row
 * level security will refuse their post; the form stays, so the refusal can be seen.
 */
export function NewPostForm() {
  const { api } = useDemo();
  const user = useCurrentUser();
  const [title, setTitle] = useState('');
  const [published, setPublished] = useState(false);
  const [write, { isLoading, isError, error }] = api.useWriteMutation();
  const noteId = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await write(insertPost({ title, published, authorId: user?.id }));
    if (!('error' in result)) setTitle('');
  }

  return (
    <form aria-label="New post" onSubmit={submit}>
      <div className="row">
        <input aria-label="Title" placeholder="Write a post title…" value={title} onChange={(e) => setTitle(e.target.value)} style={{ flex: 1 }} />
        <label className="switch">
          <input type="checkbox" checked={published} onChange={(e) => setPublished(e.target.checked)} /> Published
        </label>
        <button type="submit" className="primary" disabled={isLoading} aria-describedby={noteId}>
          Add post
        </button>
      </div>
      {user ? (
        <p className="meta" id={noteId}>{`Posting as ${user.name}`}</p>
      ) : (
        <p className="banner info" id={noteId}>
          You are not signed in: row level security lets only signed-in authors add posts, so the database will refuse this one. Try it to see the refusal.
        </p>
      )}
      {isError && <ErrorBox title="Could not add the post" error={error} explanation={explainInsertRefusal(error)} />}
    </form>
  );
}

/** A refused insert in words (42501: no policy lets this caller insert this row); undefined for other failures. */
function explainInsertRefusal(error: unknown): string | undefined {
  if ((error as { code?: unknown } | undefined)?.code !== '42501') return undefined;
  return 'Row level security refused the insert: only signed-in authors may add posts, and only as themselves (42501).';
}

import { useState, type FormEvent } from 'react';
import { useCurrentUser, useDemo } from './DemoStack';
import { ErrorBox } from './ErrorBox';
import { deletePost, renamePost, type FeedPost } from './posts';

/**
 * One feed row. Its author (and only its author) gets Rename and Delete: the same rule row level
 * security applies in the database, so the demo doesn't offer writes that are bound to fail.
 * Neither write touches the cache: the write's automatic tags make the feed refetch (the row's id
 * for a rename, the table's list for a delete).
 */
export function PostItem({ post }: { post: FeedPost }) {
  const { api } = useDemo();
  const user = useCurrentUser();
  const [write, { isLoading, isError, error, reset }] = api.useWriteMutation();
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(post.title);
  const [verb, setVerb] = useState<'rename' | 'delete'>('rename');
  const mine = user !== undefined && post.author_id === user.id;

  async function save(event: FormEvent) {
    event.preventDefault();
    setVerb('rename');
    const result = await write(renamePost(post.id, title));
    if (!('error' in result)) setEditing(false);
  }

  return (
    <li className="wrap">
      <strong className="grow">{post.title}</strong>
      {!post.published && <span className="tag draft">draft</span>}
      <span className="meta">by {post.author?.name ?? 'nobody'}</span>
      {mine && !editing && (
        <>
          <button type="button" aria-label={`Rename ${post.title}`} onClick={() => { reset(); setEditing(true); }}>Rename</button>
          <button type="button" className="danger" aria-label={`Delete ${post.title}`} disabled={isLoading} onClick={() => { setVerb('delete'); write(deletePost(post.id)); }}>Delete</button>
        </>
      )}
      {editing && (
        <form className="row edit" onSubmit={save}>
          <input aria-label={`New title for ${post.title}`} value={title} onChange={(e) => setTitle(e.target.value)} style={{ flex: 1 }} />
          <button type="submit" className="primary" disabled={isLoading}>Save</button>
          <button type="button" onClick={() => { setEditing(false); setTitle(post.title); reset(); }}>Cancel</button>
        </form>
      )}
      {isError && <ErrorBox title={`Could not ${verb} “${post.title}”`} error={error} explanation={explainRefusal(error, verb)} />}
    </li>
  );
}

/**
 * A refused rename or delete in words; undefined for other failures (their message says enough).
 * `renamePost` / `deletePost` end in `.single()`, so a row that row level security hides from the
 * write (another author's, or one deleted meanwhile) comes back as PGRST116 ("0 rows"), not as nothing.
 */
export function explainRefusal(error: unknown, verb: 'rename' | 'delete'): string | undefined {
  if ((error as { code?: unknown } | undefined)?.code !== 'PGRST116') return undefined;
  return `You can only ${verb} your own posts: row level security hid this post from the ${verb === 'rename' ? 'update' : 'delete'} (PGRST116: 0 rows). It may have changed owner or been deleted since the feed loaded.`;
}

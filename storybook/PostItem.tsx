import { useState, type FormEvent } from 'react';
import { useDemo } from './DemoStack';
import { ErrorBox } from './ErrorBox';
import { deletePost, renamePost, type FeedPost } from './posts';

/**
 * One feed row with rename and delete. Neither touches the cache: the write's automatic tags make
 * the feed refetch (the row's id for a rename, the table's list for a delete).
 */
export function PostItem({ post }: { post: FeedPost }) {
  const { api } = useDemo();
  const [write, { isLoading, isError, error, reset }] = api.useWriteMutation();
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(post.title);

  async function save(event: FormEvent) {
    event.preventDefault();
    const result = await write(renamePost(post.id, title));
    if (!('error' in result)) setEditing(false);
  }

  return (
    <li style={{ margin: '6px 0' }}>
      <strong>{post.title}</strong> {!post.published && <em style={{ color: '#a60' }}>(draft)</em>}{' '}
      <small>by {post.author?.name ?? 'nobody'}</small>{' '}
      {editing ? (
        <form onSubmit={save} style={{ display: 'inline' }}>
          <input aria-label={`New title for ${post.title}`} value={title} onChange={(e) => setTitle(e.target.value)} />
          <button type="submit" disabled={isLoading}>Save</button>
          <button type="button" onClick={() => { setEditing(false); setTitle(post.title); reset(); }}>Cancel</button>
        </form>
      ) : (
        <>
          <button type="button" aria-label={`Rename ${post.title}`} onClick={() => { reset(); setEditing(true); }}>Rename</button>{' '}
          <button type="button" aria-label={`Delete ${post.title}`} disabled={isLoading} onClick={() => write(deletePost(post.id))}>Delete</button>
        </>
      )}
      {isError && <ErrorBox title={`Could not change “${post.title}”`} error={error} />}
    </li>
  );
}

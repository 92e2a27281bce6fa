import { useMemo, useState, type FormEvent } from 'react';
import { useSelector } from 'react-redux';
import { useTab } from './DemoTab';
import { ErrorBox } from './ErrorBox';
import { DEMO_TIMING, type LiveState } from './liveStore';
import { DEFAULT_VIEW, liveFeedQuery, publishPost, type LivePost, type LiveFeedView } from './posts';

/**
 * `useLiveQuery(builder)`: fetched once, then patched from the table's row changes while mounted.
 * Rows written optimistically show as "saving…" until the server's row replaces them.
 */
export function LiveFeed({ view = DEFAULT_VIEW, label = 'Live feed' }: { view?: LiveFeedView; label?: string }) {
  const { api, config, user, hooks } = useTab();
  const authorIds = useMemo(() => config.users.map((u) => u.id), [config]);
  const names = useMemo(() => new Map(config.users.map((u) => [u.id, u.name])), [config]);
  const { data, isLoading, isError, error } = api.useLiveQuery(liveFeedQuery(authorIds, view, user.id));
  const { isPending, clientKey } = hooks.usePendingWrites('posts');
  const fetches = useSelector((state: LiveState) => state.liveFetches);
  // While degraded the sync middleware polls: the count climbs, and nothing is patched in.
  const degraded = hooks.useSyncStatus().syncStatus === 'degraded';
  const posts = (data ?? []) as LivePost[];

  return (
    <section aria-label={label}>
      <div className="meta" aria-label="Fetches">
        Fetched {fetches} {fetches === 1 ? 'time' : 'times'};{' '}
        {degraded ? `the realtime stream is down, so it is refetched every ${DEMO_TIMING.pollIntervalMs / 1000} s.` : 'every other change was patched in from the realtime stream.'}
      </div>
      {isLoading && <p className="empty">Loading posts…</p>}
      {isError && <ErrorBox title="Could not load posts" error={error} />}
      {data && posts.length === 0 && <p className="empty">No posts yet.</p>}
      {posts.length > 0 && (
        <ul className="list" aria-label="Posts">
          {posts.map((post) => (
            <li key={clientKey(post)}>
              <strong className="grow">{post.title || '(empty)'}</strong>
              {!post.published && <span className="tag draft">draft</span>}
              {isPending(post) && <span className="tag pending">saving…</span>}
              <span className="meta">by {names.get(post.author_id ?? '') ?? 'someone else'}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The feed's filter and order controls. */
export function FeedControls({ view, onChange }: { view: LiveFeedView; onChange: (view: LiveFeedView) => void }) {
  return (
    <div className="row">
      <label>
        Show{' '}
        <select value={view.show} onChange={(event) => onChange({ ...view, show: event.target.value as LiveFeedView['show'] })}>
          <option value="all">Everything I may see</option>
          <option value="published">Published only</option>
          <option value="mine">Mine only</option>
        </select>
      </label>
      <label>
        Order{' '}
        <select value={view.order} onChange={(event) => onChange({ ...view, order: event.target.value as LiveFeedView['order'] })}>
          <option value="newest">Newest first</option>
          <option value="oldest">Oldest first</option>
          <option value="title">By title</option>
        </select>
      </label>
    </div>
  );
}

/** A live feed with its own filter and order. */
export function FilteredLiveFeed() {
  const [view, setView] = useState(DEFAULT_VIEW);
  return (
    <>
      <FeedControls view={view} onChange={setView} />
      <LiveFeed view={view} />
    </>
  );
}

/**
 * Publishes a post as the tab's user with `useWriteMutation()`: an ordinary PostgREST insert, with no
 * cache code; `optimistic` shows it in the feed before the server answers.
 */
export function PublishForm({ optimistic = false }: { optimistic?: boolean }) {
  const { api, user } = useTab();
  const [title, setTitle] = useState('');
  const [write, { isLoading, isError, error, reset }] = api.useWriteMutation();

  async function submit(event: FormEvent) {
    event.preventDefault();
    const request = publishPost(title, user.id);
    if (optimistic) {
      setTitle('');
      await write(request.optimistic());
      return;
    }
    const result = await write(request);
    if (!('error' in result)) setTitle('');
  }

  return (
    <form aria-label="New post" className="row" onSubmit={submit}>
      <input aria-label="Title" placeholder="Write a post title…" value={title} onChange={(event) => { reset(); setTitle(event.target.value); }} style={{ flex: 1 }} />
      <button type="submit" className="primary" disabled={isLoading && !optimistic}>
        Publish
      </button>
      {isError && !optimistic && <ErrorBox title="Could not publish" error={error} />}
    </form>
  );
}

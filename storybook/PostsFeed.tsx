import { useMemo, useState } from 'react';
import { useDemo } from './DemoStack';
import { ErrorBox } from './ErrorBox';
import { PostItem } from './PostItem';
import { feedQuery, type FeedFilter } from './posts';

/** What the feed starts with: everything visible, published posts only, or the n-th demo user's. */
export type FeedChoice = 'all' | 'published' | { author: number };

export interface PostsFeedProps {
  initialFilter?: FeedChoice;
}

/** The posts feed: one `useReadQuery` with an inline builder chain, and a filter control. */
export function PostsFeed({ initialFilter = 'all' }: PostsFeedProps) {
  const { api, config } = useDemo();
  const authorIds = useMemo(() => config.users.map((user) => user.id), [config]);
  const [value, setValue] = useState(() => choiceValue(initialFilter, authorIds));
  // A new builder on every render is fine: the hook compares the plain request it compiles to.
  const { data, error, isLoading, isFetching, isError } = api.useReadQuery(feedQuery(toFilter(value), authorIds));

  return (
    <section aria-label="Posts feed">
      <div className="row">
        <label>
          Show{' '}
          <select value={value} onChange={(e) => setValue(e.target.value)}>
            <option value="all">Every post I may see</option>
            <option value="published">Published only</option>
            {config.users.map((user) => <option key={user.id} value={user.id}>By {user.name}</option>)}
          </select>
        </label>
        {isFetching && !isLoading && <span className="meta" role="status">Refreshing…</span>}
      </div>
      {isLoading && <p className="empty" role="status">Loading posts…</p>}
      {isError && <ErrorBox title="Could not load posts" error={error} />}
      {data && data.length === 0 && <p className="empty">No posts to show.</p>}
      {data && data.length > 0 && (
        <ul className="list" aria-label="Posts">
          {data.map((post) => <PostItem key={post.id} post={post} />)}
        </ul>
      )}
    </section>
  );
}

function choiceValue(choice: FeedChoice, authorIds: readonly string[]): string {
  if (typeof choice === 'string') return choice;
  return authorIds[choice.author] ?? 'all';
}

function toFilter(value: string): FeedFilter {
  if (value === 'all' || value === 'published') return { kind: value };
  return { kind: 'author', authorId: value };
}

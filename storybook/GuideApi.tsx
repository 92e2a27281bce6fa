/**
 * The guide's API (TanStack Query's `useQuery` / `useMutation` / `useQueryClient`) next to RTK
 * Query's hooks, in ONE store. Both are views of the same RTK Query cache: the query client names
 * entries by query key, RTK's hooks by request, and a write from either side refreshes both. The
 * table at the bottom reads that cache straight from the store.
 */
import { useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { useSelector } from 'react-redux';
import { from, isPostgrestRequest, type PostgrestRequest } from '../lib';
import { QueryClientProvider, useMutation, useQuery, useQueryClient, type QueryKey } from '../lib/react';
import type { DemoConfig } from './demoConfig';
import { DemoTab, useTab } from './DemoTab';
import { ErrorBox } from './ErrorBox';
import { publishPost, type LivePost } from './posts';

export interface GuideApiProps {
  config: DemoConfig;
  /** Live entries on both sides: `useQuery(key, fn, { live: true })` and `api.useLiveQuery`. */
  live?: boolean;
  /** Every PostgREST request of the store goes through it (the default is the global fetch). */
  fetchFn?: typeof fetch;
}

/** One client (DemoTab: its own store, api and sync middleware) with both APIs on its store. */
export function GuideApi({ config, live = false, fetchFn }: GuideApiProps) {
  return (
    <>
      <p className="demo-lead">
        One store, read two ways. Left: the guide's hooks, <code>useQuery(key, fn)</code>, <code>useMutation</code> and{' '}
        <code>useQueryClient()</code>. Right: RTK Query's <code>{live ? 'api.useLiveQuery' : 'api.useReadQuery'}</code> and{' '}
        <code>api.useWriteMutation</code>. Publish on either side and the post shows on both:{' '}
        {live
          ? 'both entries are live, fetched once and then patched from the realtime stream (watch the Fetched column stay at 1).'
          : 'the insert’s automatic tags refetch every entry that reads posts, whichever hook made it.'}{' '}
        The table below the two lists reads the cache from the store: each row is one RTK Query entry and the query key the
        query client knows it by.
      </p>
      <DemoTab label="One store" config={config} userIndex={0} fetchFn={fetchFn}>
        <WithQueryClient>
          <div className="sides">
            <GuideSide live={live} />
            <RtkSide live={live} />
          </div>
          <CacheEntries />
        </WithQueryClient>
      </DemoTab>
    </>
  );
}

/**
 * The query client of this tab's api. DemoTab provides its store through react-redux's
 * `<Provider>`, and `<QueryClientProvider api={api}>` makes `createQueryClient({ api, store })` over
 * it. (Without a provider: `const { useQuery, useMutation, useQueryClient } = createQueryHooks(api)`.)
 */
function WithQueryClient({ children }: { children: ReactNode }) {
  const { api } = useTab();
  return <QueryClientProvider api={api}>{children}</QueryClientProvider>;
}

/**
 * The request both sides read: the demo authors' posts, newest first. `builders` is useQuery's
 * `client` on the left and `{ from }` (imported) on the right: the same builders. No embedded
 * author: a live entry is patched only from requests the client can evaluate itself.
 */
function newestPosts(builders: { from: typeof from }, authorIds: string[]) {
  return builders.from<LivePost>('posts')
    .select<LivePost>('id,title,published,author_id,created_at')
    .in('author_id', authorIds)
    .order('created_at', { ascending: false })
    .order('id', { ascending: false });
}

/** The tab's user and the demo's authors (the lists show only their posts). */
function useAuthors() {
  const { config, user } = useTab();
  const authorIds = useMemo(() => config.users.map((author) => author.id), [config]);
  const names = useMemo(() => new Map(config.users.map((author) => [author.id, author.name])), [config]);
  return { user, authorIds, names };
}

/** Left: a query key and a query function, a mutation, and the query client's invalidations. */
function GuideSide({ live }: { live: boolean }) {
  const { user, authorIds, names } = useAuthors();
  // The key names the entry; every variable the function uses is in it.
  const posts = useQuery(['posts', authorIds], (client) => newestPosts(client, authorIds), { live });
  // A builder: sent as one RTK mutation, whose automatic tags refresh every entry reading posts.
  // No `onSuccess: () => queryClient.invalidateQueries(['posts'])` is needed.
  const publish = useMutation({ mutationFn: (title: string) => publishPost(title, user.id) });
  const queryClient = useQueryClient();

  return (
    <Side label="Guide hooks" title="The guide’s hooks" call={`useQuery(['posts', authorIds], fn${live ? ', { live: true }' : ''})`}>
      <TitleForm onPublish={(title, clear) => publish.mutate(title, { onSuccess: clear })} isPending={publish.isPending} error={publish.error} />
      <PostRows posts={posts.data} isLoading={posts.isLoading} error={posts.error} names={names} />
      <div className="row">
        <button type="button" onClick={() => queryClient.invalidateQueries({ queryKey: ['posts'] })}>
          Invalidate ['posts']
        </button>
        <button type="button" onClick={() => queryClient.invalidateQueries()}>
          Invalidate every entry
        </button>
      </div>
    </Side>
  );
}

/** Right: the same request through RTK Query's hooks, and the same insert through `useWriteMutation`. */
function RtkSide({ live }: { live: boolean }) {
  const { api, user } = useTab();
  const [write, { isLoading, error }] = api.useWriteMutation();

  async function publish(title: string, clear: () => void) {
    const result = await write(publishPost(title, user.id));
    if (!('error' in result)) clear();
  }

  return (
    <Side label="RTK hooks" title="RTK Query hooks" call={`api.${live ? 'useLiveQuery' : 'useReadQuery'}(newestPosts(…))`}>
      <TitleForm onPublish={publish} isPending={isLoading} error={error} />
      {live ? <RtkLivePosts /> : <RtkReadPosts />}
    </Side>
  );
}

/** `api.useReadQuery(builder)`: its entry is named by the request. */
function RtkReadPosts() {
  const { api } = useTab();
  const { authorIds, names } = useAuthors();
  const { data, isLoading, error } = api.useReadQuery(newestPosts({ from }, authorIds));
  return <PostRows posts={data} isLoading={isLoading} error={error} names={names} />;
}

/** `api.useLiveQuery(builder)`: fetched once, then patched from the table's row changes. */
function RtkLivePosts() {
  const { api } = useTab();
  const { authorIds, names } = useAuthors();
  const { data, isLoading, error } = api.useLiveQuery(newestPosts({ from }, authorIds));
  return <PostRows posts={data} isLoading={isLoading} error={error} names={names} />;
}

function Side({ label, title, call, children }: { label: string; title: string; call: string; children: ReactNode }) {
  return (
    <section className="side" aria-label={label}>
      <h3>{title}</h3>
      <code>{call}</code>
      {children}
    </section>
  );
}

/** A title field and a Publish button; `clear` empties the field once the post is written. */
function TitleForm({ onPublish, isPending, error }: { onPublish: (title: string, clear: () => void) => void; isPending: boolean; error: unknown }) {
  const [title, setTitle] = useState('');
  function submit(event: FormEvent) {
    event.preventDefault();
    onPublish(title, () => setTitle(''));
  }
  return (
    <form aria-label="New post" className="row" onSubmit={submit}>
      <input aria-label="Title" placeholder="Write a post title…" value={title} onChange={(event) => setTitle(event.target.value)} style={{ flex: 1 }} />
      <button type="submit" className="primary" disabled={isPending}>
        Publish
      </button>
      {error ? <ErrorBox title="Could not publish" error={error} /> : null}
    </form>
  );
}

function PostRows({ posts, isLoading, error, names }: { posts: LivePost[] | undefined; isLoading: boolean; error: unknown; names: Map<string, string> }) {
  if (error) return <ErrorBox title="Could not load posts" error={error} />;
  if (isLoading || !posts) return <p className="empty">Loading posts…</p>;
  if (posts.length === 0) return <p className="empty">No posts yet.</p>;
  return (
    <ul className="list" aria-label="Posts">
      {posts.map((post) => (
        <li key={post.id}>
          <strong className="grow">{post.title}</strong>
          {!post.published && <span className="tag draft">draft</span>}
          <span className="meta">by {names.get(post.author_id ?? '') ?? 'someone else'}</span>
        </li>
      ))}
    </ul>
  );
}

/** Which hook makes entries of each endpoint. */
const MADE_BY: Record<string, string> = {
  keyed: 'useQuery',
  keyedLive: 'useQuery (live)',
  read: 'api.useReadQuery',
  live: 'api.useLiveQuery',
};

/**
 * The one cache, as `queryClient.getQueryCache().getAll()` sees it: every RTK Query entry of the
 * api, with the query key the query client knows it by (`['read', request]` for RTK's own entries),
 * how many rows it holds, whether a mounted hook uses it (`query.isActive()`: what
 * `invalidateQueries` refetches at once) and how many fetches filled it
 * (`query.state.dataUpdateCount`; a live patch is no fetch).
 */
function CacheEntries() {
  const { api } = useTab();
  const queryClient = useQueryClient();
  // Re-render on every change of the api's state; the query client reads the same state.
  const apiState = useSelector((state: Record<string, unknown>) => state[api.reducerPath]);
  const queries = useMemo(() => queryClient.getQueryCache().getAll(), [queryClient, apiState]);
  const fetches = queries.reduce((sum, query) => sum + query.state.dataUpdateCount, 0);

  return (
    <section className="cache" aria-label="Cache entries">
      <h3>
        The cache: {queries.length} {queries.length === 1 ? 'entry' : 'entries'}, {fetches} {fetches === 1 ? 'fetch' : 'fetches'}
      </h3>
      <table>
        <thead>
          <tr>
            <th scope="col">Query key</th>
            <th scope="col">Endpoint</th>
            <th scope="col">Made by</th>
            <th scope="col">Rows</th>
            <th scope="col" title="A mounted hook uses it: invalidateQueries() refetches it at once (others only when next used)">Active</th>
            <th scope="col">Fetched</th>
          </tr>
        </thead>
        <tbody>
          {queries.map((query) => (
            <tr key={query.queryCacheKey} title={query.queryCacheKey}>
              <td>
                <code>{formatKey(query.queryKey)}</code>
                <div className="meta">{describeRequest(requestOfEntry(query.endpointName, query.originalArgs))}</div>
              </td>
              <td>{query.endpointName}</td>
              <td>{MADE_BY[query.endpointName] ?? 'a declared endpoint'}</td>
              <td>{Array.isArray(query.state.data) ? query.state.data.length : '–'}</td>
              <td>{query.isActive() ? 'yes' : 'no'}</td>
              <td>{query.state.dataUpdateCount}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUIDS = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** An id cut to its last 4 characters (the whole key is the row's tooltip). */
const shortId = (id: string) => `…${id.slice(-4)}`;

/** A query key as code, short: ids cut, a request as `{ GET /posts … }`. */
function formatKey(value: unknown): string {
  if (Array.isArray(value)) return `[${(value as QueryKey).map(formatKey).join(', ')}]`;
  if (isPostgrestRequest(value)) return `{ ${value.method} /${value.relation} … }`;
  if (typeof value === 'string') return `'${UUID.test(value) ? shortId(value) : value}'`;
  return JSON.stringify(value) ?? String(value);
}

/** The request an entry fetches: a keyed entry's is in its argument, RTK's entries' argument is the request. */
function requestOfEntry(endpointName: string, originalArgs: unknown): PostgrestRequest | undefined {
  const request = endpointName === 'keyed' || endpointName === 'keyedLive' ? (originalArgs as { request?: unknown } | undefined)?.request : originalArgs;
  return isPostgrestRequest(request) ? request : undefined;
}

/** `GET /posts?select=…&author_id=in.(…)`, readable (not percent-encoded), ids cut short. */
function describeRequest(request: PostgrestRequest | undefined): string {
  if (!request) return 'no request (set by setQueryData or a function)';
  const query = request.query.map(([key, value]) => `${key}=${value.replace(UUIDS, shortId)}`);
  return `${request.method} /${request.relation}${query.length ? `?${query.join('&')}` : ''}`;
}

import { createContext, useContext, useMemo, useState, type FormEvent } from 'react';
import { Provider, useSelector } from 'react-redux';
import type { DemoConfig } from './demoConfig';
import { ErrorBox } from './ErrorBox';
import type { LiveState, LiveStore } from './liveStore';
import { useTabStore } from './useTabStore';
import { liveFeedQuery, publishPost } from './posts';

export interface LiveSyncProps {
  /** The presence room both tabs join. */
  room?: string;
  /** Every PostgREST request of both tabs goes through it (the default is the global fetch). */
  fetchFn?: typeof fetch;
}

/**
 * Two independent stores side by side, as two browser tabs would have: each its own api, sync
 * middleware and WebSocket, signed in as a different demo user. A post written in one tab reaches
 * the other as a row change, and its live feed is patched: its fetch counter stays at 1.
 */
export function LiveSync({ config, room = 'live-sync-demo', fetchFn }: LiveSyncProps & { config: DemoConfig }) {
  return (
    <div style={{ display: 'flex', gap: 16, fontFamily: 'sans-serif' }}>
      <LiveTab label="Tab A" config={config} userIndex={0} room={room} fetchFn={fetchFn} />
      <LiveTab label="Tab B" config={config} userIndex={1} room={room} fetchFn={fetchFn} />
    </div>
  );
}

const TabContext = createContext<LiveStore | null>(null);

function useTab(): LiveStore {
  const tab = useContext(TabContext);
  if (!tab) throw new Error('useTab: render inside <LiveTab>');
  return tab;
}

interface LiveTabProps extends LiveSyncProps {
  label: string;
  config: DemoConfig;
  userIndex: number;
  room: string;
}

function LiveTab({ label, config, userIndex, room, fetchFn }: LiveTabProps) {
  const tab = useTabStore(config, userIndex, fetchFn);
  return (
    <Provider store={tab.store}>
      <TabContext.Provider value={tab}>
        <section aria-label={label} style={{ flex: 1, border: '1px solid #ccc', borderRadius: 6, padding: 8 }}>
          <h3 style={{ margin: '0 0 6px' }}>{label}: {tab.user.name}</h3>
          <Status />
          <WhoIsOnline room={room} />
          <NewPost />
          <LiveFeed />
        </section>
      </TabContext.Provider>
    </Provider>
  );
}

/** `useSyncStatus()`: the socket's state and whether the cache is known to be live. */
function Status() {
  const { status, isOnline } = useTab().hooks.useSyncStatus();
  return (
    <p role="status" aria-label="Connection" style={{ margin: '4px 0' }}>
      Connection: <strong>{status}</strong> ({isOnline ? 'online' : 'offline'})
    </p>
  );
}

/** `usePresence(room, { key, state })`: this tab tracks its user's name and lists everyone in the room. */
function WhoIsOnline({ room }: { room: string }) {
  const { user, hooks } = useTab();
  const { onlineUsers } = hooks.usePresence(room, { key: user.name, state: { name: user.name } });
  return (
    <p aria-label="Online" style={{ margin: '4px 0' }}>
      Online in “{room}”: {onlineUsers.length === 0 ? 'nobody yet' : onlineUsers.join(', ')}
    </p>
  );
}

/** `useWriteMutation()`: an ordinary PostgREST insert, with no cache code in either tab. */
function NewPost() {
  const { api, user } = useTab();
  const [title, setTitle] = useState('');
  const [write, { isLoading, isError, error }] = api.useWriteMutation();

  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await write(publishPost(title, user.id));
    if (!('error' in result)) setTitle('');
  }

  return (
    <form aria-label="New post" onSubmit={submit} style={{ margin: '8px 0' }}>
      <label>Title <input value={title} onChange={(e) => setTitle(e.target.value)} /></label>{' '}
      <button type="submit" disabled={isLoading}>Publish</button>
      {isError && <ErrorBox title="Could not publish" error={error} />}
    </form>
  );
}

/** `useLiveQuery(builder)`: fetched once, then patched from the table's row changes while mounted. */
function LiveFeed() {
  const { api, config } = useTab();
  const authorIds = useMemo(() => config.users.map((user) => user.id), [config]);
  const names = useMemo(() => new Map(config.users.map((user) => [user.id, user.name])), [config]);
  const { data, isLoading, isError, error } = api.useLiveQuery(liveFeedQuery(authorIds));
  const fetches = useSelector((state: LiveState) => state.liveFetches);

  return (
    <section aria-label="Live feed">
      <small aria-label="Fetches">Fetches of this feed: {fetches}</small>
      {isLoading && <p>Loading posts…</p>}
      {isError && <ErrorBox title="Could not load posts" error={error} />}
      {data && data.length === 0 && <p>No posts yet.</p>}
      {data && data.length > 0 && (
        <ul aria-label="Posts">
          {data.map((post) => (
            <li key={post.id}>
              <strong>{post.title}</strong> <small>by {names.get(post.author_id ?? '') ?? 'someone else'}</small>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

import type { DemoConfig } from './demoConfig';
import { Avatar, TwoTabs, useTab } from './DemoTab';
import { FilteredLiveFeed, PublishForm } from './LiveFeed';

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
    <>
      <p className="demo-lead">
        Two tabs, each with its own store, sync middleware and WebSocket, signed in as Ada and Brian. Publish in one: the other's <code>useLiveQuery</code> entry is patched from the row change, not refetched (its fetch count stays at 1). Filter and order each feed; the avatars are the room's presence.
      </p>
      <TwoTabs config={config} fetchFn={fetchFn}>
        <WhoIsOnline room={room} />
        <PublishForm />
        <FilteredLiveFeed />
      </TwoTabs>
    </>
  );
}

/** `usePresence(room, { key, state })`: this tab tracks its user's name and lists everyone in the room. */
function WhoIsOnline({ room }: { room: string }) {
  const { user, hooks } = useTab();
  const { onlineUsers } = hooks.usePresence(room, { key: user.name, state: { name: user.name } });
  return (
    <div className="row meta" aria-label="Online">
      <span>Online:</span>
      {onlineUsers.length === 0 ? <span>nobody yet</span> : <span className="avatars">{onlineUsers.map((name) => <Avatar key={name} name={name} small online />)}</span>}
      <span>{onlineUsers.join(', ')}</span>
    </div>
  );
}

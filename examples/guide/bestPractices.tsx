/**
 * The guide's "Best Practices" (sync strategy, memory management, sync boundaries), pasted; the
 * functions it leaves to the reader (`fetchUser`, `fetchNotifications`, `fetchMessages`,
 * `handleMessage`, `subscribeToRealtime`, `handleUserPostChange`) are defined here as plain async
 * functions and recorders. Plain functions are no builders: the query client runs them at fetch time
 * (`request: null` entries), so they work, but their entries get no tags and no live patches.
 */
import { useEffect } from 'react';
import { useQuery, useQueryClient, useRealtime, type RealtimePostgresChangesPayload } from '../../lib/react';
import { client, type Post } from './setup';

/** Whose data the functions below read (the guide's functions take no arguments). */
export const session = { userId: '' };

export async function fetchUser(): Promise<{ id: string; posts: number }> {
  const rows: Array<Pick<Post, 'id'>> = await client.from('guide_posts').select('id').eq('author_id', session.userId);
  return { id: session.userId, posts: rows.length };
}

export async function fetchNotifications(): Promise<Array<Pick<Post, 'id' | 'title'>>> {
  return await client.from('guide_posts').select('id, title').eq('author_id', session.userId).order('id');
}

export async function fetchMessages(): Promise<Post[]> {
  return await client.from('guide_posts').select('*').eq('author_id', session.userId).order('id');
}

/** What `handleMessage` and `handleUserPostChange` heard, in order. */
export const heard: { messages: RealtimePostgresChangesPayload[]; userPosts: RealtimePostgresChangesPayload[] } = { messages: [], userPosts: [] };
export const handleMessage = (payload: RealtimePostgresChangesPayload) => void heard.messages.push(payload);
export const handleUserPostChange = (payload: RealtimePostgresChangesPayload) => void heard.userPosts.push(payload);

/** The guide's placeholder: whatever it subscribes, it returns its cleanup. */
export function subscribeToRealtime(): () => void {
  return () => undefined;
}

// ---- The guide, as written ----

// Good: Choose appropriate sync strategy based on data importance
export const useUserProfile = () => useQuery(['user-profile'], fetchUser, {
  staleTime: 5 * 60 * 1000, // 5 minutes - user data changes infrequently
  refetchOnWindowFocus: true
});

export const useNotifications = () => useQuery(['notifications'], fetchNotifications, {
  staleTime: 30 * 1000, // 30 seconds - notifications should be fresh
  refetchInterval: 60 * 1000 // Check every minute
});

export const useChatMessages = () => {
  // Real-time for chat - needs immediate updates
  useRealtime('chat', { event: '*', table: 'guide_posts' }, handleMessage);
  return useQuery(['messages'], fetchMessages);
};

/** The guide's memory-management effect, in a component of its own. */
export function TemporaryDataOwner() {
  const queryClient = useQueryClient();
  // Good: Clean up subscriptions and cache
  useEffect(() => {
    const cleanup = subscribeToRealtime();

    return () => {
      cleanup();
      queryClient.removeQueries(['temporary-data']);
    };
  }, []);
  return null;
}

// Good: Define clear sync boundaries
export function useBoundedSync(userId: string) {
  // Only sync data relevant to this user
  return useRealtime('user-data', {
    event: '*',
    table: 'guide_posts',
    filter: `author_id=eq.${userId}`
  }, handleUserPostChange);
}

// ---- Components the tests render ----

export function Profile() {
  const { data } = useUserProfile();
  const notifications = useNotifications();
  return (
    <section aria-label="Profile">
      <p>{data ? `${data.posts} posts` : 'Loading profile…'}</p>
      <ul>{notifications.data?.map((n) => <li key={n.id}>{n.title}</li>)}</ul>
    </section>
  );
}

export function Chat() {
  const { data } = useChatMessages();
  return <ul aria-label="Chat">{data?.map((m) => <li key={m.id}>{m.title}</li>)}</ul>;
}

/** Corrected chat: the list itself is live (no handler; the database's changes patch it). */
export function LiveChat({ userId }: { userId: string }) {
  const { data } = useQuery(['messages', userId], (c) => c.from<Post>('guide_posts').select('*').eq('author_id', userId).order('id'), { live: true });
  return <ul aria-label="Live chat">{data?.map((m) => <li key={m.id}>{m.title}</li>)}</ul>;
}

export function TemporaryData() {
  const { data } = useQuery(['temporary-data'], async () => ({ loadedAt: Date.now() }));
  return <p>{data ? 'temporary data loaded' : 'loading temporary data'}</p>;
}

export function BoundedSync({ userId }: { userId: string }) {
  useBoundedSync(userId);
  return null;
}

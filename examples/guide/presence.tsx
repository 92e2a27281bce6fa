/**
 * The guide's "Real-time Presence". As written it does not work with our API (nor, as far as we
 * know, with any): `useRealtime` takes `postgres_changes` bindings only (it throws a TypeError for
 * `event: 'presence'`), and `client` has no `channel()`. It is kept below for the test that shows
 * it fails, typed through `GuideUseRealtime` (the signature the guide assumes), and rewritten with
 * `usePresence`: the middleware joins the room, tracks this user's state, merges the server's
 * presence state and diffs, and untracks on unmount. `onlineUsers` are presence keys; each key's
 * tracked state is `presenceState[key][0]`.
 */
import { useEffect, useState } from 'react';
import { usePresence, useQueryClient, useRealtime } from '../../lib/react';
import { client } from './setup';

/** The `useRealtime` the guide assumes: any binding, any payload. */
type GuideUseRealtime = (name: string, binding: Record<string, unknown>, handler: (payload: any) => void) => void;
/** The `client` the guide assumes: with a Supabase-style `channel()`. */
type GuideClient = { channel(name: string): any };

/** As written (imports aside, and the two casts above): throws at its first render. */
export function useRealtimePresenceAsWritten(roomId: string) {
  const [presenceState, setPresenceState] = useState<Record<string, any>>({});
  const queryClient = useQueryClient();
  void queryClient; // (the guide never uses it)

  (useRealtime as unknown as GuideUseRealtime)('presence', {
    event: 'presence',
    schema: 'realtime',
    room: roomId
  }, (payload) => {
    const { event, payload: presencePayload } = payload;

    switch (event) {
      case 'join':
        setPresenceState(prev => ({
          ...prev,
          [presencePayload.user_id]: {
            ...presencePayload,
            online_at: new Date().toISOString()
          }
        }));
        break;

      case 'leave':
        setPresenceState(prev => {
          const { [presencePayload.user_id]: removed, ...rest } = prev;
          void removed;
          return rest;
        });
        break;

      case 'sync':
        setPresenceState(presencePayload.state || {});
        break;
    }
  });

  // Join the room on mount
  useEffect(() => {
    const channel = (client as unknown as GuideClient).channel(roomId);
    channel.on('presence', { event: 'sync' }, () => {
      const state = channel.presenceState();
      setPresenceState(state);
    });

    channel.subscribe();

    return () => {
      channel.unsubscribe();
    };
  }, [roomId]);

  return {
    presenceState,
    onlineUsers: Object.values(presenceState),
    onlineCount: Object.keys(presenceState).length
  };
}

export function CollaborativeEditorAsWritten({ documentId }: { documentId: string }) {
  const { onlineCount } = useRealtimePresenceAsWritten(`document-${documentId}`);
  return <div className="presence-indicator">{onlineCount} user{onlineCount !== 1 ? 's' : ''} online</div>;
}

/** Who this client is in the room (the guide's user: an id, a name and an avatar). */
export interface PresenceUser {
  user_id: string;
  name: string;
  avatar: string;
}

/** The guide's hook on `usePresence`: tracks `user` in `roomId` while mounted. */
export function useRealtimePresence(roomId: string, user: PresenceUser) {
  const { presenceState, onlineUsers, onlineCount } = usePresence(roomId, { key: user.user_id, state: { ...user } });
  return {
    presenceState,
    // The guide's onlineUsers are the tracked states; ours are keys, so read each key's first meta.
    onlineUsers: onlineUsers.map((key) => presenceState[key]![0] as unknown as PresenceUser),
    onlineCount,
  };
}

export function CollaborativeEditor({ documentId, user }: { documentId: string; user: PresenceUser }) {
  const { onlineUsers, onlineCount } = useRealtimePresence(`document-${documentId}`, user);

  return (
    <div>
      <div className="presence-indicator">
        {onlineCount} user{onlineCount !== 1 ? 's' : ''} online
        <div className="user-avatars">
          {onlineUsers.slice(0, 5).map(user => (
            <img
              key={user.user_id}
              src={user.avatar}
              alt={user.name}
              title={user.name}
              className="avatar"
            />
          ))}
        </div>
      </div>

      {/* Editor component */}
    </div>
  );
}

/**
 * The guide's "Version-based Updates", pasted. It runs: `client` is the awaitable builders, so
 * `await client.from(...).select('version').eq(...).single()` resolves with the row. Guide bugs:
 * the read and the write are two round trips, and a write landing between them makes the
 * `.eq('version', ...)` update match no row, so `.single()` fails with PGRST116, not with the
 * CONFLICT error the dialog waits for; `updated_at` comes from the client's clock; the dialog lives
 * in the query cache, read by `useQuery(['conflict-dialog'], () => null)`, whose own refetch (on
 * mount or focus, staleTime 0) puts `null` back. `useVersionedPostUpdateFixed` is one conditional
 * optimistic write; its conflict is in `useConflicts()`, not in the cache.
 */
import { useConflicts, useMutation, useQuery, useQueryClient } from '../../lib/react';
import { client, type Post } from './setup';

// ---- The guide, as written ----

interface VersionedPost extends Post {
  version: number;
}

export function useVersionedPostUpdate() {
  const queryClient = useQueryClient();
  
  return useMutation({
    mutationFn: async (postData: Partial<VersionedPost>) => {
      // Check current version before update
      const currentPost = await client
        .from('guide_posts')
        .select('version')
        .eq('id', postData.id)
        .single();
      
      if (currentPost.version !== postData.version) {
        throw new Error('CONFLICT: Post has been updated by another user');
      }
      
      // Update with incremented version
      return client
        .from('guide_posts')
        .update({ 
          ...postData, 
          version: currentPost.version + 1,
          updated_at: new Date().toISOString()
        })
        .eq('id', postData.id)
        .eq('version', currentPost.version) // Ensure version still matches
        .select()
        .single();
    },
    onError: (error) => {
      if (error.message.includes('CONFLICT')) {
        // Show conflict resolution UI
        queryClient.setQueryData(['conflict-dialog'], {
          show: true,
          error: error.message
        });
      }
    }
  });
}

/** The dialog the guide's onError feeds, read from the cache. */
export function ConflictDialog() {
  const { data } = useQuery(['conflict-dialog'], (): { show: boolean; error: string } | null => null);
  return <p aria-label="Conflict dialog">{data?.show ? data.error : 'no conflict'}</p>;
}

// ---- With rtk-postgrest: one conditional write ----

type Edit = Pick<Post, 'id' | 'version'> & Partial<Pick<Post, 'title' | 'body'>>;

export function useVersionedPostUpdateFixed() {
  return useMutation({
    // Sent with `version=eq.<the version this client loaded>`: a concurrent write makes it a conflict, in one round trip.
    mutationFn: ({ id, version, ...changes }: Edit) =>
      client.from('guide_posts').update({ ...changes, version: version + 1 }).eq('id', id).optimistic({ conflict: { column: 'version' } }),
  });
}

/** The conflict dialog from the sync middleware's conflicts: mine against theirs, with the choice. */
export function LibraryConflictDialog() {
  const { open, resolve } = useConflicts();
  const conflict = open[0];
  if (!conflict) return <p aria-label="Conflict dialog">no conflict</p>;
  return (
    <div aria-label="Conflict dialog">
      {`mine “${String(conflict.local?.title)}” vs theirs “${String(conflict.server?.title)}”`}
      <button type="button" onClick={() => void resolve(conflict.id, 'client')}>Keep mine</button>
    </div>
  );
}

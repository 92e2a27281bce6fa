/**
 * The guide's "Optimistic Update Conflicts", pasted. As written it runs, but:
 * (a) a plain update has no version check, so PostgREST never answers a conflict: a concurrent
 *     change is silently overwritten and the CONFLICT branch never runs;
 * (b) `['post', id]` only ever comes from `setQueryData` (no query has it), so `refetchQueries`
 *     fetches nothing and `getQueryData` returns the optimistic data, which is then "merged" with
 *     itself; and a failed write with no earlier `['post', id]` data is never rolled back;
 * (c) the merge goes to the cache only, never to the server.
 * `usePostMutationWithVersionCheck` (with `PostView` mounted) fixes that by hand;
 * `useLibraryPostUpdate` is the rtk-postgrest way: one optimistic write that checks the version and
 * merges a conflict itself, shown by `useConflicts()`.
 * Changed from the guide besides imports: types only (`Post` has the guide's optional `content`;
 * the query key is a `QueryKey`; `getQueryData` is typed; the updater takes `Partial<Post> | undefined`).
 */
import { useCallback } from 'react';
import { useConflicts, useMutation, useQuery, useQueryClient, type QueryKey } from '../../lib/react';
import { client, type Post as GuidePost } from './setup';

/** The guide's Post (it names the body `content`; the table's column is `body`). */
type Post = GuidePost & { content?: string };

// ---- The guide, as written ----

export function useConflictResolution<T>() {
  const queryClient = useQueryClient();
  
  const resolveConflict = useCallback((
    queryKey: QueryKey,
    optimisticData: T,
    serverData: T,
    conflictResolver?: (optimistic: T, server: T) => T
  ) => {
    if (conflictResolver) {
      // Use custom conflict resolution
      const resolvedData = conflictResolver(optimisticData, serverData);
      queryClient.setQueryData(queryKey, resolvedData);
    } else {
      // Default: Server wins
      queryClient.setQueryData(queryKey, serverData);
    }
  }, [queryClient]);
  
  return { resolveConflict };
}

export function usePostMutationWithConflictResolution() {
  const queryClient = useQueryClient();
  const { resolveConflict } = useConflictResolution<Post>();
  
  return useMutation({
    mutationFn: (postData: Partial<Post>) =>
      client.from('guide_posts').update(postData).eq('id', postData.id).select().single(),
    onMutate: async (updatedPost) => {
      await queryClient.cancelQueries(['post', updatedPost.id]);
      
      const previousPost = queryClient.getQueryData(['post', updatedPost.id]);
      
      // Optimistic update
      queryClient.setQueryData(['post', updatedPost.id], (old?: Partial<Post>) => ({
        ...old,
        ...updatedPost,
        updated_at: new Date().toISOString()
      }));
      
      return { previousPost, optimisticData: updatedPost };
    },
    onError: (error, variables, context) => {
      // Check if it's a conflict error
      if (error.code === 'CONFLICT' && context?.previousPost) {
        // Get latest server data
        queryClient.refetchQueries(['post', variables.id]).then(() => {
          const serverData = queryClient.getQueryData<Post>(['post', variables.id])!;
          
          // Resolve conflict (in this case, merge changes)
          resolveConflict(
            ['post', variables.id],
            context.optimisticData as Post,
            serverData,
            (optimistic, server) => ({
              ...server,
              title: optimistic.title || server.title, // Keep optimistic title
              content: optimistic.content || server.content, // Keep optimistic content
              updated_at: server.updated_at // Use server timestamp
            })
          );
        });
      } else if (context?.previousPost) {
        // Regular rollback for other errors
        queryClient.setQueryData(['post', variables.id], context.previousPost);
      }
    }
  });
}

// ---- Corrected by hand: a version check, and a query that can refetch ['post', id] ----

/** The row under `['post', id]`, fetched (so `refetchQueries(['post', id])` has a request to send). */
export function PostView({ id }: { id: number }) {
  const { data } = useQuery(['post', id], (c) => c.from<GuidePost>('guide_posts').select('*').eq('id', id).single());
  return <p aria-label="Post">{data ? `${data.title} / ${data.body || '(no body)'} (v${data.version})` : '…'}</p>;
}

type Edit = Pick<GuidePost, 'id' | 'version'> & Partial<Pick<GuidePost, 'title' | 'body'>>;

export function usePostMutationWithVersionCheck() {
  const queryClient = useQueryClient();
  return useMutation({
    // Only if the row still has the version this client saw; `.single()` fails with PGRST116 when it doesn't.
    mutationFn: ({ id, version, ...changes }: Edit) =>
      client.from('guide_posts').update({ ...changes, version: version + 1 }).eq('id', id).eq('version', version).select().single(),
    onMutate: async (edit) => {
      await queryClient.cancelQueries(['post', edit.id]);
      const previousPost = queryClient.getQueryData<GuidePost>(['post', edit.id]);
      queryClient.setQueryData<GuidePost>(['post', edit.id], (old) => (old ? { ...old, ...edit } : old));
      return { previousPost };
    },
    onError: async (error, edit, context) => {
      if (error.code !== 'PGRST116') {
        if (context?.previousPost) queryClient.setQueryData(['post', edit.id], context.previousPost);
        return;
      }
      // The row changed meanwhile: read the server's row (PostView's query refetches it) ...
      await queryClient.refetchQueries(['post', edit.id]);
      const server = queryClient.getQueryData<GuidePost>(['post', edit.id])!;
      // ... merge (`??`: an empty string is a value), and write the merge, against the server's version.
      const merged = { title: edit.title ?? server.title, body: edit.body ?? server.body };
      queryClient.setQueryData(['post', edit.id], { ...server, ...merged });
      await client.from('guide_posts').update({ ...merged, version: server.version + 1 }).eq('id', edit.id).eq('version', server.version).select().single();
    },
  });
}

// ---- With rtk-postgrest: one optimistic write that checks the version and merges a conflict ----

export function useLibraryPostUpdate() {
  return useMutation({
    mutationFn: ({ id, version, ...changes }: Edit) =>
      client.from('guide_posts').update({ ...changes, version: version + 1 }).eq('id', id).optimistic({ conflict: { column: 'version', strategy: 'merge' } }),
  });
}

/**
 * The row as a one-row list. The optimistic layer checks a conflict against the rows this client
 * has loaded, and it reads list entries only: a `.single()` entry (PostView's) is not counted, so
 * the write would be refused with CONFLICT_TARGET.
 */
export function PostRows({ id }: { id: number }) {
  const { data } = useQuery(['post-rows', id], (c) => c.from<GuidePost>('guide_posts').select('*').eq('id', id));
  const row = data?.[0];
  return <p aria-label="Post">{row ? `${row.title} / ${row.body || '(no body)'} (v${row.version})` : '…'}</p>;
}

export function ConflictLog() {
  const { conflicts } = useConflicts();
  return <ul aria-label="Conflicts">{conflicts.map((conflict) => <li key={conflict.id}>{conflict.status}</li>)}</ul>;
}

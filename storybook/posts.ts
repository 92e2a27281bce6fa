import { from } from '../lib/postgrest';

/** A feed row: the columns demo/schema.sql and the test schema share, plus the author's name. */
export interface FeedPost {
  id: number;
  title: string;
  published: boolean;
  author_id: string | null;
  created_at: string;
  author: { name: string } | null;
}

/** The columns a write may set. */
export interface PostRow {
  id: number;
  author_id: string | null;
  title: string;
  published: boolean;
}

/** Which posts the feed shows: everything the caller may see, published ones, or one author's. */
export type FeedFilter = { kind: 'all' } | { kind: 'published' } | { kind: 'author'; authorId: string };

/**
 * The feed's read. `authorIds` scopes it to the demo's authors, so a demo (or a test) sharing a
 * database with others only lists its own rows; RLS still decides which of them the caller sees.
 */
export function feedQuery(filter: FeedFilter, authorIds: readonly string[]) {
  let query = from<FeedPost>('posts').select<FeedPost>('id,title,published,author_id,created_at,author:authors(name)');
  if (authorIds.length > 0) query = query.in('author_id', authorIds);
  if (filter.kind === 'published') query = query.eq('published', true);
  if (filter.kind === 'author') query = query.eq('author_id', filter.authorId);
  return query.order('created_at', { ascending: false }).order('id', { ascending: false }).limit(50);
}

/** A new post; `author_id` is the signed-in user (RLS rejects anyone else, and anonymous inserts). */
export function insertPost(post: { title: string; published: boolean; authorId: string | undefined }) {
  const row: Partial<PostRow> = { title: post.title, published: post.published };
  if (post.authorId !== undefined) row.author_id = post.authorId;
  return from<PostRow>('posts').insert(row);
}

/** Renames one post and returns it; `single()` turns "RLS hid the row" into an error instead of a silent no-op. */
export function renamePost(id: number, title: string) {
  return from<PostRow>('posts').update({ title }).eq('id', id).select('id,title').single();
}

/** Deletes one post; like renamePost, a row the caller may not delete is an error, not nothing. */
export function deletePost(id: number) {
  return from<PostRow>('posts').delete().eq('id', id).select('id').single();
}

/** A row of the live feed: the posts columns only (no embedded author, see liveFeedQuery). */
export type LivePost = Omit<FeedPost, 'author'>;

/** Which posts a live feed lists, and in what order. */
export interface LiveFeedView {
  show: 'all' | 'published' | 'mine';
  order: 'newest' | 'oldest' | 'title';
}

export const DEFAULT_VIEW: LiveFeedView = { show: 'all', order: 'newest' };

/**
 * The live feed's read: the demo's authors' posts (RLS adds the caller's own drafts), filtered and
 * ordered as `view` says. No embedded `author:authors(name)`: the sync middleware patches an entry
 * from a row change only when it can evaluate the whole request on the client, and an embed would
 * make every change refetch it. Names come from the config instead. Ordering by title is text
 * order, which the client evaluates only when it knows the column's collation (our realtime server
 * sends it).
 */
export function liveFeedQuery(authorIds: readonly string[], view: LiveFeedView = DEFAULT_VIEW, userId?: string) {
  let query = from<LivePost>('posts').select<LivePost>('id,title,published,author_id,created_at').in('author_id', authorIds);
  if (view.show === 'published') query = query.eq('published', true);
  if (view.show === 'mine' && userId !== undefined) query = query.eq('author_id', userId);
  if (view.order === 'title') query = query.order('title').order('id');
  else query = query.order('created_at', { ascending: view.order === 'oldest' }).order('id', { ascending: view.order === 'oldest' });
  return query.limit(50);
}

/**
 * Publishes a post as the signed-in author. Returning the new row's id lets the write invalidate
 * exactly that row (a write that returns nothing would invalidate the whole table, live entries too).
 */
export function publishPost(title: string, authorId: string) {
  return from<PostRow>('posts').insert({ title, published: true, author_id: authorId }).select('id');
}

/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
// Guide example 3, "Smart Cache Updates", on the real stack. As written: the temporary row shows
// at once; on success the refetch replaces it with the server's row; on failure the snapshot comes
// back. Its flaw on a live entry: the snapshot also throws away a row that arrived live while the
// write was in flight (until the onSettled refetch). The `.optimistic()` write keeps that row,
// rolls back only itself, and refetches nothing. Requests are held (holdingFetch) so each stage
// can be looked at.
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { useCreatePostFixed, useOptimizedPostMutation, type NewPost } from '../../examples/guide/smartCacheUpdates';
import type { Post } from '../../examples/guide/setup';
import { useQuery } from '../../lib/react';
import { closeSql, sql } from '../support/stack';
import { closeApps, guideApp, holdingFetch, insertPosts, long, newAuthor, type Author } from './supportA';

afterEach(closeApps);
afterAll(closeSql);

/** ['posts'] (the author's, newest first; live or not) with a button that runs `useCreate`'s mutation on `row`. */
function Posts({ authorId, live, useCreate, row }: { authorId: string; live: boolean; useCreate: () => { mutate(row: NewPost): void }; row: NewPost }) {
  const { data } = useQuery(['posts'], (c) => c.from<Post>('guide_posts').select('*').eq('author_id', authorId).order('created_at', { ascending: false }), { live });
  const create = useCreate();
  return (
    <>
      <ul aria-label="Posts">{data?.map((post) => <li key={post.id}>{post.title}</li>)}</ul>
      <button onClick={() => create.mutate(row)}>Create</button>
    </>
  );
}

const titles = () => within(screen.getByRole('list', { name: 'Posts' })).queryAllByRole('listitem').map((li) => li.textContent);
const isPost = (method: string, url: URL) => method === 'POST' && url.pathname === '/guide_posts';
const isRead = (method: string, url: URL) => method === 'GET' && url.pathname === '/guide_posts';
const inDatabase = async (title: string) => (await sql('select 1 from guide_posts where title = $1', [title])).length;

/**
 * `author`'s posts (published) in the list, seen by `viewer`, who clicks Create to insert `row`
 * (its POST held). A viewer inserting a row of another author is refused by the row-level
 * security policy (403).
 */
async function mountAndCreate(author: Author, viewer: Author, live: boolean, useCreate: () => { mutate(row: NewPost): void }, row: NewPost) {
  const network = holdingFetch();
  const app = guideApp(viewer, { fetchFn: network.fetchFn });
  const [seeded] = await insertPosts(author, [{ title: `seeded ${author.tag}`, published: true }]);
  render(<app.GuideProvider><Posts authorId={author.id} live={live} useCreate={useCreate} row={row} /></app.GuideProvider>);
  await waitFor(() => expect(titles()).toEqual([seeded!.title]), long);
  if (live) {
    // Live for real: a row written with SQL shows without a refetch.
    const [probe] = await insertPosts(author, [{ title: `probe ${author.tag}`, published: true }]);
    await waitFor(() => expect(titles()).toEqual([probe!.title, seeded!.title]), long);
  }
  const shown = titles();
  // Create, with its POST held until `post.release()`.
  const post = network.hold(isPost);
  await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Create' })));
  await post.held;
  return { app, network, shown, post };
}

test('as written, success: the temporary row shows at once, then the server row once (after the refetch)', async () => {
  const author = newAuthor();
  const title = `mine ${author.tag}`;
  const { app, shown, post } = await mountAndCreate(author, author, false, useOptimizedPostMutation, { author_id: author.id, title });
  await waitFor(() => expect(titles()).toEqual([title, ...shown]));
  expect(String(app.queryClient.getQueryData<Post[]>(['posts'])![0]!.id)).toMatch(/^temp-/);
  await act(async () => post.release());
  await waitFor(() => expect(typeof app.queryClient.getQueryData<Post[]>(['posts'])![0]!.id).toBe('number'), long);
  await waitFor(() => expect(app.queryClient.isFetching()).toBe(0), long);
  expect(titles()).toEqual([title, ...shown]);
  expect(await inDatabase(title)).toBe(1);
  expect(app.nonSerializable()).toEqual([]);
});

test('as written, failure: the temporary row shows, then the snapshot comes back', async () => {
  const author = newAuthor();
  const title = `refused ${author.tag}`;
  // Another user posting as the author: the row-level security policy refuses the insert (403).
  const { app, shown, post } = await mountAndCreate(author, newAuthor(), false, useOptimizedPostMutation, { author_id: author.id, title });
  await waitFor(() => expect(titles()).toEqual([title, ...shown]));
  await act(async () => post.release());
  await waitFor(() => expect(titles()).toEqual(shown), long);
  expect(await inDatabase(title)).toBe(0);
  expect(app.nonSerializable()).toEqual([]);
});

test("as written, on a live entry: the failed write's snapshot hides a row that arrived live meanwhile, until the onSettled refetch", async () => {
  const author = newAuthor();
  const title = `refused ${author.tag}`;
  const { app, network, shown, post } = await mountAndCreate(author, newAuthor(), true, useOptimizedPostMutation, { author_id: author.id, title });
  await waitFor(() => expect(titles()).toEqual([title, ...shown]));

  // The author writes while the insert is in flight; the live entry shows it.
  const [other] = await insertPosts(author, [{ title: `meanwhile ${author.tag}`, published: true }]);
  await waitFor(() => expect(titles()).toContain(other!.title), long);

  const refetch = network.hold(isRead);
  await act(async () => post.release());
  // onError put the snapshot back: the row is in the database, but not on screen.
  await waitFor(() => expect(titles()).toEqual(shown), long);
  expect(await inDatabase(other!.title)).toBe(1);
  await refetch.held;
  // onSettled's refetch of the whole list brings it back.
  await act(async () => refetch.release());
  await waitFor(() => expect(titles()).toEqual([other!.title, ...shown]), long);
  expect(app.fetches('keyedLive(["posts"])')).toBe(2);
  expect(app.nonSerializable()).toEqual([]);
});

test('fixed with .optimistic() on a live entry: a failure rolls back only the write; the live row stays; nothing is refetched', async () => {
  const author = newAuthor();
  const title = `refused ${author.tag}`;
  const { app, shown, post } = await mountAndCreate(author, newAuthor(), true, useCreatePostFixed, { author_id: author.id, title });
  await waitFor(() => expect(titles()).toContain(title));

  const [other] = await insertPosts(author, [{ title: `meanwhile ${author.tag}`, published: true }]);
  await waitFor(() => expect(titles()).toContain(other!.title), long);
  await act(async () => post.release());
  await waitFor(() => expect(titles()).not.toContain(title), long);
  expect(titles()).toEqual([other!.title, ...shown]);
  expect(await inDatabase(title)).toBe(0);
  expect(app.fetches('keyedLive(["posts"])')).toBe(1);
  expect(app.nonSerializable()).toEqual([]);
});

test('fixed with .optimistic() on a live entry: success shows the row at once, then the server row once, with no refetch', async () => {
  const author = newAuthor();
  const title = `mine ${author.tag}`;
  const { app, shown, post } = await mountAndCreate(author, author, true, useCreatePostFixed, { author_id: author.id, title });
  await waitFor(() => expect(titles()).toEqual([title, ...shown]));
  await act(async () => post.release());
  await waitFor(() => expect(app.queryClient.getQueryData<Post[]>(['posts'])!.find((p) => p.title === title)?.id).toBeGreaterThan(0), long);
  // The insert also arrives live; the row stays one row.
  const [later] = await insertPosts(author, [{ title: `later ${author.tag}`, published: true }]);
  await waitFor(() => expect(titles()).toContain(later!.title), long);
  expect(titles()).toEqual([later!.title, title, ...shown]);
  expect(app.fetches('keyedLive(["posts"])')).toBe(1);
  expect(app.nonSerializable()).toEqual([]);
});

/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
// Guide example 4, "PostgreSQL Change Events", on the real stack. As written: our own insert is
// shown twice (the write's tags refetch the list, then its change is prepended again); an UPDATE
// reaches the post's detail through invalidateQueries(['post', id]), but a DELETE's
// invalidateQueries(['post', undefined]) matches nothing, so the detail keeps showing the deleted
// post. With `live: true` the row is shown once, updated and removed, and the list is fetched once.
import { jest } from '@jest/globals';
import { act, render, screen, waitFor } from '@testing-library/react';
import { RealtimePostsList, RealtimePostsLive } from '../../examples/guide/realtimePosts';
import type { Post } from '../../examples/guide/setup';
import { useQuery } from '../../lib/react';
import { closeSql, sql } from '../support/stack';
import { closeApps, guideApp, HoldingWebSocket, insertPosts, long, newAuthor, type Author, type GuideTestApp } from './supportA';

afterEach(() => {
  HoldingWebSocket.deliver();
  closeApps();
  jest.restoreAllMocks();
});
afterAll(closeSql);

/** ['post', id]: one post's detail, as a page next to the feed would show it. */
function PostDetail({ id }: { id: number }) {
  const { data } = useQuery(['post', id], (c) => c.from<Post>('guide_posts').select('*').eq('id', id).maybeSingle());
  return <p aria-label="Detail">{data ? data.title : 'no post'}</p>;
}

/** This author's titles in the feed, in order (published posts of other tests may be listed too). */
const feed = (author: Author) => screen.queryAllByRole('heading', { level: 3 }).map((h) => h.textContent ?? '').filter((title) => title.includes(author.tag));
const detail = () => screen.getByLabelText('Detail').textContent;
const channelLive = (app: GuideTestApp, name: string) => app.sync.selectors.selectChannel(app.store.getState(), name)?.changesLive === true;
const insertAsApp = (app: GuideTestApp, author: Author, title: string) => app.db.from('guide_posts').insert({ author_id: author.id, title, published: false }).select().single() as Promise<Post>;

test("as written: our own insert shows twice; an UPDATE refetches the post's detail; after a DELETE the detail still shows the deleted post", async () => {
  const author = newAuthor();
  const [seeded] = await insertPosts(author, [{ title: `seeded ${author.tag}` }]);
  const app = guideApp(author, { WebSocket: HoldingWebSocket });
  render(<app.GuideProvider><RealtimePostsList /><PostDetail id={seeded!.id} /></app.GuideProvider>);
  expect(screen.getByText('Loading posts...')).toBeTruthy();
  await waitFor(() => expect(feed(author)).toEqual([seeded!.title]), long);
  await waitFor(() => expect(detail()).toBe(seeded!.title), long);
  await waitFor(() => expect(channelLive(app, 'posts-changes')).toBe(true), long);

  // Our insert: the realtime path is slower than the refetch its tags start (held here).
  HoldingWebSocket.hold();
  const title = `mine ${author.tag}`;
  await act(() => insertAsApp(app, author, title));
  await waitFor(() => expect(feed(author)).toEqual([title, seeded!.title]), long);
  await waitFor(() => expect(app.queryClient.isFetching()).toBe(0), long);
  // Then the change arrives, and the handler prepends the row the refetch already brought (React
  // warns of the duplicate key on every render from now on).
  const duplicateKey = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  act(() => HoldingWebSocket.deliver());
  await waitFor(() => expect(feed(author)).toEqual([title, title, seeded!.title]), long);
  expect(app.queryClient.getQueryData<Post[]>(['posts'])!.filter((post) => post.title === title)).toHaveLength(2);
  expect(duplicateKey.mock.calls.some((call) => String(call[0]).includes('two children with the same key'))).toBe(true);

  // An UPDATE: merged into the list, and invalidateQueries(['post', id]) refetches the detail.
  const detailFetches = app.fetches(`keyed(["post",${seeded!.id}])`);
  await sql('update guide_posts set title = $2 where id = $1', [seeded!.id, `renamed ${author.tag}`]);
  await waitFor(() => expect(feed(author)).toContain(`renamed ${author.tag}`), long);
  await waitFor(() => expect(detail()).toBe(`renamed ${author.tag}`), long);
  expect(app.fetches(`keyed(["post",${seeded!.id}])`)).toBe(detailFetches + 1);

  // A DELETE: the handler drops it from the list, but its new record is {}: ['post', undefined] matches nothing.
  await sql('delete from guide_posts where id = $1', [seeded!.id]);
  await waitFor(() => expect(feed(author)).not.toContain(`renamed ${author.tag}`), long);
  await waitFor(() => expect(app.queryClient.isFetching()).toBe(0), long);
  expect(detail()).toBe(`renamed ${author.tag}`);
  expect(app.fetches(`keyed(["post",${seeded!.id}])`)).toBe(detailFetches + 1);
  expect(app.queryClient.getQueryState(['post', seeded!.id])).toMatchObject({ isInvalidated: false, data: { title: `renamed ${author.tag}` } });
  expect(app.queryClient.getQueryCache().findAll({ queryKey: ['post', undefined] })).toEqual([]);
  expect(app.nonSerializable()).toEqual([]);
});

test('fixed with live: true: our own insert shows once, in order; an UPDATE and a DELETE apply; the list is fetched once', async () => {
  const author = newAuthor();
  const [seeded] = await insertPosts(author, [{ title: `seeded ${author.tag}` }]);
  const app = guideApp(author);
  render(<app.GuideProvider><RealtimePostsLive /></app.GuideProvider>);
  await waitFor(() => expect(feed(author)).toEqual([seeded!.title]), long);
  // Live for real: a row written with SQL shows without a refetch.
  const [probe] = await insertPosts(author, [{ title: `probe ${author.tag}` }]);
  await waitFor(() => expect(feed(author)).toEqual([probe!.title, seeded!.title]), long);

  const title = `mine ${author.tag}`;
  await act(() => insertAsApp(app, author, title));
  // A later change arrives after our insert's own: once it shows, ours was applied too.
  const [later] = await insertPosts(author, [{ title: `later ${author.tag}` }]);
  await waitFor(() => expect(feed(author)).toEqual([later!.title, title, probe!.title, seeded!.title]), long);

  await sql('update guide_posts set title = $2 where id = $1', [seeded!.id, `renamed ${author.tag}`]);
  await waitFor(() => expect(feed(author)).toEqual([later!.title, title, probe!.title, `renamed ${author.tag}`]), long);
  await sql('delete from guide_posts where id = $1', [probe!.id]);
  await waitFor(() => expect(feed(author)).toEqual([later!.title, title, `renamed ${author.tag}`]), long);
  expect(app.fetches('keyedLive(["posts"])')).toBe(1);
  expect(app.nonSerializable()).toEqual([]);
});

/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
// Guide example 5, "Selective Real-time Updates", on the real stack: the guide's filtered binding
// and the `live: true` query side by side (two apps, one author), under the same writes. Both see
// an insert and an update; after a post moves to another author and another is deleted, the
// guide's list still shows both (those changes never reach a binding filtered on author_id), the
// live list shows neither.
import { render, screen, waitFor, within } from '@testing-library/react';
import { useUserPostsLive, useUserPostsRealtime } from '../../examples/guide/selectiveRealtime';
import type { Post } from '../../examples/guide/setup';
import { closeSql, sql } from '../support/stack';
import { closeApps, guideApp, insertPosts, long, newAuthor } from './supportA';

afterEach(closeApps);
afterAll(closeSql);

function UserPosts({ userId, usePosts, label }: { userId: string; usePosts: (userId: string) => { data: Post[] | undefined }; label: string }) {
  const { data } = usePosts(userId);
  return <ul aria-label={label}>{data?.map((post) => <li key={post.id}>{post.title}</li>)}</ul>;
}

const lists = ['As written', 'Live'] as const;
const titlesIn = (label: string) => within(screen.getByRole('list', { name: label })).queryAllByRole('listitem').map((li) => li.textContent ?? '').sort();

test("a post moved to another author and a deleted post stay in the guide's filtered list; the live list drops them", async () => {
  const author = newAuthor();
  const other = newAuthor();
  const t = (name: string) => `${name} ${author.tag}`;
  // Published, so the author still may read the moved row: what keeps it from the binding is the filter.
  const [kept, moved, deleted] = await insertPosts(author, [{ title: t('kept'), published: true }, { title: t('moved'), published: true }, { title: t('deleted'), published: true }]);
  const guide = guideApp(author);
  const live = guideApp(author);
  render(<guide.GuideProvider><UserPosts userId={author.id} usePosts={useUserPostsRealtime} label="As written" /></guide.GuideProvider>);
  render(<live.GuideProvider><UserPosts userId={author.id} usePosts={useUserPostsLive} label="Live" /></live.GuideProvider>);
  const all = [kept!.title, moved!.title, deleted!.title].sort();
  for (const label of lists) await waitFor(() => expect(titlesIn(label)).toEqual(all), long);
  await waitFor(() => expect(guide.sync.selectors.selectChannel(guide.store.getState(), 'user-posts')?.changesLive).toBe(true), long);
  // Live for real in both: an insert by the author shows without a refetch.
  const [added] = await insertPosts(author, [{ title: t('added'), published: true }]);
  for (const label of lists) await waitFor(() => expect(titlesIn(label)).toContain(added!.title), long);
  await sql('update guide_posts set title = $2 where id = $1', [kept!.id, t('renamed')]);
  for (const label of lists) await waitFor(() => expect(titlesIn(label)).toContain(t('renamed')), long);

  await sql('update guide_posts set author_id = $2 where id = $1', [moved!.id, other.id]);
  await sql('delete from guide_posts where id = $1', [deleted!.id]);
  // Changes arrive in commit order: once this later insert shows, the two before it were handled.
  const [sentinel] = await insertPosts(author, [{ title: t('sentinel'), published: true }]);
  for (const label of lists) await waitFor(() => expect(titlesIn(label)).toContain(sentinel!.title), long);

  expect(titlesIn('As written')).toEqual([t('renamed'), added!.title, moved!.title, deleted!.title, sentinel!.title].sort());
  expect(titlesIn('Live')).toEqual([t('renamed'), added!.title, sentinel!.title].sort());
  // The guide's cache still says the moved post is the author's.
  expect(guide.queryClient.getQueryData<Post[]>(['user-posts', author.id])!.find((post) => post.id === moved!.id)?.author_id).toBe(author.id);
  expect(await sql('select author_id from guide_posts where id = any($1::bigint[]) order by id', [[moved!.id, deleted!.id]])).toEqual([{ author_id: other.id }]);
  // Neither list was refetched: each showed the changes it got.
  expect(guide.fetches(`keyed(["user-posts","${author.id}"])`)).toBe(1);
  expect(live.fetches(`keyedLive(["user-posts","${author.id}"])`)).toBe(1);
  expect(guide.nonSerializable()).toEqual([]);
  expect(live.nonSerializable()).toEqual([]);
});

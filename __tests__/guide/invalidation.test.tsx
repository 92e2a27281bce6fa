/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
// Guide example 2, "Query Invalidation", on the real stack. As written, the form hands its submit
// event to the insert (no request is sent; the browser would reload the page). Fixed, the form
// inserts its fields and the list shows the row through the insert's automatic tags alone; the
// guide's two invalidations only cancel that refetch and start it again.
import { jest } from '@jest/globals';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { CreatePostForm, CreatePostFormFixed, PostTitles } from '../../examples/guide/invalidation';
import { QUERY_INVALIDATED } from '../../lib/api/queryClient/contract';
import { closeSql, sql } from '../support/stack';
import { closeApps, guideApp, insertPosts, long, newAuthor } from './supportA';

afterEach(closeApps);
afterAll(closeSql);

const titles = () => within(screen.getByRole('list', { name: 'Posts' })).queryAllByRole('listitem').map((li) => li.textContent);
const rowsOf = (authorId: string) => sql<{ title: string }>('select title from guide_posts where author_id = $1 order by id', [authorId]);

test('as written: the submit event is the row, so nothing is inserted, and the submit is not prevented (the page would reload)', async () => {
  const author = newAuthor();
  const [existing] = await insertPosts(author, [{ title: `existing ${author.tag}` }]);
  const app = guideApp(author);
  render(<app.GuideProvider><PostTitles authorId={author.id} /><CreatePostForm /></app.GuideProvider>);
  await waitFor(() => expect(titles()).toEqual([existing!.title]), long);
  let submitted: Event | undefined;
  const onSubmit = (event: Event) => void (submitted = event);
  document.addEventListener('submit', onSubmit);
  // jsdom reports the navigation a real browser would do ("Not implemented: requestSubmit").
  const jsdomNavigation = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Create Post' })));
  } finally {
    document.removeEventListener('submit', onSubmit);
    jsdomNavigation.mockRestore();
  }
  expect(submitted?.defaultPrevented).toBe(false);
  // The builder refuses an event as a row, so no write reached the store or the server.
  expect(() => app.db.from('guide_posts').insert(submitted)).toThrow(/insert\(\) needs plain objects as rows/);
  expect(app.actions.filter((a) => a.type.startsWith(`${app.api.reducerPath}/executeMutation`))).toEqual([]);
  expect(screen.getByRole('button', { name: 'Create Post' })).toHaveProperty('disabled', false);
  expect(titles()).toEqual([existing!.title]);
  expect(await rowsOf(author.id)).toEqual([{ title: existing!.title }]);
});

test("fixed: the form's row is inserted and the list shows it, refetched once by the insert's automatic tags", async () => {
  const author = newAuthor();
  const app = guideApp(author);
  render(<app.GuideProvider><PostTitles authorId={author.id} /><CreatePostFormFixed authorId={author.id} /></app.GuideProvider>);
  await waitFor(() => expect(app.queryClient.getQueryState(['posts'])?.status).toBe('success'), long);
  expect(titles()).toEqual([]);
  const title = `created ${author.tag}`;
  fireEvent.change(screen.getByRole('textbox', { name: 'Title' }), { target: { value: title } });
  await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Create Post' })));
  await waitFor(() => expect(titles()).toEqual([title]), long);
  expect(await rowsOf(author.id)).toEqual([{ title }]);
  await waitFor(() => expect(app.queryClient.isFetching()).toBe(0), long);
  // The first fetch and the tags' refetch; no invalidation was needed.
  expect(app.fetches('keyed(["posts"])')).toBe(2);
  expect(app.actions.filter((a) => a.type === QUERY_INVALIDATED)).toEqual([]);
  expect(screen.queryByRole('alert')).toBeNull();
  expect(app.nonSerializable()).toEqual([]);
});

test("the guide's invalidations on top add nothing to the list: they cancel the tags' refetch and start it again", async () => {
  const author = newAuthor();
  const app = guideApp(author);
  render(<app.GuideProvider><PostTitles authorId={author.id} /><CreatePostFormFixed authorId={author.id} guideInvalidation /></app.GuideProvider>);
  await waitFor(() => expect(app.queryClient.getQueryState(['posts'])?.status).toBe('success'), long);
  const title = `created ${author.tag}`;
  fireEvent.change(screen.getByRole('textbox', { name: 'Title' }), { target: { value: title } });
  await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Create Post' })));
  await waitFor(() => expect(titles()).toEqual([title]), long);
  await waitFor(() => expect(app.queryClient.isFetching()).toBe(0), long);
  expect(app.actions.filter((a) => a.type === QUERY_INVALIDATED)).toHaveLength(2);
  // The first fetch, the tags' refetch (cancelled by the first invalidation), and the invalidation's
  // own; the second invalidation found that one running and was skipped.
  expect(app.fetches('keyed(["posts"])')).toBe(3);
  expect(app.queryActions('rejected', 'keyed(["posts"])').filter((a) => a.error?.name === 'AbortError')).toHaveLength(1);
  expect(titles()).toEqual([title]);
  expect(app.nonSerializable()).toEqual([]);
});

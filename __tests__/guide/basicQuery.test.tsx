/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
// Guide example 1, "Basic Query Sync", on the real stack: the list loads newest first; a window
// focus refetches the stale ['posts'] (staleTime 0) but not ['posts-fresh'] (fresh for 30 s);
// after 30 s a focus refetches it too, and it polls every 60 s (fake timers).
import { jest } from '@jest/globals';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { PostsList } from '../../examples/guide/basicQuery';
import type { Post } from '../../examples/guide/setup';
import { closeSql } from '../support/stack';
import { closeApps, guideApp, waitUnderFakeTimers, insertPosts, long, newAuthor, type Author } from './supportA';

afterEach(closeApps);
afterAll(closeSql);

/** The titles the list shows of this author's posts (others' published posts may be listed too). */
const shownTitles = (author: Author) => screen.queryAllByRole('heading', { level: 3 }).map((h) => h.textContent ?? '').filter((title) => title.includes(author.tag));
const cachedTitles = (rows: Post[] | undefined, author: Author) => (rows ?? []).map((row) => row.title).filter((title) => title.includes(author.tag));

test('loads the posts newest first; a focus refetches the stale ["posts"] but not ["posts-fresh"] within its 30 s', async () => {
  const author = newAuthor();
  const [first, second] = await insertPosts(author, [{ title: `first ${author.tag}`, body: 'one' }, { title: `second ${author.tag}`, body: 'two' }]);
  const app = guideApp(author);
  render(<app.GuideProvider><PostsList /></app.GuideProvider>);
  expect(screen.getByText('Loading posts...')).toBeTruthy();
  await waitFor(() => expect(shownTitles(author)).toEqual([second!.title, first!.title]), long);
  expect(screen.getByText('two')).toBeTruthy();
  expect(app.fetches('keyed(["posts"])')).toBe(1);
  await waitFor(() => expect(cachedTitles(app.queryClient.getQueryData<Post[]>(['posts-fresh']), author)).toHaveLength(2), long);

  // Written elsewhere: not a live query, so nothing shows it until a refetch.
  const [third] = await insertPosts(author, [{ title: `third ${author.tag}` }]);
  act(() => void fireEvent.focus(window));
  await waitFor(() => expect(shownTitles(author)).toEqual([third!.title, second!.title, first!.title]), long);
  expect(app.fetches('keyed(["posts"])')).toBe(2);
  // ['posts-fresh'] is within its staleTime: the focus left it alone, and its cache lacks the row.
  expect(app.fetches('keyed(["posts-fresh"])')).toBe(1);
  expect(cachedTitles(app.queryClient.getQueryData<Post[]>(['posts-fresh']), author)).not.toContain(third!.title);
  expect(app.queryClient.getQueryState(['posts-fresh'])).toMatchObject({ isStale: false, status: 'success' });
  expect(app.nonSerializable()).toEqual([]);
});

test('after 30 s a focus refetches ["posts-fresh"] too, and it polls every 60 s while ["posts"] does not', async () => {
  jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
  try {
    const author = newAuthor();
    const [first] = await insertPosts(author, [{ title: `first ${author.tag}` }]);
    const app = guideApp(author);
    render(<app.GuideProvider><PostsList /></app.GuideProvider>);
    await waitUnderFakeTimers(() => expect(shownTitles(author)).toEqual([first!.title]));
    await waitUnderFakeTimers(() => expect(app.queryClient.getQueryState(['posts-fresh'])?.status).toBe('success'));
    const fresh = () => cachedTitles(app.queryClient.getQueryData<Post[]>(['posts-fresh']), author);

    const [second] = await insertPosts(author, [{ title: `second ${author.tag}` }]);
    act(() => void jest.advanceTimersByTime(30_000));
    expect(app.queryClient.getQueryState(['posts-fresh'])?.isStale).toBe(true);
    act(() => void fireEvent.focus(window));
    await waitUnderFakeTimers(() => expect(fresh()).toContain(second!.title));
    await waitUnderFakeTimers(() => expect(shownTitles(author)).toEqual([second!.title, first!.title]));
    expect(app.fetches('keyed(["posts-fresh"])')).toBe(2);

    // The poll: 60 s after its last fetch, ['posts-fresh'] is fetched again; ['posts'] has no interval.
    const [third] = await insertPosts(author, [{ title: `third ${author.tag}` }]);
    const postsFetches = app.fetches('keyed(["posts"])');
    await act(async () => void jest.advanceTimersByTime(60_000));
    await waitUnderFakeTimers(() => expect(fresh()).toContain(third!.title));
    expect(app.fetches('keyed(["posts-fresh"])')).toBe(3);
    expect(app.fetches('keyed(["posts"])')).toBe(postsFetches);
    expect(shownTitles(author)).toEqual([second!.title, first!.title]);
    expect(app.nonSerializable()).toEqual([]);
  } finally {
    jest.useRealTimers();
  }
});

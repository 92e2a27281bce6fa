/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
// Guide example 7, "Periodic Sync", on the real stack. Every 5 minutes (fake timers) the queries
// keyed 'user-profile' / 'notifications' are refetched and others are not. On focus the guide
// refetches every stale query (`query.state.isStale`, our extension): a fresh one is left alone,
// one with `refetchOnWindowFocus: false` is refetched anyway, and one the hook refetches itself is
// asked twice (RTK skips the second). Without the focus listener each query's own option decides.
import { jest } from '@jest/globals';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import type { ComponentType } from 'react';
import { App, AppFixed } from '../../examples/guide/backgroundSync';
import type { Post } from '../../examples/guide/setup';
import { useQuery, type QueryKey, type UseQueryOptions } from '../../lib/react';
import { closeSql } from '../support/stack';
import { closeApps, guideApp, waitUnderFakeTimers, insertPosts, long, newAuthor, type Author, type GuideTestApp } from './supportA';

afterEach(closeApps);
afterAll(closeSql);

/** How many posts the author has, under `queryKey`. */
function PostCount({ queryKey, authorId, label, options }: { queryKey: QueryKey; authorId: string; label: string; options?: Pick<UseQueryOptions, 'staleTime' | 'refetchOnWindowFocus'> }) {
  const { data } = useQuery(queryKey, (c) => c.from<Post>('guide_posts').select('id').eq('author_id', authorId), options);
  return <p aria-label={label}>{data ? data.length : 'loading'}</p>;
}

const shown = (label: string) => screen.getByLabelText(label).textContent;
const keyOf = (key: QueryKey) => `keyed(${JSON.stringify(key)})`;
/** Refetches RTK skipped because one was running (a second request for the same entry). */
const skipped = (app: GuideTestApp, key: QueryKey) => app.queryActions('rejected', keyOf(key)).filter((a) => a.meta?.condition === true).length;

test("every 5 minutes the 'user-profile' and 'notifications' queries are refetched; the others are not", async () => {
  jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
  try {
    const author = newAuthor();
    await insertPosts(author, [{ title: `first ${author.tag}` }]);
    const app = guideApp(author);
    const keys = { Profile: ['user-profile', author.id], Notifications: ['notifications', author.id], Posts: ['posts', author.id] };
    render(
      <app.GuideProvider>
        <App />
        {Object.entries(keys).map(([label, key]) => <PostCount key={label} queryKey={key} authorId={author.id} label={label} options={{ staleTime: Infinity }} />)}
      </app.GuideProvider>,
    );
    for (const label of Object.keys(keys)) await waitUnderFakeTimers(() => expect(shown(label)).toBe('1'));

    await insertPosts(author, [{ title: `second ${author.tag}` }]);
    await act(async () => void jest.advanceTimersByTime(4 * 60 * 1000));
    expect(app.queryClient.isFetching()).toBe(0);
    await act(async () => void jest.advanceTimersByTime(60 * 1000));
    await waitUnderFakeTimers(() => expect([shown('Profile'), shown('Notifications')]).toEqual(['2', '2']));
    await waitUnderFakeTimers(() => expect(app.queryClient.isFetching()).toBe(0));
    expect(shown('Posts')).toBe('1');
    expect([app.fetches(keyOf(keys.Profile)), app.fetches(keyOf(keys.Notifications)), app.fetches(keyOf(keys.Posts))]).toEqual([2, 2, 1]);
    expect(app.nonSerializable()).toEqual([]);
  } finally {
    jest.useRealTimers();
  }
});

/** Three queries (fresh; stale with refetchOnWindowFocus false; stale with the default) under `Root`; a row added; a focus. */
async function focusWith(author: Author, Root: ComponentType) {
  await insertPosts(author, [{ title: `first ${author.tag}` }]);
  const app = guideApp(author);
  const keys = { Fresh: ['posts', 'fresh'], NoFocus: ['posts', 'no-focus'], Default: ['posts', 'default'] };
  render(
    <app.GuideProvider>
      <Root />
      <PostCount queryKey={keys.Fresh} authorId={author.id} label="Fresh" options={{ staleTime: Infinity }} />
      <PostCount queryKey={keys.NoFocus} authorId={author.id} label="NoFocus" options={{ refetchOnWindowFocus: false }} />
      <PostCount queryKey={keys.Default} authorId={author.id} label="Default" />
    </app.GuideProvider>,
  );
  for (const label of Object.keys(keys)) await waitFor(() => expect(shown(label)).toBe('1'), long);
  expect(app.queryClient.getQueryCache().findAll({ queryKey: ['posts'] }).map((query) => [query.queryKey[1], query.state.isStale]).sort()).toEqual([['default', true], ['fresh', false], ['no-focus', true]]);
  await insertPosts(author, [{ title: `second ${author.tag}` }]);
  act(() => void fireEvent.focus(window));
  await waitFor(() => expect(shown('Default')).toBe('2'), long);
  await waitFor(() => expect(app.queryClient.isFetching()).toBe(0), long);
  return { app, keys };
}

test('as written, on focus: every stale query is refetched, even one with refetchOnWindowFocus: false, and the default one is asked twice', async () => {
  const { app, keys } = await focusWith(newAuthor(), App);
  expect(shown('NoFocus')).toBe('2');
  expect(shown('Fresh')).toBe('1');
  expect([app.fetches(keyOf(keys.Fresh)), app.fetches(keyOf(keys.NoFocus)), app.fetches(keyOf(keys.Default))]).toEqual([1, 2, 2]);
  // The guide's listener and the hook's own focus refetch both asked for it; RTK ran one.
  expect(skipped(app, keys.Default)).toBe(1);
  expect(app.nonSerializable()).toEqual([]);
});

test("without the guide's focus listener, each query's own option decides, and nothing is asked twice", async () => {
  const { app, keys } = await focusWith(newAuthor(), AppFixed);
  expect([shown('Fresh'), shown('NoFocus')]).toEqual(['1', '1']);
  expect([app.fetches(keyOf(keys.Fresh)), app.fetches(keyOf(keys.NoFocus)), app.fetches(keyOf(keys.Default))]).toEqual([1, 1, 2]);
  expect(skipped(app, keys.Default)).toBe(0);
  expect(app.nonSerializable()).toEqual([]);
});

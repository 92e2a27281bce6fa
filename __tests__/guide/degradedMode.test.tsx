/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
/**
 * The guide's Graceful Degradation against the real stack. As written: the banner shows and stays,
 * but only because every query now has staleTime Infinity (a focus no longer refetches anything, and
 * nothing resets it); with staleTime 0 the banner's own `() => null` refetch on focus removes it.
 * With rtk-postgrest: realtime cut at a TCP proxy makes useSyncStatus 'degraded' while the live list
 * is polled, and 'synced' again when it is back.
 */
import { fireEvent } from '@testing-library/react';
import { AppStatusIndicator, DegradedBanner, LivePosts, Posts, SyncFailureButton } from '../../examples/guide/degradedMode';
import { startFaultProxy } from '../support/faultProxy';
import { testStack } from '../support/stack';
import { afterThisTest, fire, guideApp, guideTests, insertPosts, texts, until } from './supportB';

guideTests();

const MESSAGE = 'Using cached data. Some information may be outdated.';

it('as written: handleSyncFailure shows the banner, which survives a focus because the defaults became staleTime: Infinity for every query, for good', async () => {
  const app = guideApp();
  await insertPosts(app.author, ['first']);
  const view = app.render(
    <>
      <AppStatusIndicator />
      <SyncFailureButton />
      <Posts authorId={app.author} />
    </>,
  );
  const posts = () => texts(view.getByRole('list', { name: 'Plain posts' }));
  await until(() => expect(posts()).toEqual(['first']));
  expect(view.queryByText(MESSAGE)).toBeNull();
  fireEvent.click(view.getByRole('button', { name: 'Sync failed (synced)' }));
  expect(view.getByText(MESSAGE)).toBeTruthy();
  expect(view.getByRole('button', { name: 'Sync failed (degraded)' })).toBeTruthy();

  fire('focus');
  // The banner's reader re-rendered with the new defaults: its focus refetch is skipped.
  expect(app.fetchesOf(['app-status'])).toBe(1);
  expect(view.getByText(MESSAGE)).toBeTruthy();

  // (The mounted list hasn't re-rendered since: it kept its staleTime 0 and refetched, as in TanStack.)
  await until(() => expect(app.queryClient.isFetching()).toBe(0));
  // Every query mounted from now on uses cached data forever: a remounted list doesn't fetch the new row.
  await insertPosts(app.author, ['second']);
  const fetches = app.fetchesOf(['plain-posts', app.author]);
  view.rerender(<app.GuideProvider><AppStatusIndicator /></app.GuideProvider>);
  view.rerender(<app.GuideProvider><AppStatusIndicator /><Posts authorId={app.author} /></app.GuideProvider>);
  expect(posts()).toEqual(['first']);
  await until(() => expect(app.fetchesOf(['plain-posts', app.author])).toBe(fetches));
  expect(posts()).toEqual(['first']);
  expect(app.queryClient.getDefaultOptions()).toEqual({ queries: { staleTime: Infinity, retry: false } });
});

it('as written, with staleTime 0: the status set in the cache is wiped by the banner\'s own refetch on focus', async () => {
  const app = guideApp();
  const view = app.render(<AppStatusIndicator />);
  await until(() => expect(app.queryClient.getQueryState(['app-status'])?.status).toBe('success'));
  app.queryClient.setQueryData(['app-status'], { syncStatus: 'degraded', message: MESSAGE });
  await until(() => expect(view.getByText(MESSAGE)).toBeTruthy());
  fire('focus');
  await until(() => expect(view.queryByText(MESSAGE)).toBeNull());
  expect(app.queryClient.getQueryData(['app-status'])).toBeNull();
});

it('with rtk-postgrest: realtime cut → useSyncStatus is degraded and the live list is polled; realtime back → synced', async () => {
  const target = new URL(testStack().realtimeUrl);
  const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
  afterThisTest(() => proxy.close());
  const app = guideApp({
    realtimeUrl: testStack().realtimeUrl.replace(/:\d+/, `:${proxy.port}`),
    sync: { degradedAfterMs: 300, pollIntervalMs: 300, heartbeatIntervalMs: 300, timeoutMs: 1000, reconnect: { minDelayMs: 50, maxDelayMs: 200 } },
  });
  await insertPosts(app.author, ['first']);
  const view = app.render(
    <>
      <DegradedBanner />
      <LivePosts authorId={app.author} />
    </>,
  );
  const posts = () => texts(view.getByRole('list', { name: 'Posts' }));
  await until(() => expect(posts()).toEqual(['first']));
  await until(() => expect(app.sync.selectors.selectSyncStatus(app.store.getState()).syncStatus).toBe('synced'));
  expect(view.queryByRole('status')).toBeNull();

  proxy.mode = 'refuse';
  proxy.cutAll();
  await until(() => expect(view.getByRole('status').textContent).toContain('Live updates are interrupted'));
  // Polled while degraded: a row written now still shows.
  await insertPosts(app.author, ['second']);
  await until(() => expect(posts()).toEqual(['first', 'second']));

  proxy.mode = 'pass';
  await until(() => expect(view.queryByRole('status')).toBeNull());
  expect(app.sync.selectors.selectSyncStatus(app.store.getState()).syncStatus).toBe('synced');
});

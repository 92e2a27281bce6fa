/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
/**
 * The guide's Connection-aware Sync against the real stack, with a fake clock (only `Date`; the
 * network and timers are real): on `online` the guide refetches entries older than 30 s, but
 * shows "Last sync" before the refetch has landed (and even when nothing was refetched); awaiting
 * the refetch fixes that; useSyncStatus follows offline / online and the live list catches up.
 */
import { jest } from '@jest/globals';
import { Screen, LivePosts, LibrarySyncStatus, useConnectionAwareSync, useConnectionAwareSyncAwaited, type ScreenRender } from '../../examples/guide/connectionAware';
import { afterThisTest, fire, guideApp, guideTests, insertPosts, texts, until } from './supportB';

guideTests();

/** Fakes `Date` only (frozen until moved by setSystemTime); timers and I/O stay real. */
function fakeClock(): void {
  jest.useFakeTimers({
    doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'requestAnimationFrame', 'cancelAnimationFrame', 'requestIdleCallback', 'cancelIdleCallback', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'],
  });
  afterThisTest(() => void jest.useRealTimers());
}

async function screen(useSync: () => { lastSyncTime: Date | null }) {
  fakeClock();
  const app = guideApp();
  await insertPosts(app.author, ['first']);
  const log: ScreenRender[] = [];
  const view = app.render(<Screen authorId={app.author} useSync={useSync} log={log} />);
  const posts = () => texts(view.getByRole('list', { name: 'Posts' }));
  await until(() => expect(posts()).toEqual(['first']));
  const key = ['posts', app.author];
  return { app, log, view, posts, key };
}

it('as written: "Last sync" is set on online though nothing was refetched, and after 30 s it shows before the new data has landed', async () => {
  const { app, log, posts, key } = await screen(useConnectionAwareSync);
  expect(app.fetchesOf(key)).toBe(1);

  // Online within 30 s: the entry is fresh, nothing is fetched, yet "Last sync" is shown.
  fire('online');
  expect(app.fetchesOf(key)).toBe(1);
  expect(log.at(-1)).toEqual({ lastSync: Date.now(), titles: ['first'] });

  await insertPosts(app.author, ['second']);
  jest.setSystemTime(Date.now() + 31_000);
  const mark = log.length;
  fire('online');
  expect(app.fetchesOf(key)).toBe(2);
  // The new time is on screen with the old rows.
  expect(log.at(-1)).toEqual({ lastSync: Date.now(), titles: ['first'] });
  await until(() => expect(posts()).toEqual(['first', 'second']));
  expect(log.slice(mark).filter((render) => render.lastSync === Date.now()).map((render) => render.titles)).toContainEqual(['first']);
});

it('awaiting refetchQueries: "Last sync" only ever shows with the data it refetched', async () => {
  const { app, log, posts, key, view } = await screen(useConnectionAwareSyncAwaited);
  await insertPosts(app.author, ['second']);
  jest.setSystemTime(Date.now() + 31_000);
  const mark = log.length;
  fire('online');
  expect(app.fetchesOf(key)).toBe(2);
  expect(view.queryByText(/Last sync/)).toBeNull();
  await until(() => expect(view.queryByText(/Last sync/)).not.toBeNull());
  expect(posts()).toEqual(['first', 'second']);
  const withTime = log.slice(mark).filter((render) => render.lastSync !== null);
  expect(withTime.length).toBeGreaterThan(0);
  expect(withTime.every((render) => render.titles.join() === 'first,second')).toBe(true);
});

it('with rtk-postgrest: useSyncStatus shows Offline on offline, Connected on online, and the live list has the row written meanwhile', async () => {
  // The sync middleware follows the window's online / offline events here.
  const app = guideApp({ environment: undefined });
  await insertPosts(app.author, ['first']);
  const view = app.render(
    <>
      <LibrarySyncStatus />
      <LivePosts authorId={app.author} />
    </>,
  );
  const posts = () => texts(view.getByRole('list', { name: 'Posts' }));
  await until(() => expect(posts()).toEqual(['first']));
  await until(() => expect(view.getByText(/Connected \(synced\)/)).toBeTruthy());
  expect(view.getByText(/Last sync:/)).toBeTruthy();

  fire('offline');
  await until(() => expect(view.getByText(/Offline \(offline\)/)).toBeTruthy());
  await insertPosts(app.author, ['second']);
  fire('online');
  await until(() => expect(view.getByText(/Connected \(synced\)/)).toBeTruthy());
  await until(() => expect(posts()).toEqual(['first', 'second']));
});

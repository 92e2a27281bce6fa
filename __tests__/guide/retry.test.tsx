/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
/**
 * The guide's Automatic Retry with Backoff against the real stack, with fake timers (the network is
 * real; a TCP proxy answers the first requests with a 400). The guide retries a 4xx, each time after
 * 2^errorUpdateCount s, and errorUpdateCount never resets after the entry recovers.
 */
import { jest } from '@jest/globals';
import { act } from '@testing-library/react';
import { RetriedPosts } from '../../examples/guide/retry';
import { startFaultProxy } from '../support/faultProxy';
import { testStack } from '../support/stack';
import { afterThisTest, guideApp, guideTests, insertPosts, texts, until } from './supportB';

guideTests();

const advance = (ms: number) => act(() => void jest.advanceTimersByTime(ms));

it('a 400 is retried every minute after 2^errorUpdateCount s; after it recovers, errorUpdateCount stays', async () => {
  const target = new URL(testStack().postgrestUrl);
  const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
  afterThisTest(() => proxy.close());
  jest.useFakeTimers({ doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'requestAnimationFrame', 'cancelAnimationFrame'] });
  afterThisTest(() => void jest.useRealTimers());
  const app = guideApp({ postgrestUrl: proxy.url });
  await insertPosts(app.author, ['first']);
  const bad = JSON.stringify({ code: '42703', message: 'column does not exist', details: null, hint: null });
  proxy.respondNext(3, 400, bad);
  const view = app.render(<RetriedPosts authorId={app.author} />);
  const status = () => view.getByLabelText('Status').textContent;
  const key = ['posts', app.author];
  await until(() => expect(status()).toBe('error 1'));

  // The check a minute later schedules the refetch 2 s on (2^1); nothing before.
  advance(60_000);
  advance(1_999);
  expect(app.fetchesOf(key)).toBe(1);
  advance(1);
  expect(app.fetchesOf(key)).toBe(2);
  await until(() => expect(status()).toBe('error 2'));

  // The next check (at 120 s) waits 4 s (2^2).
  advance(58_000 + 3_999);
  expect(app.fetchesOf(key)).toBe(2);
  advance(1);
  await until(() => expect(status()).toBe('error 3'));

  // The next (at 180 s) waits 8 s; the proxy passes again: the list shows, and errorUpdateCount is still 3.
  advance(56_000 + 7_999);
  expect(app.fetchesOf(key)).toBe(3);
  advance(1);
  await until(() => expect(status()).toBe('ok 3'));
  expect(texts(view.getByRole('list', { name: 'Posts' }))).toEqual(['first']);
  expect(app.queryClient.getQueryState(key)).toMatchObject({ status: 'success', errorUpdateCount: 3, fetchFailureCount: 0 });
});

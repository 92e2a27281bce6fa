/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
/**
 * The guide's Batched Updates against the real stack: three batchUpdate calls in one handler are one
 * `rtkPostgrest/queryClient/dataSet` action carrying the three entries (the later timeouts flush
 * nothing); calls in two ticks are two actions; the realtime usage with its update logic filled in
 * adds the inserted rows to the list.
 */
import { fireEvent } from '@testing-library/react';
import { Counters, RealtimeBatchedPosts } from '../../examples/guide/batchedUpdates';
import { sql } from '../support/stack';
import { guideApp, guideTests, insertPosts, texts, until } from './supportB';

guideTests();

it('three batchUpdate calls in one tick are one dataSet action with three entries; two ticks, two actions', async () => {
  const app = guideApp();
  const view = app.render(<Counters />);
  const counters = () => view.getByLabelText('Counters').textContent;
  await until(() => expect(counters()).toBe('0 0 0'));
  const before = app.dataSets().length;
  fireEvent.click(view.getByRole('button', { name: 'Bump all' }));
  // Nothing yet: the batch runs on the timeout.
  expect(counters()).toBe('0 0 0');
  await until(() => expect(counters()).toBe('1 1 1'));
  // Let the other two timeouts run too: their batches are empty and dispatch nothing.
  await until(() => expect(app.dataSets().length - before).toBe(1));
  expect(app.dataSets().at(-1)!.payload.entries.map((entry) => entry.queryCacheKey)).toEqual(['keyed(["counter","a"])', 'keyed(["counter","b"])', 'keyed(["counter","c"])']);

  fireEvent.click(view.getByRole('button', { name: 'Bump all' }));
  await until(() => expect(counters()).toBe('2 2 2'));
  fireEvent.click(view.getByRole('button', { name: 'Bump all' }));
  await until(() => expect(counters()).toBe('3 3 3'));
  expect(app.dataSets().length - before).toBe(3);
});

it('the realtime usage, with the update logic filled in, adds the rows inserted in one statement', async () => {
  const app = guideApp();
  await insertPosts(app.author, ['first']);
  const view = app.render(<RealtimeBatchedPosts authorId={app.author} />);
  const posts = () => texts(view.getByRole('list', { name: 'Posts' }));
  await until(() => expect(posts()).toEqual(['first']));
  await until(() => expect(app.sync.selectors.selectChannel(app.store.getState(), 'posts-batch')?.changesLive).toBe(true));
  const before = app.dataSets().length;
  await sql(`insert into guide_posts (author_id, title) select $1, t from unnest(array['a', 'b', 'c']) as t`, [app.author]);
  await until(() => expect(posts()).toEqual(['first', 'a', 'b', 'c']));
  // However the changes arrived, no batch was empty-handed: at most one action per change.
  const batches = app.dataSets().slice(before);
  expect(batches.length).toBeGreaterThanOrEqual(1);
  expect(batches.every((action) => action.payload.entries.length === 1 && action.payload.entries[0]!.queryCacheKey === 'keyed(["posts"])')).toBe(true);
});

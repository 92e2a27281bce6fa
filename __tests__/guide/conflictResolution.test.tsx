/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
/**
 * The guide's Optimistic Update Conflicts against the real stack. As written: a concurrent change is
 * overwritten without a conflict; a failed write with no earlier data keeps its optimistic data;
 * when something does answer CONFLICT (a gateway, here the fault proxy), refetchQueries(['post', id])
 * fetches nothing and the "merge" is the optimistic data, in the cache only. Corrected by hand (a
 * version check and a mounted ['post', id] query) and the library way (.optimistic conflict merge):
 * both fields survive in the database.
 */
import { jest } from '@jest/globals';
import { ConflictLog, PostRows, PostView, useLibraryPostUpdate, usePostMutationWithConflictResolution, usePostMutationWithVersionCheck } from '../../examples/guide/conflictResolution';
import { startFaultProxy } from '../support/faultProxy';
import { sql, testStack } from '../support/stack';
import { afterThisTest, guideApp, guideTests, mutationHarness, insertPosts, postRow, texts, until } from './supportB';

guideTests();

it('as written: a concurrent change is overwritten with no conflict; a refused write with no earlier data stays in the cache', async () => {
  const app = guideApp();
  const [post] = await insertPosts(app.author, ['original']);
  const { view, run } = mutationHarness(app, usePostMutationWithConflictResolution);
  await sql(`update guide_posts set title = 'theirs', version = version + 1 where id = $1`, [post!.id]);
  await run({ id: post!.id, title: 'mine' });
  expect(view.getByLabelText('Mutation').textContent).toBe('success');
  expect(await postRow(post!.id)).toMatchObject({ title: 'mine', version: 2 });

  // A write PostgreSQL refuses (empty title): no ['post', id] data before it, so no rollback.
  const [other] = await insertPosts(app.author, ['kept']);
  const error = await run({ id: other!.id, title: '' });
  expect(error).toMatchObject({ code: '23514' });
  expect(view.getByLabelText('Mutation').textContent).toBe('error');
  expect(app.queryClient.getQueryData(['post', other!.id])).toMatchObject({ id: other!.id, title: '' });
  expect((await postRow(other!.id)).title).toBe('kept');
});

it('as written, with a CONFLICT answer: refetchQueries([\'post\', id]) fetches nothing and the cache keeps the optimistic title the server never got', async () => {
  const target = new URL(testStack().postgrestUrl);
  const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
  afterThisTest(() => proxy.close());
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  afterThisTest(() => warn.mockRestore());
  const app = guideApp({ postgrestUrl: proxy.url });
  const [post] = await insertPosts(app.author, ['original']);
  const { run } = mutationHarness(app, usePostMutationWithConflictResolution);
  // A first edit succeeds: ['post', id] now holds its optimistic data (the branch needs previousPost).
  await run({ id: post!.id, title: 'first edit' });
  expect((await postRow(post!.id)).title).toBe('first edit');

  const sets = app.dataSets().length;
  proxy.respondNext(1, 409, JSON.stringify({ code: 'CONFLICT', message: 'the row changed', details: null, hint: null }));
  const error = await run({ id: post!.id, title: 'second edit' });
  expect(error).toMatchObject({ status: 409, code: 'CONFLICT' });
  // onMutate's set, then the branch's resolveConflict set (after a refetch that sent nothing).
  await until(() => expect(app.dataSets().length - sets).toBe(2));
  expect(app.fetchesOf(['post', post!.id])).toBe(0);
  expect(warn).toHaveBeenCalledWith(expect.stringContaining(`["post",${post!.id}] has no query function`));
  expect(app.queryClient.getQueryData(['post', post!.id])).toMatchObject({ id: post!.id, title: 'second edit' });
  expect((await postRow(post!.id)).title).toBe('first edit');
});

it('corrected: with a version check and ["post", id] mounted, the conflict reads the server\'s row and writes the merge', async () => {
  const app = guideApp();
  const [post] = await insertPosts(app.author, ['original']);
  const { view, run } = mutationHarness(app, usePostMutationWithVersionCheck, <PostView id={post!.id} />);
  const shown = () => view.getByLabelText('Post').textContent;
  await until(() => expect(shown()).toBe('original / (no body) (v1)'));
  await sql(`update guide_posts set body = 'their body', version = version + 1 where id = $1`, [post!.id]);
  const error = await run({ id: post!.id, version: 1, title: 'my title' });
  expect(error).toMatchObject({ code: 'PGRST116' });
  expect(await postRow(post!.id)).toMatchObject({ title: 'my title', body: 'their body', version: 3 });
  await until(() => expect(shown()).toBe('my title / their body (v3)'));
});

it('with rtk-postgrest: .optimistic({ conflict: { column: "version", strategy: "merge" } }) keeps both changes; useConflicts records it', async () => {
  const app = guideApp();
  const [post] = await insertPosts(app.author, ['original']);
  const { view, run } = mutationHarness(app, useLibraryPostUpdate, <><PostRows id={post!.id} /><ConflictLog /></>);
  const shown = () => view.getByLabelText('Post').textContent;
  await until(() => expect(shown()).toBe('original / (no body) (v1)'));
  await sql(`update guide_posts set body = 'their body', version = version + 1 where id = $1`, [post!.id]);
  await run({ id: post!.id, version: 1, title: 'my title' });
  await until(async () => expect(await postRow(post!.id)).toMatchObject({ title: 'my title', body: 'their body' }));
  await until(() => expect(shown()).toMatch(/^my title \/ their body \(v\d\)$/));
  expect(texts(view.getByRole('list', { name: 'Conflicts' }))).toHaveLength(1);
});

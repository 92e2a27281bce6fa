/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
/**
 * The guide's Selective Query Updates against the real stack: the edit shows in the list, the
 * item and every filtered-posts entry at once, the database never sees it, and the next refetch
 * (plain entries) or the row's next change (a live entry) puts the server's value back.
 */
import { fireEvent } from '@testing-library/react';
import { EditField, PostItem, PostsList, PublishedPosts } from '../../examples/guide/selectiveUpdates';
import { guideApp, guideTests, insertPosts, postRow, texts, until } from './supportB';
import { sql } from '../support/stack';

guideTests();

it('updatePostField edits the list, the item and the filtered lists in the cache only; the next refetch brings the server\'s title back', async () => {
  const app = guideApp();
  const [first, second] = await insertPosts(app.author, ['first', 'second']);
  const view = app.render(
    <>
      <PostsList authorId={app.author} />
      <PostItem id={first!.id} />
      <PublishedPosts authorId={app.author} />
      <EditField postId={first!.id} field="title" value="client edit" />
    </>,
  );
  const shown = () => ({ posts: texts(view.getByRole('list', { name: 'Posts' })), post: view.getByLabelText('Post').textContent, published: texts(view.getByRole('list', { name: 'Published' })) });
  await until(() => expect(shown()).toEqual({ posts: ['first', 'second'], post: 'first', published: ['first', 'second'] }));
  const before = app.dataSets().length;
  fireEvent.click(view.getByRole('button', { name: 'Edit title' }));
  expect(shown()).toEqual({ posts: ['client edit', 'second'], post: 'client edit', published: ['client edit', 'second'] });
  // Three calls, three actions (setQueriesData is one); nothing was sent.
  expect(app.dataSets().length - before).toBe(3);
  expect((await postRow(first!.id)).title).toBe('first');
  expect((await postRow(second!.id)).title).toBe('second');

  await app.queryClient.refetchQueries({ type: 'active' });
  await until(() => expect(shown()).toEqual({ posts: ['first', 'second'], post: 'first', published: ['first', 'second'] }));
});

it('on a live list the edit lasts until the row changes in the database; with no item query the item update creates nothing', async () => {
  const app = guideApp();
  const [first] = await insertPosts(app.author, ['first', 'second']);
  const view = app.render(
    <>
      <PostsList authorId={app.author} live />
      <EditField postId={first!.id} field="title" value="client edit" />
    </>,
  );
  const posts = () => texts(view.getByRole('list', { name: 'Posts' }));
  await until(() => expect(posts()).toEqual(['first', 'second']));
  await until(() => expect(app.sync.selectors.selectSyncStatus(app.store.getState()).lastSyncTime).not.toBeNull());
  fireEvent.click(view.getByRole('button', { name: 'Edit title' }));
  expect(posts()).toEqual(['client edit', 'second']);
  // The guide's item updater returns undefined for a missing entry: a no-op, no entry made.
  expect(app.queryClient.getQueryCache().findAll({ queryKey: ['post'] })).toEqual([]);

  // Another client changes the row's body: its new row replaces the edited one.
  await sql('update guide_posts set body = $2 where id = $1', [first!.id, 'new body']);
  await until(() => expect(posts()).toEqual(['first', 'second']));
  expect(app.queryClient.getQueryData<Array<{ body: string }>>(['posts'])![0]!.body).toBe('new body');
});

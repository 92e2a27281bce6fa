/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
/**
 * The guide's Version-based Updates against the real stack. As written: the read-then-write works
 * with the awaitable client; a stale version opens the cache-held dialog (which the reader's own
 * refetch on focus closes again); a write between the read and the write fails with PGRST116 and no
 * dialog. With rtk-postgrest: one conditional optimistic write; its conflict is in useConflicts.
 */
import { fireEvent } from '@testing-library/react';
import { PostRows } from '../../examples/guide/conflictResolution';
import { ConflictDialog, LibraryConflictDialog, useVersionedPostUpdate, useVersionedPostUpdateFixed } from '../../examples/guide/versionedUpdate';
import { sql } from '../support/stack';
import { fire, guideApp, guideTests, mutationHarness, insertPosts, postRow, until } from './supportB';

guideTests();

it('as written: the version read with the awaitable client, then the conditional write; a stale version opens the dialog, and a focus closes it again', async () => {
  const app = guideApp();
  const [post] = await insertPosts(app.author, ['original']);
  const { view, run } = mutationHarness(app, useVersionedPostUpdate, <ConflictDialog />);
  const dialog = () => view.getByLabelText('Conflict dialog').textContent;
  await until(() => expect(dialog()).toBe('no conflict'));
  expect(await run({ id: post!.id, version: 1, title: 'mine' })).toMatchObject({ id: post!.id, title: 'mine', version: 2 });
  expect(await postRow(post!.id)).toMatchObject({ title: 'mine', version: 2 });

  // Somebody else writes; this client still says version 2.
  await sql(`update guide_posts set title = 'theirs', version = version + 1 where id = $1`, [post!.id]);
  const error = await run({ id: post!.id, version: 2, title: 'mine again' });
  expect(error).toMatchObject({ message: 'CONFLICT: Post has been updated by another user' });
  await until(() => expect(dialog()).toBe('CONFLICT: Post has been updated by another user'));
  expect(await postRow(post!.id)).toMatchObject({ title: 'theirs', version: 3 });

  // The dialog's reader has staleTime 0: a focus refetches `() => null` over it.
  fire('focus');
  await until(() => expect(dialog()).toBe('no conflict'));
});

it('as written: a write between the read and the write makes .single() fail with PGRST116, and no dialog opens', async () => {
  let between: (() => Promise<unknown>) | undefined;
  // After the version read has been answered, another client writes the row.
  const fetchFn: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (between && url.includes('select=version')) {
      const write = between;
      between = undefined;
      await write();
    }
    return response;
  };
  const app = guideApp({ fetchFn });
  const [post] = await insertPosts(app.author, ['original']);
  const { view, run } = mutationHarness(app, useVersionedPostUpdate, <ConflictDialog />);
  const dialog = () => view.getByLabelText('Conflict dialog').textContent;
  await until(() => expect(dialog()).toBe('no conflict'));
  between = () => sql(`update guide_posts set title = 'theirs', version = version + 1 where id = $1`, [post!.id]);
  const error = await run({ id: post!.id, version: 1, title: 'mine' });
  expect(between).toBeUndefined();
  expect(error).toMatchObject({ status: 406, code: 'PGRST116' });
  expect((error as Error).message).not.toContain('CONFLICT');
  expect(dialog()).toBe('no conflict');
  expect(await postRow(post!.id)).toMatchObject({ title: 'theirs', version: 2 });
});

it('with rtk-postgrest: one conditional optimistic write; the conflict shows in useConflicts, and Keep mine writes it', async () => {
  const app = guideApp();
  const [post] = await insertPosts(app.author, ['original']);
  const { view, run } = mutationHarness(app, useVersionedPostUpdateFixed, <><PostRows id={post!.id} /><LibraryConflictDialog /></>);
  const dialog = () => view.getByLabelText('Conflict dialog').textContent;
  await until(() => expect(view.getByLabelText('Post').textContent).toBe('original / (no body) (v1)'));
  await sql(`update guide_posts set title = 'theirs', version = version + 1 where id = $1`, [post!.id]);
  await run({ id: post!.id, version: 1, title: 'mine' });
  await until(() => expect(dialog()).toContain('mine “mine” vs theirs “theirs”'));
  expect(await postRow(post!.id)).toMatchObject({ title: 'theirs', version: 2 });
  fireEvent.click(view.getByRole('button', { name: 'Keep mine' }));
  await until(async () => expect(await postRow(post!.id)).toMatchObject({ title: 'mine', version: 3 }));
  await until(() => expect(dialog()).toBe('no conflict'));
});

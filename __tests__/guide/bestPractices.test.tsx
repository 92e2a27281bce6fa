/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
/**
 * The guide's Best Practices against the real stack: useQuery with plain async functions works
 * (their entries have no request); the chat's useRealtime handler hears a change but the chat list
 * doesn't change until a refetch (a live query does); removeQueries(['temporary-data']) on unmount
 * removes the entry when nothing uses it and keeps it while a component still does; the bounded
 * subscription hears only its author's rows.
 */
import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { BoundedSync, Chat, heard, LiveChat, Profile, session, TemporaryData, TemporaryDataOwner } from '../../examples/guide/bestPractices';
import { afterThisTest, guideApp, guideTests, insertPosts, texts, until } from './supportB';

guideTests();

it('useQuery with plain async functions: the profile and notifications render; the entries carry no request', async () => {
  const app = guideApp();
  session.userId = app.author;
  await insertPosts(app.author, ['hello', 'again']);
  const view = app.render(<Profile />);
  await until(() => expect(view.getByText('2 posts')).toBeTruthy());
  await until(() => expect(texts(view.container)).toEqual(['hello', 'again']));
  for (const key of [['user-profile'], ['notifications']]) {
    const query = app.queryClient.getQueryCache().find({ queryKey: key })!;
    expect(query.state.status).toBe('success');
    expect(query.originalArgs).toEqual({ queryKey: key, request: null });
  }
});

it('the chat: useRealtime hears the insert, but the list shows it only after a refetch; a live query shows it by itself', async () => {
  const app = guideApp();
  session.userId = app.author;
  await insertPosts(app.author, ['first']);
  const view = app.render(
    <>
      <Chat />
      <LiveChat userId={app.author} />
    </>,
  );
  const chat = () => texts(view.getByRole('list', { name: 'Chat' }));
  const live = () => texts(view.getByRole('list', { name: 'Live chat' }));
  await until(() => expect([chat(), live()]).toEqual([['first'], ['first']]));
  await until(() => expect(app.sync.selectors.selectChannel(app.store.getState(), 'chat')?.changesLive).toBe(true));
  const [second] = await insertPosts(app.author, ['second']);
  await until(() => expect(heard.messages.some((payload) => payload.new.id === second!.id)).toBe(true));
  await until(() => expect(live()).toEqual(['first', 'second']));
  // handleMessage heard it; nothing put it in ['messages'].
  expect(chat()).toEqual(['first']);
  await app.queryClient.refetchQueries(['messages'], { throwOnError: true });
  await until(() => expect(chat()).toEqual(['first', 'second']));
});

it('removeQueries([\'temporary-data\']) on unmount keeps the entry while another component uses it, and removes it once nothing does', async () => {
  const app = guideApp();
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  afterThisTest(() => warn.mockRestore());
  // Two separate roots: the reader and the owner of the cleanup unmount independently.
  const reader = app.render(<TemporaryData />);
  const owner = app.render(<TemporaryDataOwner />);
  await until(() => expect(reader.getByText('temporary data loaded')).toBeTruthy());
  owner.unmount();
  expect(app.queryClient.getQueryData(['temporary-data'])).toEqual({ loadedAt: expect.any(Number) });
  expect(warn).toHaveBeenCalledWith(expect.stringContaining('["temporary-data"] is still in use and was kept'));

  const owner2 = app.render(<TemporaryDataOwner />);
  reader.unmount();
  owner2.unmount();
  expect(app.queryClient.getQueryData(['temporary-data'])).toBeUndefined();
  expect(app.queryClient.getQueryCache().findAll({ queryKey: ['temporary-data'] })).toEqual([]);
});

it('useBoundedSync hears only its author\'s rows', async () => {
  const app = guideApp();
  const view = app.render(<BoundedSync userId={app.author} />);
  await until(() => expect(app.sync.selectors.selectChannel(app.store.getState(), 'user-data')?.changesLive).toBe(true));
  const other = randomUUID();
  // The other author's row commits first: had the filter let it through, it would arrive first.
  const [theirs] = await insertPosts(other, ['theirs']);
  const [mine] = await insertPosts(app.author, ['mine']);
  await until(() => expect(heard.userPosts.some((payload) => payload.new.id === mine!.id)).toBe(true));
  expect(heard.userPosts.some((payload) => payload.new.id === theirs!.id)).toBe(false);
  expect(heard.userPosts.every((payload) => payload.new.author_id === app.author || payload.old.author_id === app.author)).toBe(true);
  view.unmount();
});

/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
// Guide example 6, "Real-time Presence", on the real stack. As written it throws at its first
// render (`useRealtime` takes postgres_changes bindings only). Rewritten with usePresence: two
// users, each in their own app (store and socket), see each other in the document's room, with
// their names and avatars; when one leaves, the other sees one user online.
import { jest } from '@jest/globals';
import { render, waitFor, within } from '@testing-library/react';
import { randomUUID } from 'node:crypto';
import { CollaborativeEditor, CollaborativeEditorAsWritten, type PresenceUser } from '../../examples/guide/presence';
import { closeApps, guideApp, long, newAuthor } from './supportA';

afterEach(closeApps);

test("as written: the guide's presence binding is refused at the first render", () => {
  const app = guideApp(newAuthor());
  const reported = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    expect(() => render(<app.GuideProvider><CollaborativeEditorAsWritten documentId="doc" /></app.GuideProvider>)).toThrow(
      'useRealtime: event must be one of *, INSERT, UPDATE, DELETE, got "presence"',
    );
  } finally {
    reported.mockRestore();
  }
  // Nothing was subscribed.
  expect(app.sync.selectors.selectChannel(app.store.getState(), 'presence')).toBeUndefined();
});

test('rewritten with usePresence: two users in two apps see each other, with names and avatars; one leaves', async () => {
  const documentId = randomUUID();
  const [a, b] = [newAuthor(), newAuthor()];
  const ada: PresenceUser = { user_id: a.id, name: `Ada ${a.tag}`, avatar: `https://avatars.test/${a.id}.png` };
  const brian: PresenceUser = { user_id: b.id, name: `Brian ${b.tag}`, avatar: `https://avatars.test/${b.id}.png` };
  const [appA, appB] = [guideApp(a), guideApp(b)];
  const viewA = render(<appA.GuideProvider><CollaborativeEditor documentId={documentId} user={ada} /></appA.GuideProvider>);
  const viewB = render(<appB.GuideProvider><CollaborativeEditor documentId={documentId} user={brian} /></appB.GuideProvider>);
  const avatars = (view: typeof viewA) => within(view.container).queryAllByRole('img').map((img) => [img.getAttribute('alt'), img.getAttribute('src')]).sort();
  const both = [[ada.name, ada.avatar], [brian.name, brian.avatar]].sort();
  for (const view of [viewA, viewB]) {
    await waitFor(() => expect(within(view.container).getByText(/users? online/).textContent).toMatch(/^2 users online/), long);
    await waitFor(() => expect(avatars(view)).toEqual(both), long);
  }
  expect(appA.sync.selectors.selectChannel(appA.store.getState(), `document-${documentId}`)?.presence[b.id]?.[0]).toMatchObject({ user_id: b.id, name: brian.name });

  viewB.unmount();
  await waitFor(() => expect(within(viewA.container).getByText(/users? online/).textContent).toMatch(/^1 user online/), long);
  expect(avatars(viewA)).toEqual([[ada.name, ada.avatar]]);
  expect(appA.nonSerializable()).toEqual([]);
  expect(appB.nonSerializable()).toEqual([]);
});

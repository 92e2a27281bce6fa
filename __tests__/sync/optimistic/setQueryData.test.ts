/**
 * The query client's setQueryData on an entry under an optimistic layer: the edit goes beneath the
 * layer (optimistic/edit.ts), so a rollback takes back only the write and a commit keeps both.
 * In-memory PostgREST, fake socket; the pure function first.
 */
import { createQueryClient } from '../../../lib/api/queryClient';
import { from } from '../../../lib/postgrest';
import { baseUnderEdit } from '../../../lib/sync/optimistic/edit';
import { fakeStore, memoryPostgrest, until } from '../support/fakeRealtime';

const pk = ['id'];

test('baseUnderEdit: added, removed and changed rows go beneath; a pending insert is left to the layer; a hidden row stays in place', () => {
  const base = [{ id: 1, t: 'a' }, { id: 2, t: 'b' }, { id: 3, t: 'c' }];
  // Shown: row 2 hidden by a pending delete, row 9 a pending insert, row 1's title from a pending update.
  const shown = [{ id: 1, t: 'A (pending)' }, { id: 3, t: 'c' }, { id: 9, t: 'new (pending)' }];
  // The app: renames 3, removes nothing else, adds 7 at the front, edits the pending insert.
  const next = [{ id: 7, t: 'mine' }, { id: 1, t: 'A (pending)' }, { id: 3, t: 'C' }, { id: 9, t: 'edited' }];
  expect(baseUnderEdit(next, shown, base, pk)).toEqual([{ id: 7, t: 'mine' }, { id: 1, t: 'a' }, { id: 2, t: 'b' }, { id: 3, t: 'C' }]);
  // Removing a shown row removes it beneath.
  expect(baseUnderEdit([{ id: 1, t: 'A (pending)' }], shown, base, pk)).toEqual([{ id: 1, t: 'a' }, { id: 2, t: 'b' }]);
  // Data that is not keyed rows can't be taken apart.
  expect(baseUnderEdit({ count: 3 }, shown, base, pk)).toBeUndefined();
  expect(baseUnderEdit([{ t: 'no key' }], shown, base, pk)).toBeUndefined();
});

function held() {
  const postgrest = memoryPostgrest();
  postgrest.tables.notes = [{ id: 1, title: 'a' }, { id: 2, title: 'b' }];
  let answer: ((response: Response) => void) | undefined;
  postgrest.respondWith((_url, method) => (method === 'POST' ? new Promise<Response>((resolve) => (answer = resolve)) : undefined));
  const made = fakeStore(postgrest.fetchFn);
  const client = createQueryClient({ api: made.api, store: made.store });
  const reply = (status: number, body: unknown) => answer!(new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }));
  return { ...made, client, postgrest, reply, sent: () => answer !== undefined };
}

async function startList(made: ReturnType<typeof held>) {
  const list = made.client.prepare(['notes'], (c) => c.from('notes').select('*'));
  const subscription = made.store.dispatch(made.api.endpoints.keyed.initiate(list.arg));
  await subscription;
  return { unsubscribe: () => subscription.unsubscribe() };
}

test('an edit under a pending insert survives the insert\'s rollback, and the inserted row goes', async () => {
  const made = held();
  const subscription = await startList(made);
  const write = made.store.dispatch(made.api.endpoints.write.initiate(from('notes').insert({ id: 3, title: 'pending' }).optimistic()));
  expect(await until(() => made.sent())).toBe(true);
  expect(made.client.getQueryData(['notes'])).toEqual([{ id: 1, title: 'a' }, { id: 2, title: 'b' }, { id: 3, title: 'pending' }]);
  made.client.setQueryData<Array<{ id: number; title: string }>>(['notes'], (old = []) => old.map((row) => (row.id === 1 ? { ...row, title: 'edited' } : row)));
  expect(made.client.getQueryData(['notes'])).toEqual([{ id: 1, title: 'edited' }, { id: 2, title: 'b' }, { id: 3, title: 'pending' }]);
  made.reply(400, { code: '23514', message: 'check violated', details: null, hint: null });
  await write;
  expect(made.client.getQueryData(['notes'])).toEqual([{ id: 1, title: 'edited' }, { id: 2, title: 'b' }]);
  expect(made.warnings).toEqual([]);
  subscription.unsubscribe();
  made.store.dispatch(made.sync.actions.disconnect());
});

test('an edit under a pending insert that commits keeps both', async () => {
  const made = held();
  const subscription = await startList(made);
  const write = made.store.dispatch(made.api.endpoints.write.initiate(from('notes').insert({ id: 3, title: 'pending' }).optimistic()));
  expect(await until(() => made.sent())).toBe(true);
  made.client.setQueryData<Array<{ id: number; title: string }>>(['notes'], (old = []) => old.filter((row) => row.id !== 2));
  made.reply(201, [{ id: 3, title: 'pending' }]);
  await write;
  expect(made.client.getQueryData(['notes'])).toEqual([{ id: 1, title: 'a' }, { id: 3, title: 'pending' }]);
  subscription.unsubscribe();
  made.store.dispatch(made.sync.actions.disconnect());
});

test('data that is not keyed rows stands for the server data as a whole, with a warning', async () => {
  const made = held();
  const subscription = await startList(made);
  const write = made.store.dispatch(made.api.endpoints.write.initiate(from('notes').insert({ id: 3, title: 'pending' }).optimistic()));
  expect(await until(() => made.sent())).toBe(true);
  made.client.setQueryData(['notes'], [{ title: 'no key' }]);
  expect(made.warnings.some((w) => /no list of rows with their key/.test(w))).toBe(true);
  made.reply(400, { code: '23514', message: 'no', details: null, hint: null });
  await write;
  expect(made.client.getQueryData(['notes'])).toEqual([{ title: 'no key' }]);
  subscription.unsubscribe();
  made.store.dispatch(made.sync.actions.disconnect());
});

/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
/**
 * The optimistic hooks against the real stack: usePendingWrites marks a row pending from the
 * dispatch until the server confirms it, with a clientKey that survives the temporary → real key
 * swap; useConflicts shows an open conflict and `resolve` settles it (keep the server's row, or
 * write the client's again against the new version).
 */
import { act, render, waitFor } from '@testing-library/react';
import { Provider, useSelector } from 'react-redux';
import { from } from '../../lib/postgrest/index.js';
import { SyncProvider, useConflicts, usePendingWrites, type UseConflictsResult } from '../../lib/react/index.js';
import { sql } from '../support/stack.js';
import { stackSyncStore } from '../support/stackStore.js';
import { type OptItem, cleanupsAfterAll, tagger } from '../support/optimistic.js';

type Item = OptItem;

const cleanups = cleanupsAfterAll();

const makeStore = () => stackSyncStore(cleanups);

const newTag = tagger('hooks');

it('usePendingWrites marks an optimistic insert pending until the server confirms it; its clientKey survives the key swap', async () => {
  const tag = newTag();
  const harness = makeStore();
  const request = from<Item>('opt_items').select('*').eq('tag', tag).order('rank').order('id');
  await harness.store.dispatch(harness.api.endpoints.read.initiate(request as never));
  const renders: string[][] = [];
  function List() {
    const { isPending, clientKey, writes } = usePendingWrites('opt_items');
    const rows = (useSelector((state: unknown) => harness.api.endpoints.read.select(request as never)(state as never).data) ?? []) as Item[];
    renders.push(rows.map((row) => `${clientKey(row)}:${row.title}:${isPending(row) ? 'pending' : 'saved'}`));
    return <span data-testid="count">{writes.length}</span>;
  }
  const view = render(
    <Provider store={harness.store}>
      <SyncProvider sync={harness.sync}>
        <List />
      </SyncProvider>
    </Provider>,
  );
  let write: { unwrap(): Promise<unknown> } | undefined;
  act(() => {
    write = harness.store.dispatch(harness.api.endpoints.write.initiate(from('opt_items').insert({ list_id: 1, tag, title: 'new', rank: 1 }).select().optimistic() as never));
  });
  const shown = renders[renders.length - 1]!;
  expect(shown).toEqual([expect.stringMatching(/^\[0\.5\d*\]:new:pending$/)]);
  const temporaryKey = shown[0]!.split(':')[0];
  await act(async () => {
    await write!.unwrap();
  });
  await waitFor(() => expect(renders[renders.length - 1]).toEqual([`${temporaryKey}:new:saved`]));
  expect(view.getByTestId('count').textContent).toBe('0');
  // The row really has its server key now; only its React key stayed.
  const rows = harness.api.endpoints.read.select(request as never)(harness.store.getState() as never).data as Item[];
  expect(rows[0]!.id).toBeGreaterThan(0);
  view.unmount();
});

it('useConflicts shows an open conflict; resolve keeps the server row or writes the client\'s values against the new version', async () => {
  const tag = newTag();
  const [row] = (await sql(`insert into opt_items (list_id, tag, title, rank) values (1, $1, 'original', 1) returning *`, [tag])) as Item[];
  const harness = makeStore();
  const request = from<Item>('opt_items').select('*').eq('tag', tag).order('id');
  await harness.store.dispatch(harness.api.endpoints.read.initiate(request as never));
  let latest: UseConflictsResult | undefined;
  function Conflicts() {
    latest = useConflicts();
    return <ul>{latest.open.map((conflict) => <li key={conflict.id}>{`${String(conflict.local?.title)} vs ${String(conflict.server?.title)}`}</li>)}</ul>;
  }
  const view = render(
    <Provider store={harness.store}>
      <SyncProvider sync={harness.sync}>
        <Conflicts />
      </SyncProvider>
    </Provider>,
  );
  const conflictingUpdate = async (title: string) => {
    await sql(`update opt_items set title = 'theirs-' || $2, version = version + 1 where id = $1`, [row!.id, title]);
    await harness.store.dispatch(harness.api.endpoints.read.initiate(request as never, { forceRefetch: false }));
    const seen = (harness.api.endpoints.read.select(request as never)(harness.store.getState() as never).data as Item[])[0]!;
    await act(async () => {
      await harness.store
        .dispatch(harness.api.endpoints.write.initiate(from('opt_items').update({ title, version: seen.version + 1 }).eq('id', row!.id).optimistic({ conflict: { column: 'version' } }) as never))
        .unwrap()
        .catch(() => undefined);
    });
  };
  await conflictingUpdate('mine');
  await waitFor(() => expect(view.container.textContent).toBe('mine vs theirs-mine'));
  await act(async () => {
    await latest!.resolve(latest!.open[0]!.id, 'client');
  });
  expect(view.container.textContent).toBe('');
  expect(await sql(`select title, version from opt_items where id = $1`, [row!.id])).toEqual([{ title: 'mine', version: 3 }]);
  expect(latest!.conflicts).toEqual([expect.objectContaining({ status: 'resolved', resolution: 'client' })]);

  // Another conflict, settled by keeping the server's row: nothing is written.
  await harness.store.dispatch(harness.api.endpoints.read.initiate(request as never, { forceRefetch: true }));
  await conflictingUpdate('again');
  await waitFor(() => expect(latest!.open).toHaveLength(1));
  await act(async () => {
    await latest!.resolve(latest!.open[0]!.id, 'server');
  });
  expect(latest!.open).toEqual([]);
  expect(await sql(`select title from opt_items where id = $1`, [row!.id])).toEqual([{ title: 'theirs-again' }]);
  view.unmount();
});

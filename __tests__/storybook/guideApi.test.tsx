/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 */
// The "Guide API/useQuery next to RTK hooks" stories against the real test stack: the guide's hooks
// and RTK Query's hooks on one store. What each side lists, what the cache table (read from the
// store) says about the entries behind them, and which entries a write or an invalidation refetches.
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { composeStories } from '@storybook/react-vite';
import * as guideStories from '../../storybook/GuideApi.stories';
import { closeSql, sql } from '../support/stack';
import { demoUsersWithPosts as seed } from './demoUsers';

afterAll(closeSql);

const long = { timeout: 15_000 };

const region = (name: string) => within(screen.getByRole('region', { name }));
const titlesIn = (side: string) => [...screen.getByRole('region', { name: side }).querySelectorAll('li > strong')].map((el) => el.textContent ?? '');

/** The cache table's rows, by RTK Query endpoint. */
function cacheEntries(): Record<string, { key: string; request: string; madeBy: string; rows: string; active: string; fetched: string }> {
  const rows = region('Cache entries').getAllByRole('row').slice(1); // the first is the header
  const out: ReturnType<typeof cacheEntries> = {};
  for (const row of rows) {
    const [key, endpoint, madeBy, count, active, fetched] = [...row.querySelectorAll('td')];
    out[endpoint!.textContent!] = {
      key: key!.querySelector('code')!.textContent!,
      request: key!.querySelector('.meta')!.textContent!,
      madeBy: madeBy!.textContent!,
      rows: count!.textContent!,
      active: active!.textContent!,
      fetched: fetched!.textContent!,
    };
  }
  return out;
}

/** How many times the entry of each endpoint was fetched, as the table shows. */
function fetchedCounts(): Record<string, string> {
  return Object.fromEntries(Object.entries(cacheEntries()).map(([endpoint, entry]) => [endpoint, entry.fetched]));
}

/** Publishes from one side's form and waits for the write to succeed (the form clears its field then). */
async function publishFrom(side: string, title: string): Promise<void> {
  const field = region(side).getByRole('textbox', { name: 'Title' }) as HTMLInputElement;
  fireEvent.change(field, { target: { value: title } });
  await act(async () => fireEvent.click(region(side).getByRole('button', { name: 'Publish' })));
  await waitFor(() => expect(field.value).toBe(''), long);
}

describe('Guide API/useQuery next to RTK hooks', () => {
  it('Reads: useQuery and useReadQuery make two entries of one request in one store; a write on either side refetches both; invalidateQueries by key refetches only the keyed one', async () => {
    const { config, a, b, titles, tag } = await seed();
    const { Reads } = composeStories(guideStories, { parameters: { demoStack: config } });
    const view = render(<Reads />);
    try {
      for (const side of ['Guide hooks', 'RTK hooks']) await waitFor(() => expect(titlesIn(side)).toEqual([titles.b, titles.a]), long);

      // The table reads the store: one keyed entry (the query key is the entry's name) and one read entry
      // (named by its request), holding the same request and the same rows, each fetched once.
      await waitFor(() => expect(fetchedCounts()).toEqual({ keyed: '1', read: '1' }));
      const entries = cacheEntries();
      expect(entries.keyed).toMatchObject({ key: `['posts', ['…${a.id.slice(-4)}', '…${b.id.slice(-4)}']]`, madeBy: 'useQuery', rows: '2' });
      expect(entries.read).toMatchObject({ key: "['read', { GET /posts … }]", madeBy: 'api.useReadQuery', rows: '2' });
      expect(entries.keyed!.request).toBe(entries.read!.request);
      expect(entries.read!.request).toBe(`GET /posts?select=id,title,published,author_id,created_at&author_id=in.(…${a.id.slice(-4)},…${b.id.slice(-4)})&order=created_at.desc,id.desc`);

      // useMutation on the left: the insert's tags refetch both entries.
      const fromGuide = `From useMutation ${tag}`;
      await publishFrom('Guide hooks', fromGuide);
      for (const side of ['Guide hooks', 'RTK hooks']) await waitFor(() => expect(titlesIn(side)).toEqual([fromGuide, titles.b, titles.a]), long);
      await waitFor(() => expect(fetchedCounts()).toEqual({ keyed: '2', read: '2' }));

      // useWriteMutation on the right: the same.
      const fromRtk = `From useWriteMutation ${tag}`;
      await publishFrom('RTK hooks', fromRtk);
      for (const side of ['Guide hooks', 'RTK hooks']) await waitFor(() => expect(titlesIn(side)).toEqual([fromRtk, fromGuide, titles.b, titles.a]), long);
      await waitFor(() => expect(fetchedCounts()).toEqual({ keyed: '3', read: '3' }));
      expect(await sql('select title from posts where author_id = $1 and title = any($2) order by id', [a.id, [fromGuide, fromRtk]])).toEqual([{ title: fromGuide }, { title: fromRtk }]);

      // invalidateQueries({ queryKey: ['posts'] }) matches the keyed entry only; with no filter, RTK's entry too.
      await act(async () => fireEvent.click(region('Guide hooks').getByRole('button', { name: "Invalidate ['posts']" })));
      await waitFor(() => expect(fetchedCounts()).toEqual({ keyed: '4', read: '3' }));
      // Only active entries are refetched at once. A useQuery entry is active from its first render;
      // an RTK hook's entry once RTK has mirrored its subscription into the store (at most 500 ms
      // later), which query.isActive() reads.
      await waitFor(() => expect(cacheEntries().read!.active).toBe('yes'));
      expect(cacheEntries().keyed!.active).toBe('yes');
      await act(async () => fireEvent.click(region('Guide hooks').getByRole('button', { name: 'Invalidate every entry' })));
      await waitFor(() => expect(fetchedCounts()).toEqual({ keyed: '5', read: '4' }));

      // Nothing else was sent: the 9 fetches and the 2 inserts are every request of the store.
      expect(region('Cache entries').getByRole('heading').textContent).toBe('The cache: 2 entries, 9 fetches');
      expect(region('One store').getByLabelText('Requests').textContent).toBe('11 requests');
    } finally {
      view.unmount();
    }
  });

  it('LiveQueries: useQuery({ live: true }) and useLiveQuery are fetched once, then patched from row changes, whoever writes', async () => {
    const { config, a, titles, tag } = await seed();
    const { LiveQueries } = composeStories(guideStories, { parameters: { demoStack: config } });
    const view = render(<LiveQueries />);
    try {
      await waitFor(() => expect(region('One store').getByRole('status', { name: 'Sync status' }).textContent).toBe('synced'), long);
      for (const side of ['Guide hooks', 'RTK hooks']) await waitFor(() => expect(titlesIn(side)).toEqual([titles.b, titles.a]), long);
      await waitFor(() => expect(fetchedCounts()).toEqual({ keyedLive: '1', live: '1' }));
      expect(cacheEntries().keyedLive!.madeBy).toBe('useQuery (live)');
      expect(cacheEntries().live!.madeBy).toBe('api.useLiveQuery');

      const fromGuide = `Live from useMutation ${tag}`;
      await publishFrom('Guide hooks', fromGuide);
      const fromRtk = `Live from useWriteMutation ${tag}`;
      await publishFrom('RTK hooks', fromRtk);
      // And a row written by someone else entirely (straight into the database).
      const fromDatabase = `Live from the database ${tag}`;
      await sql('insert into posts (author_id, title, published) values ($1, $2, true)', [a.id, fromDatabase]);

      const expected = [fromDatabase, fromRtk, fromGuide, titles.b, titles.a];
      for (const side of ['Guide hooks', 'RTK hooks']) await waitFor(() => expect(titlesIn(side)).toEqual(expected), long);
      // Patched, not refetched: give a wrongful refetch time to show before counting.
      await act(() => new Promise((resolve) => setTimeout(resolve, 300)));
      expect(fetchedCounts()).toEqual({ keyedLive: '1', live: '1' });
      expect(cacheEntries().live!.rows).toBe('5');
      expect(region('One store').getByLabelText('Requests').textContent).toBe('4 requests'); // 2 fetches, 2 inserts
    } finally {
      view.unmount();
    }
  });

  it('without a configured stack the story explains how to start one', () => {
    const { Reads } = composeStories(guideStories);
    render(<Reads />);
    expect(screen.getByRole('alert').textContent).toContain('npm start');
  });
});

/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 */
// The "Offline" stories against the real test stack, two tabs each (own store, own socket). Outbox:
// tab A offline queues its posts (shown at once, nothing sent, tab B and the database have none);
// back online they are sent one at a time in the order written and reach tab B in that order; a
// post PostgREST refuses stays in the outbox as failed until discarded. Realtime down: tab A turns
// degraded, a post from tab B reaches it by polling; switched back, it is synced and polls no more.
import { jest } from '@jest/globals';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { composeStories } from '@storybook/react-vite';
import * as stories from '../../storybook/Offline.stories';
import { closeSql, sql } from '../support/stack';
import { demoUsers } from './demoUsers';

afterAll(closeSql);

// A tab whose switch keeps its socket from connecting makes the sync middleware warn at every try
// (CONNECT_FAILED): expected here, and kept out of the output; any other warning fails the test.
let warnings: string[] = [];
beforeEach(() => {
  warnings = [];
  jest.spyOn(console, 'warn').mockImplementation((message: unknown) => {
    if (!String(message).includes('CONNECT_FAILED')) warnings.push(String(message));
  });
});
afterEach(() => {
  jest.restoreAllMocks();
  expect(warnings).toEqual([]);
});

const long = { timeout: 15_000 };

/** Two fresh authors; tab B's author has one published post. */
async function seed() {
  const { tag, a, b, config } = await demoUsers();
  const first = `first ${tag}`;
  await sql('insert into posts (author_id, title, published) values ($1, $2, true)', [b.id, first]);
  return { tag, a, b, config, first };
}

/**
 * A fetch that logs each POST to /posts as it starts and as its answer arrives ("start x", "end x"),
 * so a test sees whether writes went one at a time. Requests refused by a tab's offline switch never
 * get here.
 */
function loggingFetch() {
  const log: string[] = [];
  const fetchFn: typeof fetch = async (input, init) => {
    const post = (init?.method ?? 'GET') === 'POST' && new URL(String(input)).pathname === '/posts';
    const title = post ? (JSON.parse(String(init?.body)) as { title: string }).title : '';
    if (post) log.push(`start ${title}`);
    const response = await fetch(input, init);
    if (post) log.push(`end ${title}`);
    return response;
  };
  return { fetchFn, log };
}

const tab = (label: string) => within(screen.getByRole('region', { name: label }));
const statusOf = (label: string) => tab(label).getByRole('status', { name: 'Sync status' }).textContent;
/** A tab's feed, top to bottom: each title, followed by "saving…" while its write is pending. */
const feedOf = (label: string) =>
  [...tab(label).getByRole('list', { name: 'Posts' }).querySelectorAll('li')].map((li) =>
    [li.querySelector('strong')?.textContent, li.querySelector('.tag.pending')?.textContent].filter(Boolean).join(' '),
  );
/** A tab's outbox, in order: title, status and sends of each write. */
const outboxOf = (label: string) =>
  [...tab(label).getByRole('list', { name: 'Outbox' }).querySelectorAll('li')].map((li) =>
    [...li.querySelectorAll('strong, .tag, .meta:not(.outbox-error)')].map((el) => el.textContent).join(' | '),
  );
const fetchesOf = (label: string) => Number(/^Fetched (\d+) time/.exec(tab(label).getByLabelText('Fetches').textContent ?? '')?.[1]);

async function publish(label: string, title: string) {
  fireEvent.change(tab(label).getByRole('textbox', { name: 'Title' }), { target: { value: title } });
  await act(async () => fireEvent.click(tab(label).getByRole('button', { name: 'Publish' })));
}

const titlesBy = async (authorId: string) => (await sql<{ title: string }>('select title from posts where author_id = $1 order by id', [authorId])).map((row) => row.title);
const pause = (ms: number) => act(() => new Promise((resolve) => setTimeout(resolve, ms)));

describe('Offline/Outbox', () => {
  it('offline, three posts show at once and queue in order, unsent; online, they are sent one at a time in that order and reach tab B in it', async () => {
    const { tag, a, config, first } = await seed();
    const { fetchFn, log } = loggingFetch();
    const { Outbox } = composeStories(stories, { parameters: { demoStack: config, fetchFn } });
    const view = render(<Outbox />);
    try {
      for (const label of ['Tab A', 'Tab B']) {
        await waitFor(() => expect(statusOf(label)).toBe('synced'), long);
        await waitFor(() => expect(feedOf(label)).toEqual([first]), long);
        expect(outboxOf(label)).toEqual([]);
      }

      fireEvent.click(tab('Tab A').getByRole('checkbox', { name: 'Offline' }));
      expect(statusOf('Tab A')).toBe('offline');
      const posts = [1, 2, 3].map((n) => `offline ${n} ${tag}`);
      for (const title of posts) await publish('Tab A', title);

      // Shown in A's feed at once (newest first), waiting in its outbox in the order written.
      expect(feedOf('Tab A')).toEqual([`${posts[2]} saving…`, `${posts[1]} saving…`, `${posts[0]} saving…`, first]);
      expect(outboxOf('Tab A')).toEqual(posts.map((title) => `${title} | queued | not sent yet`));
      expect(tab('Tab A').getByRole('note').textContent).toContain('(3 waiting)');
      expect(tab('Tab A').getByLabelText('Sync details').textContent).toContain('3 writes waiting');
      expect(tab('Tab A').getByLabelText('Sync details').textContent).toContain('nothing is synced while offline');
      // Nothing left the tab: B's feed and the database don't have them, and the network saw no POST.
      await pause(500);
      expect(log).toEqual([]);
      expect(await titlesBy(a.id)).toEqual([]);
      expect(feedOf('Tab B')).toEqual([first]);
      expect(statusOf('Tab B')).toBe('synced');

      fireEvent.click(tab('Tab A').getByRole('checkbox', { name: 'Offline' }));
      await waitFor(async () => expect(await titlesBy(a.id)).toEqual(posts), long);
      // One at a time: each POST started after the one before was answered.
      expect(log).toEqual(posts.flatMap((title) => [`start ${title}`, `end ${title}`]));
      await waitFor(() => expect(feedOf('Tab B')).toEqual([posts[2], posts[1], posts[0], first]), long);
      await waitFor(() => expect(feedOf('Tab A')).toEqual([posts[2], posts[1], posts[0], first]), long);
      expect(outboxOf('Tab A')).toEqual([]);
      expect(tab('Tab A').getByText('Empty: every write has been answered by PostgREST.')).toBeTruthy();
      await waitFor(() => expect(statusOf('Tab A')).toBe('synced'), long);
    } finally {
      view.unmount();
    }
  });

  it('a post PostgREST refuses after waiting offline stays in the outbox as failed, the ones behind it are sent, and Discard removes it', async () => {
    const { tag, a, config, first } = await seed();
    const { Outbox } = composeStories(stories, { parameters: { demoStack: config } });
    const view = render(<Outbox />);
    try {
      await waitFor(() => expect(statusOf('Tab A')).toBe('synced'), long);
      await waitFor(() => expect(feedOf('Tab A')).toEqual([first]), long);
      fireEvent.click(tab('Tab A').getByRole('checkbox', { name: 'Offline' }));
      const after = `after the empty one ${tag}`;
      await publish('Tab A', ''); // breaks the table's check
      await publish('Tab A', after);
      expect(outboxOf('Tab A')).toEqual(['(empty title) | queued | not sent yet', `${after} | queued | not sent yet`]);
      expect(tab('Tab A').getByRole('button', { name: 'Retry (empty title)' })).toHaveProperty('disabled', true);

      fireEvent.click(tab('Tab A').getByRole('checkbox', { name: 'Offline' }));
      await waitFor(async () => expect(await titlesBy(a.id)).toEqual([after]), long);
      await waitFor(() => expect(outboxOf('Tab A')).toEqual(['(empty title) | failed | sent once']), long);
      expect(tab('Tab A').getByRole('alert').textContent).toMatch(/^Refused: .*check constraint/);
      // Its optimistic row is gone from the feed; the one behind it is there.
      await waitFor(() => expect(feedOf('Tab A')).toEqual([after, first]), long);

      fireEvent.click(tab('Tab A').getByRole('button', { name: 'Discard (empty title)' }));
      expect(outboxOf('Tab A')).toEqual([]);
      expect(tab('Tab A').queryByRole('alert')).toBeNull();
    } finally {
      view.unmount();
    }
  });
});

describe('Offline/Realtime down', () => {
  it('tab A without realtime turns degraded and gets tab B\'s post by polling; switched back it is synced and polls no more', async () => {
    const { tag, b, config, first } = await seed();
    const { RealtimeDown } = composeStories(stories, { parameters: { demoStack: config } });
    const view = render(<RealtimeDown />);
    try {
      for (const label of ['Tab A', 'Tab B']) {
        await waitFor(() => expect(statusOf(label)).toBe('synced'), long);
        await waitFor(() => expect(feedOf(label)).toEqual([first]), long);
        expect(fetchesOf(label)).toBe(1);
      }

      fireEvent.click(tab('Tab A').getByRole('checkbox', { name: 'Realtime server unreachable' }));
      await waitFor(() => expect(statusOf('Tab A')).toBe('degraded'), long);
      expect(tab('Tab A').getByRole('note').textContent).toContain('lists are refreshed every 2 s');
      expect(tab('Tab A').getByLabelText('Sync details').textContent).toContain('by polling every 2 s');
      expect(statusOf('Tab B')).toBe('synced');

      const title = `while A polls ${tag}`;
      await publish('Tab B', title);
      await waitFor(async () => expect(await titlesBy(b.id)).toEqual([first, title]), long);
      await waitFor(() => expect(feedOf('Tab A')).toEqual([title, first]), long);
      // It came by a refetch (A's socket is down), and the polls go on.
      const polled = fetchesOf('Tab A');
      expect(polled).toBeGreaterThan(1);
      expect(tab('Tab A').getByLabelText('Fetches').textContent).toContain('refetched every 2 s');
      await waitFor(() => expect(fetchesOf('Tab A')).toBeGreaterThan(polled), long);
      expect(tab('Tab A').getByLabelText('Last synced').textContent).toMatch(/^(just now|\d+ s ago)$/);
      expect(fetchesOf('Tab B')).toBe(1);

      fireEvent.click(tab('Tab A').getByRole('checkbox', { name: 'Realtime server unreachable' }));
      await waitFor(() => expect(statusOf('Tab A')).toBe('synced'), long);
      expect(tab('Tab A').queryByRole('note')).toBeNull();
      expect(tab('Tab A').getByLabelText('Sync details').textContent).toMatch(/^Live: the realtime stream keeps it up to date \(last change (just now|\d+ s ago)\)/);
      // No more polls: the count stays over more than a poll interval, and a new post is patched in.
      const settled = fetchesOf('Tab A');
      const live = `live again ${tag}`;
      await publish('Tab B', live);
      await waitFor(() => expect(feedOf('Tab A')).toEqual([live, title, first]), long);
      await pause(2500);
      expect(fetchesOf('Tab A')).toBe(settled);
      expect(tab('Tab A').getByLabelText('Fetches').textContent).toContain('every other change was patched in');
    } finally {
      view.unmount();
    }
  });
});

/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 */
// The "Sync/Live sync (two tabs)" story against the real test stack: two stores, each with its own
// WebSocket (jsdom's window.WebSocket, which the sync middleware takes as the global one) to the
// stack's realtime server. A post published in tab A appears in tab B, patched into its live entry:
// tab B's feed is fetched once.
import { StrictMode } from 'react';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { composeStories } from '@storybook/react-vite';
import { randomUUID } from 'node:crypto';
import { demoConfigFromEnv, type DemoConfig } from '../../storybook/demoConfig';
import * as liveStories from '../../storybook/LiveSync.stories';
import { closeSql, sql } from '../support/stack';
import { demoUsersWithPosts } from './demoUsers';

afterAll(closeSql);

const long = { timeout: 15_000 };

/** Two fresh authors with one published post each, and a config with the realtime URL. */
async function seed() {
  const { tag, a, b, config, titles } = await demoUsersWithPosts();
  return { config, a, b, titles, room: `live-sync-${tag}` };
}

/** A fetch that records every PostgREST request: method, path and which user's token it carried. */
function recordingFetch(config: DemoConfig) {
  const requests: Array<{ method: string; path: string; user: string }> = [];
  const fetchFn: typeof fetch = (input, init) => {
    const url = new URL(String(input));
    const auth = new Headers(init?.headers).get('Authorization') ?? '';
    const user = config.users.find((u) => auth === `Bearer ${u.token}`)?.name ?? 'anon';
    requests.push({ method: init?.method ?? 'GET', path: url.pathname, user });
    return fetch(input, init);
  };
  return { fetchFn, requests };
}

const tab = (label: string) => within(screen.getByRole('region', { name: label }));
const titlesIn = (label: string) =>
  [...(screen.getByRole('region', { name: label }).querySelectorAll('li > strong'))].map((el) => el.textContent ?? '');

/** The names of the avatars a tab's presence line shows, sorted. */
function onlineIn(label: string): string[] {
  return [...tab(label).getByLabelText('Online').querySelectorAll('[role=img]')].map((avatar) => avatar.getAttribute('aria-label') ?? '').sort();
}

describe('Sync/Live sync (two tabs)', () => {
  it('a post published in tab A appears in tab B without a refetch; both tabs are open and see each other online', async () => {
    const { config, a, b, titles, room } = await seed();
    const { fetchFn, requests } = recordingFetch(config);
    const { TwoTabs } = composeStories(liveStories, { parameters: { demoStack: config } });
    const view = render(<TwoTabs room={room} fetchFn={fetchFn} />);
    try {
      for (const label of ['Tab A', 'Tab B']) {
        await waitFor(() => expect(tab(label).getByRole('status', { name: 'Sync status' }).textContent).toBe('synced'), long);
        // Presence lists keys in the server's order.
        await waitFor(() => expect(onlineIn(label)).toEqual([a.name, b.name].sort()), long);
      }
      // Each feed: the seeded posts, newest first, fetched once.
      for (const label of ['Tab A', 'Tab B']) {
        await waitFor(() => expect(titlesIn(label)).toEqual([titles.b, titles.a]), long);
        expect(tab(label).getByLabelText('Fetches').textContent).toMatch(/^Fetched 1 time;/);
      }

      const title = `Live from tab A ${randomUUID().slice(0, 8)}`;
      fireEvent.change(tab('Tab A').getByRole('textbox', { name: 'Title' }), { target: { value: title } });
      await act(async () => fireEvent.click(tab('Tab A').getByRole('button', { name: 'Publish' })));
      await waitFor(() => expect(titlesIn('Tab B')).toEqual([title, titles.b, titles.a]), long);
      await waitFor(() => expect(titlesIn('Tab A')).toEqual([title, titles.b, titles.a]), long);
      expect(tab('Tab B').getByText(title).parentElement!.textContent).toContain(`by ${a.name}`);
      expect(await sql('select author_id, published from posts where title = $1', [title])).toEqual([{ author_id: a.id, published: true }]);

      // Nothing refetched, in either tab: one GET of posts per tab (its live entry) and A's insert.
      await act(() => new Promise((resolve) => setTimeout(resolve, 300)));
      for (const label of ['Tab A', 'Tab B']) expect(tab(label).getByLabelText('Fetches').textContent).toMatch(/^Fetched 1 time;/);
      expect(requests).toEqual(
        expect.arrayContaining([
          { method: 'GET', path: '/posts', user: a.name },
          { method: 'GET', path: '/posts', user: b.name },
          { method: 'POST', path: '/posts', user: a.name },
        ]),
      );
      expect(requests).toHaveLength(3);
    } finally {
      view.unmount(); // each tab disconnects its sync middleware on unmount
    }
  });

  it('under StrictMode (effects run twice) both tabs still connect, join the room and load the feed', async () => {
    const { config, a, b, titles, room } = await seed();
    const { TwoTabs } = composeStories(liveStories, { parameters: { demoStack: config } });
    const view = render(<StrictMode><TwoTabs room={room} /></StrictMode>);
    try {
      for (const label of ['Tab A', 'Tab B']) {
        await waitFor(() => expect(tab(label).getByRole('status', { name: 'Sync status' }).textContent).toBe('synced'), long);
        await waitFor(() => expect(onlineIn(label)).toEqual([a.name, b.name].sort()), long);
        await waitFor(() => expect(titlesIn(label)).toEqual([titles.b, titles.a]), long);
      }
    } finally {
      view.unmount();
    }
  });

  it('without a realtime URL the story explains how to start the stack; STORYBOOK_REALTIME_URL is read from the env', async () => {
    const { config } = await seed();
    const { realtimeUrl: _omitted, ...withoutRealtime } = config;
    const { TwoTabs } = composeStories(liveStories, { parameters: { demoStack: withoutRealtime } });
    const view = render(<TwoTabs />);
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('npm start');
    expect(alert.textContent).toContain('realtimeUrl must be a ws(s) URL');
    view.unmount();

    const env = { STORYBOOK_POSTGREST_URL: config.postgrestUrl, STORYBOOK_POSTGREST_ANON_KEY: config.anonKey, STORYBOOK_REALTIME_URL: config.realtimeUrl };
    expect(demoConfigFromEnv(env)).toEqual({ postgrestUrl: config.postgrestUrl, anonKey: config.anonKey, users: [], realtimeUrl: config.realtimeUrl });
    expect(demoConfigFromEnv({ ...env, STORYBOOK_REALTIME_URL: '' })).not.toHaveProperty('realtimeUrl');
  });
});

/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 */
// The "Sync/Optimistic writes" stories against the real test stack (jsdom's WebSocket to our
// realtime server): a post shows before the server answers and stays; an empty title rolls back
// with PostgreSQL's check error; two tabs editing one document merge, or ask and keep mine.
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { composeStories } from '@storybook/react-vite';
import { randomInt } from 'node:crypto';
import * as stories from '../../storybook/Optimistic.stories';
import { closeSql, sql } from '../support/stack';
import { demoUsers } from './demoUsers';

afterAll(closeSql);

const long = { timeout: 15_000 };

async function seed() {
  const { tag, a, config } = await demoUsers();
  await sql('insert into posts (author_id, title, published) values ($1, $2, true)', [a.id, `first ${tag}`]);
  return { config, tag, a };
}

/** Each row's title, followed by "saving…" while its write is pending. */
const items = () =>
  [...screen.getByRole('list', { name: 'Posts' }).querySelectorAll('li')].map((li) =>
    [li.querySelector('strong')?.textContent, li.querySelector('.tag.pending')?.textContent].filter(Boolean).join(' '),
  );

describe('Sync/Optimistic writes', () => {
  it('a post is in the feed when Publish is pressed and stays; an empty title rolls back with the check error', async () => {
    const { config, tag } = await seed();
    const { InsertWithFailure } = composeStories(stories, { parameters: { demoStack: config } });
    const view = render(<InsertWithFailure />);
    try {
      await waitFor(() => expect(items()).toEqual([`first ${tag}`]), long);
      // Live before the first write, so the echo finds a joined channel.
      await act(() => new Promise((resolve) => setTimeout(resolve, 300)));
      fireEvent.change(screen.getByRole('textbox', { name: 'Title' }), { target: { value: `second ${tag}` } });
      act(() => {
        fireEvent.click(screen.getByRole('button', { name: 'Publish' }));
      });
      expect(items()).toEqual([`second ${tag} saving…`, `first ${tag}`]);
      await waitFor(() => expect(items()).toEqual([`second ${tag}`, `first ${tag}`]), long);
      expect(await sql('select count(*)::int as n from posts where title = $1', [`second ${tag}`])).toEqual([{ n: 1 }]);

      act(() => {
        fireEvent.click(screen.getByRole('button', { name: 'Publish an empty title (fails)' }));
      });
      expect(items()).toEqual(['(empty) saving…', `second ${tag}`, `first ${tag}`]);
      await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('Rolled back:'), long);
      expect(screen.getByRole('alert').textContent).toContain('23514');
      expect(items()).toEqual([`second ${tag}`, `first ${tag}`]);
      fireEvent.click(screen.getByRole('button', { name: 'Dismiss' }));
      expect(screen.queryByRole('alert')).toBeNull();
    } finally {
      view.unmount();
    }
  });

  it('two tabs editing one document: merge keeps both fields; "ask me" shows the conflict and Keep mine writes it', async () => {
    const { config } = await seed();
    const docId = randomInt(1_000_000, 2_000_000_000);
    await sql(`insert into docs (id, title) values ($1, 'Meeting notes')`, [docId]);
    const { TwoTabsConflict } = composeStories(stories, { parameters: { demoStack: config } });
    const view = render(<TwoTabsConflict docId={docId} />);
    const tab = (label: string) => within(screen.getByRole('region', { name: label }));
    const documentIn = (label: string) => tab(label).getByLabelText('Document').textContent;
    try {
      for (const label of ['Tab A', 'Tab B']) await waitFor(() => expect(documentIn(label)).toBe('“Meeting notes” — (no body) (version 1)'), long);
      fireEvent.change(tab('Tab A').getByRole('textbox', { name: 'New title' }), { target: { value: 'Agenda' } });
      await act(async () => fireEvent.click(tab('Tab A').getByRole('button', { name: 'Save (merge)' })));
      await waitFor(async () => expect(await sql('select title, body, version from docs where id = $1', [docId])).toEqual([{ title: 'Agenda', body: '', version: 2 }]), long);
      // Tab B still shows version 1 (a plain read): its save meets the conflict and merges.
      expect(documentIn('Tab B')).toBe('“Meeting notes” — (no body) (version 1)');
      fireEvent.change(tab('Tab B').getByRole('textbox', { name: 'New body' }), { target: { value: 'Budget first' } });
      await act(async () => fireEvent.click(tab('Tab B').getByRole('button', { name: 'Save (merge)' })));
      await waitFor(async () => expect(await sql('select title, body, version from docs where id = $1', [docId])).toEqual([{ title: 'Agenda', body: 'Budget first', version: 3 }]), long);
      await waitFor(() => expect(documentIn('Tab B')).toBe('“Agenda” — Budget first (version 3)'), long);
      expect(tab('Tab B').getByText('Conflicts so far: 1')).toBeTruthy();

      // Tab A (version 2 shown) saves again, asking: the conflict is shown until Keep mine.
      fireEvent.change(tab('Tab A').getByRole('textbox', { name: 'New title' }), { target: { value: 'Agenda v2' } });
      await act(async () => fireEvent.click(tab('Tab A').getByRole('button', { name: 'Save (ask me)' })));
      await waitFor(() => expect(tab('Tab A').getByRole('alert').textContent).toContain('theirs “Agenda” / “Budget first”'), long);
      expect(await sql('select title, version from docs where id = $1', [docId])).toEqual([{ title: 'Agenda', version: 3 }]);
      await act(async () => fireEvent.click(tab('Tab A').getByRole('button', { name: 'Keep mine' })));
      await waitFor(async () => expect(await sql('select title, body, version from docs where id = $1', [docId])).toEqual([{ title: 'Agenda v2', body: 'Budget first', version: 4 }]), long);
      expect(tab('Tab A').queryByRole('alert')).toBeNull();
    } finally {
      view.unmount();
    }
  });
});

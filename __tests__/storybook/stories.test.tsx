/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 */
// The Storybook demos, rendered as portable stories (composeStories) against the real test stack:
// what a user of each story sees, for rows this file inserts under its own author ids.
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { composeStories } from '@storybook/react-vite';
import { randomUUID } from 'node:crypto';
import type { DemoConfig } from '../../storybook/demoConfig';
import * as feedStories from '../../storybook/PostsFeed.stories';
import * as whoAmIStories from '../../storybook/WhoAmI.stories';
import * as writeStories from '../../storybook/Writes.stories';
import { closeSql, sql, testStack } from '../support/stack';

const stack = testStack();
afterAll(closeSql);

interface Seeded {
  config: DemoConfig;
  a: { id: string; name: string };
  b: { id: string; name: string };
  /** Titles by role, unique to this seed. */
  titles: { aPublished: string; aDraft: string; bPublished: string; bDraft: string };
}

/** Two fresh authors with one published post and one draft each, and a demo config for them. */
async function seed(): Promise<Seeded> {
  const tag = randomUUID().slice(0, 8);
  const a = { id: randomUUID(), name: `Ada-${tag}` };
  const b = { id: randomUUID(), name: `Brian-${tag}` };
  await sql('insert into authors (id, name) values ($1, $2), ($3, $4)', [a.id, a.name, b.id, b.name]);
  const titles = {
    aPublished: `A published ${tag}`,
    aDraft: `A draft ${tag}`,
    bPublished: `B published ${tag}`,
    bDraft: `B draft ${tag}`,
  };
  // One statement per row: distinct ids in insertion order (the feed orders newest first).
  for (const [author, title, published] of [
    [a.id, titles.aPublished, true],
    [a.id, titles.aDraft, false],
    [b.id, titles.bPublished, true],
    [b.id, titles.bDraft, false],
  ] as const) {
    await sql('insert into posts (author_id, title, published) values ($1, $2, $3)', [author, title, published]);
  }
  const config: DemoConfig = {
    postgrestUrl: stack.postgrestUrl,
    anonKey: stack.anonKey,
    users: [a, b].map((user) => ({ ...user, token: stack.signToken({ sub: user.id }) })),
  };
  return { config, a, b, titles };
}

/** The stories of a CSF file, with the seeded stack injected the way .storybook/preview.tsx does. */
function storiesFor<T extends Parameters<typeof composeStories>[0]>(file: T, config: DemoConfig) {
  return composeStories(file, { parameters: { demoStack: config } });
}

/** Titles the feed currently lists, top to bottom. */
function feedTitles(): string[] {
  const list = screen.queryByRole('list', { name: 'Posts' });
  return list ? [...list.querySelectorAll('li > strong')].map((el) => el.textContent ?? '') : [];
}

async function expectFeed(titles: string[]): Promise<void> {
  await waitFor(() => expect(feedTitles()).toEqual(titles));
}

/** The feed row of a post. */
function rowOf(title: string): HTMLElement {
  return screen.getByText(title).closest('li')!;
}

/** The posts the feed offers Rename and Delete for, top to bottom (both buttons, or neither). */
function editableTitles(): string[] {
  return feedTitles().filter((title) => {
    const rename = within(rowOf(title)).queryByRole('button', { name: `Rename ${title}` });
    const remove = within(rowOf(title)).queryByRole('button', { name: `Delete ${title}` });
    expect(Boolean(rename)).toBe(Boolean(remove));
    return rename !== null;
  });
}

describe('Reads/Posts feed stories', () => {
  it('Anonymous lists what PostgREST returns to anon: published posts only, newest first, after a loading state', async () => {
    const { config, titles } = await seed();
    const { Anonymous } = storiesFor(feedStories, config);
    render(<Anonymous />);
    expect(screen.getByRole('status').textContent).toBe('Loading posts…');
    await expectFeed([titles.bPublished, titles.aPublished]);
    // The same rows the database has for those authors, RLS applied by hand.
    const rows = await sql<{ title: string }>(
      'select title from posts where author_id = any($1) and published order by created_at desc, id desc',
      [config.users.map((u) => u.id)],
    );
    expect(feedTitles()).toEqual(rows.map((r) => r.title));
    expect(screen.getByText(`by ${config.users[0]!.name}`)).toBeTruthy(); // the embedded author
  });

  it('SignedIn shows the user their own draft but not the other author’s', async () => {
    const { config, titles } = await seed();
    const { SignedIn } = storiesFor(feedStories, config);
    render(<SignedIn />);
    await expectFeed([titles.bPublished, titles.aDraft, titles.aPublished]);
    expect(within(rowOf(titles.aDraft)).getByText('draft').className).toBe('tag draft');
    expect(within(rowOf(titles.aPublished)).queryByText('draft')).toBeNull();
  });

  it('PublishedOnly filters with eq(published, true), and the filter control switches the query', async () => {
    const { config, a, titles } = await seed();
    const { PublishedOnly } = storiesFor(feedStories, config);
    render(<PublishedOnly />);
    await expectFeed([titles.bPublished, titles.aPublished]);
    fireEvent.change(screen.getByRole('combobox', { name: 'Show' }), { target: { value: a.id } });
    await expectFeed([titles.aDraft, titles.aPublished]);
    fireEvent.change(screen.getByRole('combobox', { name: 'Show' }), { target: { value: 'all' } });
    await expectFeed([titles.bPublished, titles.aDraft, titles.aPublished]);
  });

  it('ByAnotherAuthor shows only that author’s published post (their draft stays hidden by RLS)', async () => {
    const { config, titles } = await seed();
    const { ByAnotherAuthor } = storiesFor(feedStories, config);
    render(<ByAnotherAuthor />);
    await expectFeed([titles.bPublished]);
  });

  it('PostgrestUnreachable shows the FETCH_ERROR the hook returns', async () => {
    const { config } = await seed();
    const { PostgrestUnreachable } = storiesFor(feedStories, config);
    render(<PostgrestUnreachable />);
    // Reads are retried first (3 times, waiting at most 0.3 + 0.6 + 1.2 s), then the error shows.
    const alert = await screen.findByRole('alert', undefined, { timeout: 15_000 });
    expect(alert.textContent).toContain('Could not load posts');
    expect(alert.textContent).toContain('"status": "FETCH_ERROR"');
    expect(screen.queryByRole('list', { name: 'Posts' })).toBeNull();
  });

  it('without a configured stack a story explains how to start one', () => {
    const { Anonymous } = composeStories(feedStories);
    render(<Anonymous />);
    expect(screen.getByRole('alert').textContent).toContain('npm start');
  });
});

describe('Writes stories', () => {
  it('a post added through the form appears in the feed with no cache code (automatic invalidation)', async () => {
    const { config, a, titles } = await seed();
    const { SignedIn } = storiesFor(writeStories, config);
    render(<SignedIn />);
    await expectFeed([titles.bPublished, titles.aDraft, titles.aPublished]);

    const title = `New from the form ${randomUUID().slice(0, 8)}`;
    fireEvent.change(screen.getByRole('textbox', { name: 'Title' }), { target: { value: title } });
    fireEvent.click(screen.getByRole('checkbox', { name: 'Published' }));
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Add post' })));
    await expectFeed([title, titles.bPublished, titles.aDraft, titles.aPublished]);
    expect((screen.getByRole('textbox', { name: 'Title' }) as HTMLInputElement).value).toBe('');
    expect(await sql('select author_id, published from posts where title = $1', [title])).toEqual([{ author_id: a.id, published: true }]);
  });

  it('an empty title shows the check-constraint error object and changes nothing', async () => {
    const { config, titles } = await seed();
    const { SignedIn } = storiesFor(writeStories, config);
    render(<SignedIn />);
    await expectFeed([titles.bPublished, titles.aDraft, titles.aPublished]);
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Add post' })));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Could not add the post');
    expect(alert.textContent).toMatch(/violates check constraint "posts_title_check"/);
    expect(alert.textContent).toContain('"code": "23514"');
    expect(feedTitles()).toEqual([titles.bPublished, titles.aDraft, titles.aPublished]);
  });

  it('Anonymous: no post offers Rename or Delete; the form says an insert will be refused, and the refusal is explained', async () => {
    const { config, titles } = await seed();
    const { Anonymous } = storiesFor(writeStories, config);
    render(<Anonymous />);
    await expectFeed([titles.bPublished, titles.aPublished]);
    expect(editableTitles()).toEqual([]);
    // The note before trying, as the button's description.
    const add = screen.getByRole('button', { name: 'Add post', description: /row level security lets only signed-in authors add posts/ });

    const title = `anon attempt ${randomUUID().slice(0, 8)}`;
    fireEvent.change(screen.getByRole('textbox', { name: 'Title' }), { target: { value: title } });
    await act(async () => fireEvent.click(add));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Could not add the post: Row level security refused the insert: only signed-in authors may add posts');
    // PostgREST's error object is still there, under the explanation.
    expect(alert.querySelector('details')!.textContent).toContain('new row violates row-level security policy for table');
    expect(alert.querySelector('details')!.textContent).toContain('"code": "42501"');
    expect(await sql('select 1 from posts where title = $1', [title])).toEqual([]);
  });

  it('rename and delete of your own posts refresh the feed; other authors’ posts offer neither', async () => {
    const { config, titles } = await seed();
    const { SignedIn } = storiesFor(writeStories, config);
    render(<SignedIn />);
    await expectFeed([titles.bPublished, titles.aDraft, titles.aPublished]);
    expect(editableTitles()).toEqual([titles.aDraft, titles.aPublished]);

    const renamed = `${titles.aDraft} (renamed)`;
    fireEvent.click(screen.getByRole('button', { name: `Rename ${titles.aDraft}` }));
    fireEvent.change(screen.getByRole('textbox', { name: `New title for ${titles.aDraft}` }), { target: { value: renamed } });
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Save' })));
    await expectFeed([titles.bPublished, renamed, titles.aPublished]);

    await act(async () => fireEvent.click(screen.getByRole('button', { name: `Delete ${titles.aPublished}` })));
    await expectFeed([titles.bPublished, renamed]);
    expect(editableTitles()).toEqual([renamed]);
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('a rename or delete refused by row level security (the post changed owner after the feed loaded) is explained, with the error object kept', async () => {
    const { config, b, titles } = await seed();
    const { SignedIn } = storiesFor(writeStories, config);
    render(<SignedIn />);
    await expectFeed([titles.bPublished, titles.aDraft, titles.aPublished]);
    // Behind the feed's back, both of the first user's posts go to the second user.
    await sql('update posts set author_id = $1 where title = any($2)', [b.id, [titles.aPublished, titles.aDraft]]);

    // The feed still shows them as ours, so it offers Rename; the update finds 0 rows it may touch.
    fireEvent.click(screen.getByRole('button', { name: `Rename ${titles.aPublished}` }));
    fireEvent.change(screen.getByRole('textbox', { name: `New title for ${titles.aPublished}` }), { target: { value: 'hijacked' } });
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Save' })));
    const renameAlert = await within(rowOf(titles.aPublished)).findByRole('alert');
    expect(renameAlert.textContent).toContain(
      `Could not rename “${titles.aPublished}”: You can only rename your own posts: row level security hid this post from the update (PGRST116: 0 rows).`,
    );
    const details = renameAlert.querySelector('details')!;
    expect(details.querySelector('summary')!.textContent).toBe('The error object');
    expect(details.textContent).toContain('"code": "PGRST116"');
    expect(details.textContent).toContain('The result contains 0 rows');

    await act(async () => fireEvent.click(screen.getByRole('button', { name: `Delete ${titles.aDraft}` })));
    const deleteAlert = await within(rowOf(titles.aDraft)).findByRole('alert');
    expect(deleteAlert.textContent).toContain(`Could not delete “${titles.aDraft}”: You can only delete your own posts: row level security hid this post from the delete (PGRST116: 0 rows).`);

    expect(await sql('select title, author_id from posts where title = any($1) order by id', [[titles.aPublished, titles.aDraft]])).toEqual([
      { title: titles.aPublished, author_id: b.id },
      { title: titles.aDraft, author_id: b.id },
    ]);
  });
});

describe('Auth/Who am I stories', () => {
  it('switching identity refetches the feed with the new token: each user sees their own drafts', async () => {
    const { config, a, b, titles } = await seed();
    const { Anonymous } = storiesFor(whoAmIStories, config);
    render(<Anonymous />);
    await expectFeed([titles.bPublished, titles.aPublished]);
    expect(screen.getByRole('note').textContent).toContain('anon key');

    expect(editableTitles()).toEqual([]);

    await act(async () => fireEvent.click(screen.getByRole('radio', { name: a.name })));
    await expectFeed([titles.bPublished, titles.aDraft, titles.aPublished]);
    expect(screen.getByRole('note').textContent).toContain(`${a.name}'s token`);
    expect(editableTitles()).toEqual([titles.aDraft, titles.aPublished]);

    await act(async () => fireEvent.click(screen.getByRole('radio', { name: b.name })));
    await expectFeed([titles.bDraft, titles.bPublished, titles.aPublished]);
    expect(editableTitles()).toEqual([titles.bDraft, titles.bPublished]);

    await act(async () => fireEvent.click(screen.getByRole('radio', { name: 'Anonymous' })));
    await expectFeed([titles.bPublished, titles.aPublished]);
    expect(editableTitles()).toEqual([]);
  });

  it('SecondUser starts signed in as the second user and posts as them', async () => {
    const { config, b, titles } = await seed();
    const { SecondUser } = storiesFor(whoAmIStories, config);
    render(<SecondUser />);
    await expectFeed([titles.bDraft, titles.bPublished, titles.aPublished]);
    expect(within(screen.getByRole('form', { name: 'New post' })).getByText(`Posting as ${b.name}`)).toBeTruthy();
    const title = `draft by B ${randomUUID().slice(0, 8)}`;
    fireEvent.change(screen.getByRole('textbox', { name: 'Title' }), { target: { value: title } });
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Add post' })));
    await expectFeed([title, titles.bDraft, titles.bPublished, titles.aPublished]);
    expect(rowOf(title).textContent).toContain(`by ${b.name}`);
    expect(editableTitles()).toContain(title);
  });
});

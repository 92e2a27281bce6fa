/**
 * The demos in Chromium, against the built Storybook over the test stack (globalSetup.ts): what a
 * user sees when they try them. Each test opens a fresh page (fresh stores and sockets).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Locator, Page } from 'playwright-core';
import { e2e, storyTest, until, useBrowser } from './support/browser.js';

useBrowser();

let pool: pg.Pool | undefined;
async function sql<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]> {
  pool ??= new pg.Pool({ connectionString: e2e().databaseUrl, max: 2 });
  return (await pool.query(text, params)).rows as Row[];
}
afterAll(async () => {
  await pool?.end();
});

const users = () => e2e().config.users;
const user = (name: string) => users().find((u) => u.name === name)!;
const tab = (page: Page, label: string) => page.getByRole('region', { name: label });
const status = (scope: Locator) => scope.getByRole('status', { name: 'Sync status' }).textContent();
/** The titles a list of posts shows, top to bottom. */
const titles = (scope: Locator) => scope.getByRole('list', { name: 'Posts' }).locator('li strong').allTextContents();

/** What `who` may see of the demo authors' posts, newest first (the live feed's default view). */
async function feedInDatabase(who: string): Promise<string[]> {
  const rows = await sql<{ title: string }>(
    `select title from posts where author_id = any($1) and (published or author_id = $2)
     order by created_at desc, id desc limit 50`,
    [users().map((u) => u.id), user(who).id],
  );
  return rows.map((row) => row.title);
}

async function bothSynced(page: Page): Promise<void> {
  for (const label of ['Tab A', 'Tab B']) await until(() => status(tab(page, label)), (s) => s === 'synced', 15_000, `${label} synced`);
}

async function realtime(action: 'kill' | 'start'): Promise<void> {
  const response = await fetch(`${e2e().storybookUrl}/__e2e/realtime/${action}`, { method: 'POST' });
  if (!response.ok) throw new Error(`realtime ${action}: ${response.status} ${await response.text()}`);
}

storyTest('offline: tab A queues its posts in the outbox; online, they drain in order and reach tab B in that order', 'offline--outbox', async ({ page, step, capture }) => {
  const a = tab(page, 'Tab A');
  const b = tab(page, 'Tab B');
  const outbox = a.getByRole('list', { name: 'Outbox' }).locator('li strong');
  const tag = randomUUID().slice(0, 8);
  const queued = [1, 2, 3].map((n) => `Offline ${n} ${tag}`);
  await step('both tabs synced', () => bothSynced(page));
  await step('switch tab A offline', async () => {
    await a.getByRole('checkbox', { name: 'Offline' }).check();
    await until(() => status(a), (s) => s === 'offline', 5000, 'tab A offline');
  });
  await step('publish three posts in tab A: shown at once, queued in order, sent nowhere', async () => {
    for (const title of queued) {
      await a.getByRole('textbox', { name: 'Title' }).fill(title);
      await a.getByRole('button', { name: 'Publish' }).click();
    }
    await until(() => outbox.allTextContents(), (t) => t.length === 3, 5000, 'three writes in the outbox');
    expect((await outbox.allTextContents()).map((text) => queued.find((title) => text.includes(title)))).toEqual(queued);
    expect((await titles(a)).slice(0, 3)).toEqual([...queued].reverse());
    expect(await sql('select title from posts where title like $1', [`%${tag}`])).toEqual([]);
    expect((await titles(b)).filter((title) => title.includes(tag))).toEqual([]);
    await capture('queued');
  });
  await step('back online: the outbox drains, the database has the posts in order, tab B lists them in order', async () => {
    await a.getByRole('checkbox', { name: 'Offline' }).uncheck();
    await until(() => outbox.count(), (n) => n === 0, 10_000, 'the outbox drained');
    const rows = await sql<{ title: string }>('select title from posts where title like $1 order by id', [`%${tag}`]);
    expect(rows.map((row) => row.title)).toEqual(queued);
    await until(() => titles(b), (t) => t.filter((title) => title.includes(tag)).length === 3, 5000, 'tab B got the posts');
    expect((await titles(b)).filter((title) => title.includes(tag))).toEqual([...queued].reverse());
    await until(() => status(a), (s) => s === 'synced', 10_000, 'tab A synced again');
  });
});

storyTest('time travel: scrubbing the store back and forth sends no request; a change arriving meanwhile lands in the latest state', 'devtools-time-travel--action-log-and-slider', async ({ page, step, capture }) => {
  const card = tab(page, 'Tab A');
  const devtools = page.getByRole('complementary');
  const published = [`Travel one ${randomUUID().slice(0, 8)}`, `Travel two ${randomUUID().slice(0, 8)}`];
  await step('synced, then publish two posts', async () => {
    await until(() => status(card), (s) => s === 'synced', 15_000, 'synced');
    for (const title of published) {
      await card.getByRole('textbox', { name: 'Title' }).fill(title);
      await card.getByRole('button', { name: 'Publish' }).click();
      await until(() => card.locator('.tag.pending').count(), (n) => n === 0, 10_000, 'the write committed');
    }
    await until(() => titles(card), (t) => t[0] === published[1] && t[1] === published[0], 10_000, 'both posts listed');
  });
  const requestsShown = await card.getByLabel('Requests').textContent();
  const sent: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(e2e().storybookUrl)) sent.push(`${request.method()} ${request.url()}`);
  });
  await step('scrub to the first action: the feed is empty again', async () => {
    await devtools.getByRole('list', { name: 'Actions' }).locator('li').first().click();
    expect(await devtools.getByLabel('Position').textContent()).toMatch(/^action 1 of \d+$/);
    expect(await card.getByRole('list', { name: 'Posts' }).count()).toBe(0);
  });
  const arrived = `Arrived while scrubbed ${randomUUID().slice(0, 8)}`;
  await step('a post written elsewhere meanwhile is recorded, while the page keeps showing the past', async () => {
    const total = async () => Number(/of (\d+)$/.exec((await devtools.getByLabel('Position').textContent()) ?? '')?.[1]);
    const before = await total();
    await sql('insert into posts (author_id, title, published) values ($1, $2, true)', [user('Brian').id, arrived]);
    await until(total, (n) => n > before, 10_000, 'the row change recorded');
    expect(await devtools.getByLabel('Position').textContent()).toMatch(/^action 1 of \d+$/);
    expect(await card.getByRole('list', { name: 'Posts' }).count()).toBe(0);
  });
  await step('step forward through every action, then back to live', async () => {
    let seenOne = false;
    while (await devtools.getByRole('button', { name: 'Forward ▶' }).isEnabled()) {
      await devtools.getByRole('button', { name: 'Forward ▶' }).click();
      const shown = await card.getByRole('list', { name: 'Posts' }).count() ? await titles(card) : [];
      if (shown.includes(published[0]!) && !shown.includes(published[1]!) && !seenOne) {
        seenOne = true;
        await capture('scrubbed');
      }
    }
    expect(seenOne).toBe(true); // a state with the first post but not yet the second was shown
    // Stepping past the last action is the live state again: the post that arrived meanwhile was
    // patched into the latest state (the middleware never saw the past one), and nothing was fetched.
    expect(await devtools.getByLabel('Position').textContent()).toMatch(/^live · \d+ actions$/);
    expect((await titles(card))[0]).toBe(arrived);
    expect(await titles(card)).toEqual(await feedInDatabase('Ada'));
    await devtools.getByRole('button', { name: '◀ Back' }).click();
    await devtools.getByRole('button', { name: 'Live' }).click();
    expect(await devtools.getByLabel('Position').textContent()).toMatch(/^live/);
  });
  await step('no request was sent while scrubbing, and the counter did not move', async () => {
    expect(sent).toEqual([]);
    expect(await card.getByLabel('Requests').textContent()).toBe(requestsShown);
  });
}, 90_000);

storyTest('a post typed in tab A is in tab B within a second, patched in without a refetch', 'sync-live-sync-two-tabs--two-tabs', async ({ page, step, capture }) => {
  await step('both tabs synced with their feeds loaded', async () => {
    await bothSynced(page);
    for (const label of ['Tab A', 'Tab B']) await until(() => titles(tab(page, label)), (t) => t.length > 0, 10_000, `${label}'s feed`);
  });
  const title = `Typed in A ${randomUUID().slice(0, 8)}`;
  await step('type the title in tab A and publish', async () => {
    await tab(page, 'Tab A').getByRole('textbox', { name: 'Title' }).fill(title);
    await tab(page, 'Tab A').getByRole('button', { name: 'Publish' }).click();
  });
  await step('tab B shows it within a second', async () => {
    await tab(page, 'Tab B').getByRole('list', { name: 'Posts' }).getByText(title, { exact: true }).waitFor({ timeout: 1000 });
  });
  await step('both feeds equal the database, each fetched once', async () => {
    expect(await titles(tab(page, 'Tab B'))).toEqual(await feedInDatabase('Brian'));
    await until(() => titles(tab(page, 'Tab A')), (t) => t[0] === title, 5000, 'tab A lists the post');
    expect(await titles(tab(page, 'Tab A'))).toEqual(await feedInDatabase('Ada'));
    for (const label of ['Tab A', 'Tab B']) expect(await tab(page, label).getByLabel('Fetches').textContent()).toMatch(/^Fetched 1 time;/);
    await capture('patched');
  });
});

storyTest('an optimistic post the server refuses shows at once, then rolls back with the reason', 'sync-optimistic-writes--insert-with-failure', async ({ page, step }) => {
  // The insert is held back 800 ms on its way to PostgREST, so the optimistic row can be seen.
  await page.route('**/posts**', async (route) => {
    if (route.request().method() === 'POST') await new Promise((resolve) => setTimeout(resolve, 800));
    await route.continue();
  });
  const feed = page.getByRole('list', { name: 'Posts' });
  await step('the feed is loaded and live', async () => {
    await until(() => status(page.getByRole('region', { name: 'Optimistic feed' })), (s) => s === 'synced', 15_000, 'synced');
    await feed.waitFor();
  });
  const before = await titles(page.getByRole('region', { name: 'Optimistic feed' }));
  await step('publish an empty title: it is in the feed at once, marked saving…', async () => {
    await page.getByRole('button', { name: 'Publish an empty title (fails)' }).click();
    const row = feed.locator('li', { hasText: '(empty)' });
    await row.waitFor({ timeout: 500 });
    expect(await row.locator('.tag.pending').textContent()).toBe('saving…');
  });
  await step('the server refuses it: the row is gone and the check-constraint error is shown', async () => {
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: 5000 });
    expect(await alert.textContent()).toContain('Rolled back');
    expect(await alert.textContent()).toContain('posts_title_check');
    expect(await feed.locator('li', { hasText: '(empty)' }).count()).toBe(0);
    expect(await titles(page.getByRole('region', { name: 'Optimistic feed' }))).toEqual(before);
    expect(await sql(`select 1 from posts where title = ''`)).toEqual([]);
  });
});

storyTest(
  'realtime server killed: both tabs degrade and poll; restarted: synced again and equal to the database',
  'sync-live-sync-two-tabs--two-tabs',
  async ({ page, step }) => {
    await step('both tabs synced', () => bothSynced(page));
    await step('kill -9 the realtime server: both tabs show degraded and the banner', async () => {
      await realtime('kill');
      for (const label of ['Tab A', 'Tab B']) {
        await until(() => status(tab(page, label)), (s) => s === 'degraded', 15_000, `${label} degraded`);
        expect(await tab(page, label).getByRole('note').textContent()).toContain('Live updates are interrupted');
      }
    });
    const polled = `While realtime was down ${randomUUID().slice(0, 8)}`;
    await step('a post written meanwhile reaches both tabs by polling', async () => {
      await sql('insert into posts (author_id, title, published) values ($1, $2, true)', [user('Brian').id, polled]);
      for (const label of ['Tab A', 'Tab B']) await until(() => titles(tab(page, label)), (t) => t.includes(polled), 10_000, `${label} polled the post`);
    });
    await step('start the realtime server again: both tabs synced, banner gone', async () => {
      await realtime('start');
      await bothSynced(page);
      for (const label of ['Tab A', 'Tab B']) expect(await tab(page, label).getByRole('note').count()).toBe(0);
    });
    const live = `After realtime came back ${randomUUID().slice(0, 8)}`;
    await step('live again: a new post arrives and both feeds equal the database', async () => {
      await sql('insert into posts (author_id, title, published) values ($1, $2, true)', [user('Ada').id, live]);
      for (const [label, who] of [['Tab A', 'Ada'], ['Tab B', 'Brian']] as const) {
        await until(() => titles(tab(page, label)), (t) => t[0] === live, 5000, `${label} got the live post`);
        expect(await titles(tab(page, label))).toEqual(await feedInDatabase(who));
      }
    });
  },
  90_000,
);

storyTest('the guide API and the RTK hooks side by side on one store: a post published on the left is listed on the right', 'guide-api-usequery-next-to-rtk-hooks--live-queries', async ({ page, step }) => {
  const guide = page.getByRole('region', { name: 'Guide hooks' });
  const rtk = page.getByRole('region', { name: 'RTK hooks' });
  await step('both lists loaded, next to each other', async () => {
    await until(() => titles(rtk), (t) => t.length > 0, 15_000, 'the RTK list');
    await until(() => titles(guide), (t) => t.length > 0, 15_000, 'the guide list');
    const [left, right] = [await guide.boundingBox(), await rtk.boundingBox()];
    expect(right!.x).toBeGreaterThan(left!.x + left!.width - 1); // side by side, not stacked
    expect(Math.abs(right!.y - left!.y)).toBeLessThan(2);
  });
  const title = `From the guide side ${randomUUID().slice(0, 8)}`;
  await step('publish with useMutation on the left: both lists show it, each entry still fetched once', async () => {
    await guide.getByRole('textbox', { name: 'Title' }).fill(title);
    await guide.getByRole('button', { name: 'Publish' }).click();
    await until(() => titles(rtk), (t) => t[0] === title, 5000, 'the RTK list shows the post');
    await until(() => titles(guide), (t) => t[0] === title, 5000, 'the guide list shows the post');
    expect(await titles(rtk)).toEqual(await feedInDatabase('Ada'));
  });
});

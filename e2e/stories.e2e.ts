/**
 * Every story of the built Storybook opens in Chromium against the test stack without a page error
 * or a missing-stack notice; once its clients are synced, storyTest saves its screenshot under
 * artifacts/.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { root } from '../scripts/demoStack.js';
import { storyTest, until, useBrowser } from './support/browser.js';

useBrowser();

const index = JSON.parse(await readFile(path.join(root, 'storybook-static/index.json'), 'utf8')) as { entries: Record<string, { type: string; title: string; name: string }> };
const stories = Object.entries(index.entries).filter(([, entry]) => entry.type === 'story');

test('the built Storybook lists the demos', () => {
  expect(stories.length).toBeGreaterThanOrEqual(10);
});

for (const [id, entry] of stories) {
  storyTest(`story ${entry.title} / ${entry.name} renders against the stack`, id, async ({ page, step, console: lines }) => {
    await step('rendered, every client synced', async () => {
      await page.locator('#storybook-root > *').first().waitFor({ timeout: 15_000 });
      expect(await page.getByText('This demo needs a running PostgREST').count()).toBe(0);
      const pills = page.getByRole('status', { name: 'Sync status' });
      await until(async () => (await pills.allTextContents()).filter((text) => text !== 'synced'), (unsynced) => unsynced.length === 0, 15_000, 'every client synced');
      await page.waitForLoadState('networkidle');
    });
    await step('no page error', async () => {
      expect(lines.filter((line) => line.startsWith('[pageerror]'))).toEqual([]);
    });
  });
}

/**
 * Chromium for the browser tests (Debian's, driven by playwright-core), one per test file, and
 * `storyTest`: a test on a fresh page of one story that saves a screenshot of the story at the end
 * under artifacts/, and on failure the page's screenshot and console under artifacts/failures/,
 * naming the step that failed.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { E2eInfo } from './harness.js';

export const ARTIFACTS = path.resolve(import.meta.dirname, '../../artifacts');

/** The harness globalSetup started. */
export function e2e(): E2eInfo {
  const raw = process.env.RTK_E2E;
  if (!raw) throw new Error('RTK_E2E is not set: run the browser tests with `npm run test:e2e`');
  return JSON.parse(raw) as E2eInfo;
}

/** Chromium's path: CHROMIUM_PATH, else Debian's (`apt-get install chromium`; .ci/run installs it). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let browser: Browser | undefined;

/** Launches Chromium before the file's tests and closes it after. */
export function useBrowser(): void {
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Without the background-networking flags Chromium keeps dialling Google's hosts, refused here.
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    browser = undefined;
  });
}

export interface StoryContext {
  page: Page;
  /** Names what the test does next: a failure reports it and saves the page as it was. */
  step<T>(label: string, run: () => Promise<T>): Promise<T>;
  /** Every console line and page error so far. */
  console: string[];
  /** Saves the demo as it looks now as artifacts/<test>--<name>.png (the README's screenshots come from these). */
  capture(name: string): Promise<void>;
}

/** The story's URL in the built Storybook (the canvas only, no Storybook UI). */
export function storyUrl(id: string): string {
  return `${e2e().storybookUrl}/iframe.html?id=${encodeURIComponent(id)}&viewMode=story`;
}

/** A test on a fresh page showing story `id`. */
export function storyTest(name: string, id: string, body: (context: StoryContext) => Promise<void>, timeout = 60_000): void {
  test(
    name,
    async () => {
      if (!browser) throw new Error('storyTest: call useBrowser() in the test file');
      const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
      const lines: string[] = [];
      page.on('console', (message) => lines.push(`[${message.type()}] ${message.text()}`));
      page.on('pageerror', (error) => lines.push(`[pageerror] ${error.stack ?? error.message}`));
      let current = `opening ${id}`;
      const slug = name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase();
      const context: StoryContext = {
        page,
        console: lines,
        step: async (label, run) => {
          current = label;
          return run();
        },
        capture: async (shot) => {
          await mkdir(ARTIFACTS, { recursive: true });
          await page.locator('.demo').screenshot({ path: path.join(ARTIFACTS, `${slug}--${shot}.png`) });
        },
      };
      try {
        await page.goto(storyUrl(id));
        await body(context);
        await mkdir(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: path.join(ARTIFACTS, `${slug}.png`), fullPage: true });
      } catch (error) {
        const dir = path.join(ARTIFACTS, 'failures');
        await mkdir(dir, { recursive: true });
        await page.screenshot({ path: path.join(dir, `${slug}.png`), fullPage: true }).catch(() => undefined);
        await writeFile(path.join(dir, `${slug}.console.txt`), [`step: ${current}`, `error: ${(error as Error).stack ?? error}`, '', ...lines].join('\n'));
        throw new Error(`step "${current}" failed (screenshot and console in artifacts/failures/${slug}.*): ${(error as Error).message}`, { cause: error });
      } finally {
        await page.close();
      }
    },
    timeout,
  );
}

/** Polls `read` until `accept` holds (or throws naming the last value after `timeoutMs`). */
export async function until<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000, what = 'the condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (accept(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

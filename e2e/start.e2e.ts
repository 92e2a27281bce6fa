/**
 * `npm start` as a newcomer runs it: the stack and Storybook's dev server come up, the printed URL
 * serves the demos wired to the stack (through the STORYBOOK_* variables, not the page config the
 * other browser tests inject), and Ctrl-C (SIGINT to the process group, as a terminal sends it)
 * stops Storybook, the realtime server, PostgREST and PostgreSQL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { findFreePort } from '../lib/server/stack/ports.js';
import { root } from '../scripts/demoStack.js';
import { CHROMIUM, until } from './support/browser.js';
import { chromium } from 'playwright-core';

let child: ChildProcess | undefined;
afterAll(() => {
  if (child && child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('npm start prints the demos URL and the stack; the URL shows a live story; Ctrl-C stops everything', async () => {
  const port = await findFreePort();
  // What `npm start` runs, with a port of its own; detached: its own process group, as in a terminal.
  child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/storybook.ts'), '--port', String(port)], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));

  await until(async () => output, (text) => /Storybook ready|Local:/.test(text) || child!.exitCode !== null, 90_000, 'Storybook ready');
  expect(output).toContain(`Demos:      http://localhost:${port}`);
  for (const line of ['PostgREST:  http://127.0.0.1:', 'Realtime:   ws://127.0.0.1:', 'Anon key:   ey', 'Demo users: Ada, Brian']) expect(output).toContain(line);
  const postgrest = /PostgREST: {2}(\S+)/.exec(output)![1]!;

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const page = await browser.newPage();
    // The dev server compiles the story on first request: allow it time.
    await page.goto(`http://localhost:${port}/iframe.html?id=sync-live-sync-two-tabs--two-tabs&viewMode=story`, { timeout: 60_000 });
    const pills = page.getByRole('status', { name: 'Sync status' });
    await until(() => pills.allTextContents(), (texts) => texts.length === 2 && texts.every((text) => text === 'synced'), 60_000, 'both tabs synced');
    expect(await page.getByText('This demo needs a running PostgREST').count()).toBe(0);
  } finally {
    await browser.close();
  }

  // Ctrl-C: the whole group gets SIGINT.
  process.kill(-child.pid!, 'SIGINT');
  expect(await exited).toBe(130);
  expect(output).toContain('Stopping the realtime server, PostgREST and PostgreSQL…');
  await expect(fetch(postgrest)).rejects.toThrow();
  await expect(fetch(`http://localhost:${port}`)).rejects.toThrow();
  expect(alive(child.pid!)).toBe(false);
}, 180_000);

/**
 * The dev stack the demos talk to: PostgreSQL, PostgREST and the realtime server with
 * demo/schema.sql, and the demos' config (URLs, the anon key, a token per demo author). Used by
 * `npm start` (scripts/storybook.ts) and the browser tests (e2e/support/globalSetup.ts).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack, type Stack, type StackOptions } from '../lib/server/index.js';
import type { DemoConfig, DemoUser } from '../storybook/demoConfig.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const schemaFile = path.join(root, 'demo/schema.sql');
// User tokens outlive a long Storybook session; the stack's secret changes on every start anyway.
const TOKEN_LIFETIME = '7d';

/** Starts the stack with the demo schema and seed data. */
export async function startDemoStack(options: StackOptions = {}): Promise<Stack> {
  return startStack({ sql: await readFile(schemaFile, 'utf8'), sqlName: 'demo/schema.sql', ...options });
}

/** The demos' config for `stack`; `realtimeUrl` overrides the stack's own realtime server. */
export async function demoConfig(stack: Stack, realtimeUrl = stack.realtimeUrl): Promise<DemoConfig> {
  return { postgrestUrl: stack.postgrestUrl, anonKey: stack.anonKey, realtimeUrl, users: await demoUsers(stack) };
}

/** Every author in the demo schema, with a token whose `sub` is the author's id (read through PostgREST as anon). */
async function demoUsers(stack: Stack): Promise<DemoUser[]> {
  const response = await fetch(`${stack.postgrestUrl}/authors?select=id,name&order=name`, {
    headers: { apikey: stack.anonKey, Authorization: `Bearer ${stack.anonKey}` },
  });
  if (!response.ok) throw new Error(`reading the demo authors failed: ${response.status} ${await response.text()}`);
  const authors = (await response.json()) as Array<{ id: string; name: string }>;
  return authors.map(({ id, name }) => ({ id, name, token: stack.signToken({ sub: id }, { expiresIn: TOKEN_LIFETIME }) }));
}

/** The installed Storybook CLI's script. */
export function storybookBin(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('storybook/package.json');
  const { bin } = require(manifest) as { bin: string | Record<string, string> };
  return path.join(path.dirname(manifest), typeof bin === 'string' ? bin : bin.storybook!);
}

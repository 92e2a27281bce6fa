/** `rtk-postgrest dev --env-file`: the stack's browser-safe settings as a Vite app's VITE_* variables. */
import { readFile, writeFile } from 'node:fs/promises';
import type { Stack } from '../stack/index.js';

/** The variables written, in order (never the service key or the database URL: they would reach the browser). */
export const ENV_KEYS = ['VITE_POSTGREST_URL', 'VITE_REALTIME_URL', 'VITE_ANON_KEY'] as const;

/** The file's lines with ours replaced (or added at the end) and every other line kept as it was. */
export function mergeEnv(existing: string, values: Record<string, string>): string {
  const lines = existing === '' ? [] : existing.replace(/\n$/, '').split('\n');
  const written = new Set<string>();
  const out = lines.map((line) => {
    const key = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1];
    if (key === undefined || !(key in values)) return line;
    written.add(key);
    return `${key}=${values[key]}`;
  });
  for (const [key, value] of Object.entries(values)) if (!written.has(key)) out.push(`${key}=${value}`);
  return `${out.join('\n')}\n`;
}

/** Writes (or updates) `file` with the stack's URLs and anon key. */
export async function writeEnvFile(file: string, stack: Pick<Stack, 'postgrestUrl' | 'realtimeUrl' | 'anonKey'>): Promise<void> {
  const existing = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const values: Record<(typeof ENV_KEYS)[number], string> = { VITE_POSTGREST_URL: stack.postgrestUrl, VITE_REALTIME_URL: stack.realtimeUrl, VITE_ANON_KEY: stack.anonKey };
  await writeFile(file, mergeEnv(existing, values));
}

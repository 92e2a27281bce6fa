/** Helpers of the `gen types` tests: reading blocks of the generated text, compiling code against it, the CLI as a process. */
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { compileIn, ROOT } from '../support/compile';

export { ROOT };
/** The client module code under test imports (by absolute path, from a temp dir). */
export const CLIENT = JSON.stringify(path.join(ROOT, 'lib/postgrest/index.js'));
/** The React entry (createPostgrestApi with hooks, createQueryHooks), for the typed api's compile checks. */
export const REACT = JSON.stringify(path.join(ROOT, 'lib/react/index.js'));

/** The lines of one block (`gt_entries: {` … `Row: {` …) of the generated text, trimmed. */
export function blockLines(text: string, ...names: string[]): string[] {
  let lines = text.split('\n');
  for (const name of names) {
    const start = lines.findIndex((line) => line.trim() === `${name}: {`);
    if (start < 0) throw new Error(`no block ${names.join(' > ')}`);
    const depth = lines[start]!.search(/\S/);
    const end = lines.findIndex((line, i) => i > start && line.search(/\S/) === depth && line.trim().startsWith('}'));
    lines = lines.slice(start + 1, end);
  }
  return lines.map((line) => line.trim());
}

/**
 * Writes `database` as `dir`/database.ts and each of `sources` as a file next to it, compiles them
 * as an app would (support/compile.ts), and returns each source's error messages (by the same keys).
 */
export async function compileAgainst(dir: string, database: string, sources: Record<string, string>): Promise<Record<string, string[]>> {
  const names = Object.keys(sources);
  const files = Object.fromEntries(names.map((name, i) => [`source${i}.ts`, sources[name]!]));
  const diagnostics = await compileIn(dir, { 'database.ts': database, ...files });
  return Object.fromEntries(names.map((name, i) => [name, diagnostics[`source${i}.ts`]!.map((d) => d.message)]));
}

/** Runs `rtk-postgrest gen types …args` as a process. */
export function runGenTypesCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'lib/server/cli/main.ts', 'gen', 'types', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

/** A local port nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

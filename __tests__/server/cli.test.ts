/**
 * The CLI run from source, as a real process: `node --import tsx lib/server/cli/main.ts`. Not
 * through npx: `npm exec` dies on SIGINT without reporting its child's exit code and on SIGTERM
 * leaves the child running. Not through the tsx CLI either: it relays signals to its child with
 * 30 ms timeouts and SIGKILLs a child that seems not to react, which a loaded machine can trigger.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { canListen, eventually, groupMembers, portOf } from './processes';
import { findFreePort as freePort } from '../../lib/server/stack/ports';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = 'lib/server/cli/main.ts';

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function runCli(args: string[]): Run {
  // Its own process group, so the test can press "Ctrl-C" (SIGINT to the whole group) like a terminal.
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

let dir: string;
const runs: Run[] = [];
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rtk-cli-test-'));
  await chmod(dir, 0o755);
});
afterAll(async () => {
  // Only if a test failed half-way: take down whatever a run left.
  for (const run of runs) {
    for (const pid of groupMembers(run.child.pid!)) process.kill(pid, 'SIGKILL');
  }
  await rm(dir, { recursive: true, force: true });
});

describe('rtk-postgrest dev', () => {
  it('prints the URLs, keys and a working example, serves the SQL, and stops everything on Ctrl-C with exit code 0', async () => {
    const sqlFile = path.join(dir, 'schema.sql');
    await writeFile(sqlFile, "create table greetings (id int primary key, text text);\ninsert into greetings values (1, 'hello'), (2, 'hi');\n");
    const run = runCli(['dev', '--sql', sqlFile]);
    runs.push(run);

    expect(await eventually(() => run.stdout().includes('Press Ctrl-C to stop.') || run.child.exitCode !== null, 30_000)).toBe(true);
    const out = run.stdout();
    const postgrestUrl = /PostgREST\s+(http:\/\/\S+)/.exec(out)?.[1];
    const databaseUrl = /Database\s+(postgres:\/\/\S+)/.exec(out)?.[1];
    const anonKey = /anon key\s+(\S+)/.exec(out)?.[1];
    expect([postgrestUrl, databaseUrl, anonKey, /service key\s+\S+/.test(out), /JWT secret\s+\S{32,}/.test(out)]).toEqual([
      expect.any(String), expect.any(String), expect.any(String), true, true,
    ]);
    expect(out).toContain('Tables and views (schema public): greetings');
    expect(out).toContain(`curl '${postgrestUrl}/greetings?limit=3' -H 'Authorization: Bearer ${anonKey}'`);
    expect(out).toMatch(/→ 200 OK\n\s+\{"id":1,"text":"hello"\}\n\s+\{"id":2,"text":"hi"\}/);

    const response = await fetch(`${postgrestUrl}/greetings?id=eq.2`, { headers: { Authorization: `Bearer ${anonKey}` } });
    expect(await response.json()).toEqual([{ id: 2, text: 'hi' }]);

    const group = run.child.pid!;
    expect(groupMembers(group).length).toBeGreaterThanOrEqual(3); // node, postgres (+ backends), postgrest
    process.kill(-group, 'SIGINT');
    expect(await run.exit).toEqual({ code: 0, signal: null });
    expect(run.stdout()).toContain('Stopped.');
    expect(await eventually(() => groupMembers(group).length === 0)).toBe(true);
    expect(await canListen(portOf(postgrestUrl!))).toBe(true);
    expect(await canListen(portOf(databaseUrl!))).toBe(true);
  });

  it('with --jwt-secret signs its keys with that secret, and --env-file writes the URLs and anon key for a Vite app', async () => {
    const secret = 'a-fixed-secret-of-at-least-32-characters';
    const envFile = path.join(dir, '.env.local');
    await writeFile(envFile, 'VITE_TITLE=Mine\n');
    const run = runCli(['dev', '--jwt-secret', secret, '--env-file', envFile]);
    runs.push(run);
    expect(await eventually(() => run.stdout().includes('Press Ctrl-C to stop.') || run.child.exitCode !== null, 30_000)).toBe(true);
    const out = run.stdout();
    expect(out).toContain(`JWT secret   ${secret}`);
    expect(out).toContain(`Wrote ${envFile}: VITE_POSTGREST_URL, VITE_REALTIME_URL, VITE_ANON_KEY`);
    const env = Object.fromEntries((await readFile(envFile, 'utf8')).trim().split('\n').map((line) => line.split('=', 2) as [string, string]));
    expect(env).toEqual({
      VITE_TITLE: 'Mine',
      VITE_POSTGREST_URL: /PostgREST\s+(\S+)/.exec(out)![1],
      VITE_REALTIME_URL: /Realtime\s+(\S+)/.exec(out)![1],
      VITE_ANON_KEY: /anon key\s+(\S+)/.exec(out)![1],
    });
    // The anon key is signed with the given secret.
    const { verifyJwt } = await import('../../lib/server/stack/jwt');
    expect(verifyJwt(secret, env.VITE_ANON_KEY!)).toMatchObject({ role: 'anon' });
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exit).toEqual({ code: 0, signal: null });
  });

  it('stops cleanly on SIGTERM sent to the CLI process alone', async () => {
    const run = runCli(['dev']);
    runs.push(run);
    expect(await eventually(() => run.stdout().includes('Press Ctrl-C to stop.') || run.child.exitCode !== null, 30_000)).toBe(true);
    expect(run.stdout()).toContain('PostgREST exposes no tables in schema public yet');
    const group = run.child.pid!;
    process.kill(group, 'SIGTERM'); // postgres and postgrest get nothing: the CLI must stop them
    expect(await run.exit).toEqual({ code: 0, signal: null });
    expect(await eventually(() => groupMembers(group).length === 0)).toBe(true);
  });

  it('fails with one clear line and a non-zero exit when the SQL file is missing', async () => {
    const missing = path.join(dir, 'missing.sql');
    const run = runCli(['dev', '--sql', missing]);
    runs.push(run);
    expect(await run.exit).toEqual({ code: 1, signal: null });
    expect(run.stderr().trim()).toBe(`rtk-postgrest: cannot read --sql file ${missing}: no such file`);
    expect(run.stdout()).toBe('');
  });

  it('names file:line and PostgreSQL\'s message when the SQL fails, and leaves no process', async () => {
    const sqlFile = path.join(dir, 'broken.sql');
    await writeFile(sqlFile, 'create table a (id int);\n\nselect * frm a;\n');
    const run = runCli(['dev', '--sql', sqlFile]);
    runs.push(run);
    expect(await run.exit).toEqual({ code: 1, signal: null });
    expect(run.stderr().trim()).toBe(`rtk-postgrest: ${sqlFile}:3: syntax error at or near "frm"`);
    expect(await eventually(() => groupMembers(run.child.pid!).length === 0)).toBe(true);
  });

  it('rejects an unknown flag with exit code 2', async () => {
    const run = runCli(['dev', '--sqll', 'x.sql']);
    runs.push(run);
    expect(await run.exit).toEqual({ code: 2, signal: null });
    expect(run.stderr().trim()).toBe('rtk-postgrest: unknown option --sqll (see rtk-postgrest --help)');
  });
});

describe('rtk-postgrest realtime', () => {
  it('runs one node (broadcast and presence without --database-url), prints its URL, and closes on SIGTERM', async () => {
    const run = runCli(['realtime', '--jwt-secret', 'a-secret-of-at-least-thirty-two-chars!', '--port', String(await freePort())]);
    runs.push(run);
    expect(await eventually(() => /listening on ws:\/\/127\.0\.0\.1:\d+\/realtime\/v1/.test(run.stdout()) || run.child.exitCode !== null, 30_000)).toBe(true);
    expect(run.stdout()).toContain('broadcast and presence only');
    const port = Number(/:(\d+)\/realtime\/v1/.exec(run.stdout())![1]);
    expect(await canListen(port)).toBe(false); // the node holds its port
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exit).toEqual({ code: 0, signal: null });
    expect(run.stdout()).toContain('Closed.');
  });

  it('fails with exit code 1 and the reason when its Redis is unreachable', async () => {
    const run = runCli(['realtime', '--jwt-secret', 'a-secret-of-at-least-thirty-two-chars!', '--port', String(await freePort()), '--redis', `redis://127.0.0.1:${await freePort()}`]);
    runs.push(run);
    const exit = await run.exit;
    expect(exit.code).toBe(1);
    expect(run.stderr()).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/);
  });
});

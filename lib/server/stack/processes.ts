import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** True once the child has exited (or was never started). */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
}

/** Resolves true when the child exits within `ms`, false otherwise. */
export function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/**
 * Sends each signal in turn, giving the child `ms` to exit after each; the last step should be
 * SIGKILL. Resolves once the child has exited (or every step was tried).
 */
export async function terminate(child: ChildProcess, steps: Array<[NodeJS.Signals, number]>): Promise<void> {
  for (const [signal, ms] of steps) {
    if (hasExited(child)) return;
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
    if (await waitForExit(child, ms)) return;
  }
}

/**
 * True while `pid` is a live process. A zombie (exited, not yet reaped) counts as gone; on Linux we
 * read /proc because `kill(pid, 0)` succeeds for zombies.
 */
export function isAlive(pid: number): boolean {
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stateOf(stat) !== 'Z';
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Pids whose parent is `pid` (Linux only; elsewhere an empty list). */
export function childPidsOf(pid: number): number[] {
  if (process.platform !== 'linux') return [];
  const children: number[] = [];
  for (const entry of safeReaddir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (parentOf(stat) === pid) children.push(Number(entry));
    } catch {
      /* the process ended while we looked */
    }
  }
  return children;
}

/** Resolves true once none of `pids` is alive, false if some still are after `ms`. */
export async function waitForGone(pids: readonly number[], ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (!pids.some(isAlive)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Synchronously waits (exit handlers cannot await) until `pid` is gone or `ms` passed. */
export function waitForGoneSync(pid: number, ms: number): void {
  const deadline = Date.now() + ms;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  while (isAlive(pid) && Date.now() < deadline) Atomics.wait(sleeper, 0, 0, 20);
}

// /proc/<pid>/stat is "pid (comm) state ppid ..."; comm may contain spaces and parentheses.
function fieldsAfterComm(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

function stateOf(stat: string): string | undefined {
  return fieldsAfterComm(stat)[0];
}

function parentOf(stat: string): number {
  return Number(fieldsAfterComm(stat)[1]);
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * Helpers of bench/realtime.ts: CPU and memory of processes from /proc, the child processes' JSON
 * ready line, the clients child's IPC, percentiles.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

export const CLK_TCK = 100;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return 0;
  }
}
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}
export function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}
export function cpuOf(pids: number[]): Map<number, number> {
  return new Map(pids.map((pid) => [pid, cpuTicks(pid)]));
}
export function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, ticks] of after) if (before.has(pid)) sum += ticks - before.get(pid)!;
  return sum;
}
export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Resolves with the first JSON line a child prints on stdout; other lines are logged with `label`. */
export function readyLine<T>(child: ChildProcess, label: string): Promise<T> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const nl = buffer.indexOf('\n');
      if (nl !== -1 && buffer.startsWith('{')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          resolve(JSON.parse(line));
        } catch (e) {
          reject(e);
        }
      } else if (nl !== -1) {
        process.stderr.write(`[${label}] ${buffer.slice(0, nl)}\n`);
        buffer = buffer.slice(nl + 1);
      }
    });
    child.once('exit', (code) => reject(new Error(`${label} child exited with ${code}`)));
  });
}

/** Waits up to 15 s for `pids` to exit, then SIGKILLs what is left. */
export async function waitOrKill(pids: number[]): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (pids.some(alive) && Date.now() < deadline) await sleep(100);
  const left = pids.filter(alive);
  if (left.length) {
    process.stderr.write(`[bench] still running after stop: ${left.join(', ')}; killing\n`);
    for (const pid of left) process.kill(pid, 'SIGKILL');
  }
}

export function ask<T = any>(child: ChildProcess, msg: object, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: any) => {
      if (m.type === 'log') return void process.stderr.write(`[clients] ${m.message}\n`);
      if (m.type === 'error') return done(() => reject(new Error(m.message)));
      if (m.type === type) done(() => resolve(m));
    };
    const done = (f: () => void) => {
      child.off('message', onMessage);
      f();
    };
    child.on('message', onMessage);
    child.send(msg);
  });
}

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return +sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(1);
}

/** For a child: calls `stop` once, on SIGTERM, SIGINT or stdin's end, then exits. */
export function stopOnSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const once = async () => {
    if (stopping) return;
    stopping = true;
    await stop().catch((e) => console.error(e));
    process.exit(0);
  };
  process.on('SIGTERM', () => void once());
  process.on('SIGINT', () => void once());
  process.stdin.on('end', () => void once());
  process.stdin.on('close', () => void once());
  process.stdin.resume();
}

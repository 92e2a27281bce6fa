/**
 * Process checks for the server tests, read straight from /proc (Linux) so they do not reuse the
 * code under test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';

interface ProcInfo {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
}

function info(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, state: state!, ppid: Number(ppid), pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}

function allPids(): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
}

/** True while `pid` runs (a zombie counts as gone). */
export function isRunning(pid: number): boolean {
  const proc = info(pid);
  return proc !== undefined && proc.state !== 'Z';
}

/** Live children of `pid`. */
export function childrenOf(pid: number): number[] {
  return allPids().filter((child) => info(child)?.ppid === pid && isRunning(child));
}

/** Live members of process group `pgrp`. */
export function groupMembers(pgrp: number): number[] {
  return allPids().filter((pid) => info(pid)?.pgrp === pgrp && isRunning(pid));
}

/** Live processes whose command line mentions `text` (e.g. `postgres -D <dataDir>`). */
export function processesMentioning(text: string): number[] {
  return allPids().filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text) && isRunning(pid);
    } catch {
      return false;
    }
  });
}

export { eventually } from '../support/eventually.js';

/** True when a TCP listener can bind `port` on 127.0.0.1. */
export function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Occupies a free port on 127.0.0.1 until `close` is called. */
export async function occupyPort(): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The port of a URL such as postgres://u:p@127.0.0.1:5432/db. */
export function portOf(url: string): number {
  return Number(new URL(url).port);
}

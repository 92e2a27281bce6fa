/** How a benchmark ends: its result printed and written to bench/results/<name>.json, then exit (0, or 1 on a failure). */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export function writeResult(name: string, result: object): never {
  const text = JSON.stringify(result, null, 2);
  console.log(text);
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.json`), `${text}\n`);
  process.exit(0);
}

/** Runs a benchmark's main; a failure is printed and exits 1. */
export function run(main: () => Promise<void>): void {
  void main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

/** The machine a result was measured on (cores, CPU model, Node). */
export function machine() {
  return { cpus: os.cpus().length, model: os.cpus()[0]?.model.split(' ').slice(0, 2).join(' '), node: process.version };
}

/** Calls `fn(i)` for i < n, one after another (awaited); the calls per second. */
export async function timeIt(n: number, fn: (i: number) => unknown): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  return (n / (performance.now() - start)) * 1000;
}

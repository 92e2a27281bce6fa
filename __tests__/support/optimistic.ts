/** Shared by the optimistic-write tests against the stack: the `opt_items` row type, unique tags, and cleanups run after all tests of a file. */
import { closeSql } from './stack.js';

export type OptItem = { id: number; list_id: number; tag: string; title: string; rank: number; version: number };

/** A list of cleanups run (then the SQL pool closed) after all tests of the calling file. */
export function cleanupsAfterAll(): Array<() => void> {
  const cleanups: Array<() => void> = [];
  afterAll(async () => {
    for (const cleanup of cleanups) cleanup();
    await closeSql();
  });
  return cleanups;
}

/** Tags unique to this process and prefix (each test's rows carry one). */
export function tagger(prefix: string): () => string {
  let counter = 0;
  return () => `${prefix}-${process.pid}-${++counter}`;
}

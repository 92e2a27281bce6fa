/**
 * Outbound frames awaiting their `phx_reply`, by ref, each with its own timeout (phoenix.js
 * `push.js`). Settling is idempotent: a late reply after a timeout is ignored.
 */
import type { PushResult, Timers } from './types.js';

interface Pending {
  topic: string;
  timer: unknown;
  settle(result: PushResult): void;
}

export interface PushRegistry {
  /** Waits for the reply to `ref` for at most `timeoutMs`; `settle` runs exactly once. */
  await(ref: string, topic: string, timeoutMs: number, settle: (result: PushResult) => void): void;
  /** Settles `ref` with a reply; false when nothing waits for it. */
  reply(ref: string, result: PushResult): boolean;
  /** Settles everything waiting (of `topic`, or all) with `result`. */
  failAll(result: PushResult, topic?: string): void;
  readonly size: number;
}

/** Creates an empty registry using `timers`. */
export function createPushRegistry(timers: Timers): PushRegistry {
  const pending = new Map<string, Pending>();
  const finish = (ref: string, result: PushResult): boolean => {
    const entry = pending.get(ref);
    if (!entry) return false;
    pending.delete(ref);
    timers.clearTimeout(entry.timer);
    entry.settle(result);
    return true;
  };
  return {
    await(ref, topic, timeoutMs, settle) {
      const timer = timers.setTimeout(() => finish(ref, { status: 'timeout', response: null }), timeoutMs);
      pending.set(ref, { topic, timer, settle });
    },
    reply: finish,
    failAll(result, topic) {
      for (const [ref, entry] of [...pending]) if (topic === undefined || entry.topic === topic) finish(ref, result);
    },
    get size() {
      return pending.size;
    },
  };
}

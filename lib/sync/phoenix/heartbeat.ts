/**
 * Heartbeats on topic `phoenix`: one beat per interval; a beat that finds the previous one still
 * unanswered declares the connection dead (realtime-js's rule: the timeout is the interval).
 */
import type { Timers } from './types.js';

export interface HeartbeatOptions {
  intervalMs: number;
  timers: Timers;
  now: () => number;
  /** Sends a heartbeat with `ref`. */
  send(ref: string): void;
  nextRef(): string;
  onSent(): void;
  onReply(latencyMs: number): void;
  /** The previous beat got no reply: the caller drops the connection (the heartbeat is already stopped). */
  onTimeout(): void;
}

export interface Heartbeat {
  start(): void;
  stop(): void;
  /** Consumes a `phoenix` reply; false when `ref` is not the outstanding beat. */
  reply(ref: string | null): boolean;
}

/** Creates a stopped heartbeat. */
export function createHeartbeat(options: HeartbeatOptions): Heartbeat {
  let timer: unknown = null;
  let outstanding: string | null = null;
  let sentAt = 0;

  const stop = () => {
    if (timer !== null) options.timers.clearTimeout(timer);
    timer = null;
    outstanding = null;
  };

  const beat = () => {
    timer = null;
    if (outstanding !== null) {
      stop();
      options.onTimeout();
      return;
    }
    outstanding = options.nextRef();
    sentAt = options.now();
    options.send(outstanding);
    options.onSent();
    timer = options.timers.setTimeout(beat, options.intervalMs);
  };

  return {
    start() {
      stop();
      timer = options.timers.setTimeout(beat, options.intervalMs);
    },
    stop,
    reply(ref) {
      if (ref === null || ref !== outstanding) return false;
      outstanding = null;
      options.onReply(Math.max(0, options.now() - sentAt));
      return true;
    },
  };
}

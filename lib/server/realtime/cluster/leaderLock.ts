/**
 * The leader lock: which node of a cluster reads logical replication. A Redis key set with
 * `SET NX PX` holding this node's token, renewed well before it lapses; released on stop, so another
 * node takes over at its next attempt, and left to lapse when a node dies, so another takes over
 * within the lease. The token also fences the change log: an append checks it (changeLog.ts), so a
 * node that lost the lock without noticing yet (paused, cut off) can't write after its successor.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** How long the lock lasts unless renewed. */
export const DEFAULT_LEASE_MS = 3000;

export interface LeaderLockOptions {
  redis: Redis;
  key: string;
  /** This node's name; the token is it plus a random suffix (a restarted node with the same name is another holder). */
  nodeId: string;
  /** Default DEFAULT_LEASE_MS; attempts and renewals run every third of it. */
  leaseMs?: number;
  /** This node now holds the lock. */
  onAcquired: () => void;
  /** This node no longer holds the lock (it could not renew in time, or another holds it). */
  onLost: () => void;
  onError: (error: unknown) => void;
}

export interface LeaderLock {
  /** The value the key holds while this node leads. */
  readonly token: string;
  readonly isLeader: boolean;
  /** Tries at once, then every third of the lease; resolves after the first attempt. */
  start(): Promise<void>;
  /** Gives the lock up (if held) and goes on trying: another node, or this one later, takes over. */
  release(): Promise<void>;
  /** Stops trying and releases the lock if held (only if it still holds this node's token). */
  stop(): Promise<void>;
}

// Only the holder may renew or delete: another node's lock is never touched.
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** A lock that is not yet trying; see the module notes. */
export function createLeaderLock(options: LeaderLockOptions): LeaderLock {
  const { redis, key } = options;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const token = `${options.nodeId}:${randomBytes(6).toString('hex')}`;
  let leader = false;
  /** Until when the lock is certainly ours: the send time of the last successful SET or renewal plus the lease. */
  let validUntil = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let attempt: Promise<void> = Promise.resolve();

  const lose = () => {
    if (!leader) return;
    leader = false;
    options.onLost();
  };

  const tryOnce = async () => {
    const sentAt = Date.now();
    try {
      if (leader) {
        const renewed = Number(await redis.eval(RENEW, 1, key, token, String(leaseMs)));
        if (stopped) return;
        if (renewed === 1) validUntil = sentAt + leaseMs;
        else lose();
      } else {
        const set = await redis.set(key, token, 'PX', leaseMs, 'NX');
        if (stopped) return;
        if (set === 'OK') {
          validUntil = sentAt + leaseMs;
          leader = true;
          options.onAcquired();
        }
      }
    } catch (error) {
      if (!stopped) options.onError(error);
    }
  };

  const tick = () => {
    timer = undefined;
    if (stopped) return;
    // Unanswered renewals (Redis unreachable) don't extend the lease: past it, another node may lead.
    if (leader && Date.now() >= validUntil) lose();
    attempt = tryOnce().finally(schedule);
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(tick, Math.max(1, Math.floor(leaseMs / 3)));
  };

  return {
    token,
    get isLeader() {
      return leader && Date.now() < validUntil;
    },
    async start() {
      attempt = tryOnce();
      await attempt;
      schedule();
    },
    async release() {
      const held = leader;
      leader = false;
      if (held) await redis.eval(RELEASE, 1, key, token).catch((error: unknown) => options.onError(error));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await attempt.catch(() => undefined);
      const held = leader;
      leader = false;
      if (held) await redis.eval(RELEASE, 1, key, token).catch((error: unknown) => options.onError(error));
    },
  };
}

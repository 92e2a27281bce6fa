/**
 * postgres_changes across the nodes of a cluster: a ReplicationStream (what the postgres_changes
 * extension reads) fed from the cluster's change log in Redis (changeLog.ts) instead of this
 * process's own replication connection.
 *
 * - The node holding the leader lock (leaderLock.ts) runs the real replication stream on a fresh
 *   temporary slot and appends what it delivers to the log: `reconnecting` when it takes over, then
 *   `live` with its start position (a resync for every subscriber: changes committed between the
 *   last leader's end and this slot's start are in no stream), then changes, DDL messages, statuses.
 * - Every node, the leader too, reads the log (`XREAD BLOCK` from the last id it read) and hands
 *   each entry to the same callbacks the replication stream would, so dispatch, authorization and
 *   filters run per node for its own subscribers, unchanged.
 * - Resumes read the log (`since`), so they work on any node, after waiting until this node has
 *   itself delivered the position (`reached`): a client may come from a node ahead of this one.
 */
import type { Redis } from 'ioredis';
import { createReplicationStream } from '../replication/index.js';
import type { StreamPosition } from '../replication/resumeLog.js';
import type { ChangeEvent, LogicalMessage, ReplicationStatus, ReplicationStream, ReplicationStreamOptions } from '../replication/types.js';
import { appendEntry, decodeEntry, isNotLeader, newestEntry, readSince, type ChangeLogKeys, type LogEntry } from './changeLog.js';
import { createLeaderLock, type LeaderLock } from './leaderLock.js';
import { connectRedis, type RealtimeRedisOptions } from './redis.js';

export interface ClusterStreamOptions {
  redis: Required<RealtimeRedisOptions>;
  /** Entries (batches) the log keeps, approximately (`MAXLEN ~`). */
  maxEntries: number;
  /** The leader lock's lease. Default leaderLock's DEFAULT_LEASE_MS (3 s). */
  leaseMs?: number;
  /** How long a resuming join waits for this node to reach its position. Default 5000. */
  catchUpMs?: number;
  /** How long start() waits for a live log (some node streaming). Default 20 000. */
  startTimeoutMs?: number;
  /** The leader's own stream. Default createReplicationStream. */
  replicate?: (options: ReplicationStreamOptions) => ReplicationStream;
}

const READ_COUNT = 500;
const READ_BLOCK_MS = 1000;
const START_POLL_MS = 50;

/** A factory of cluster streams, for createPostgresChanges' `stream` option. */
export function clusterReplication(config: ClusterStreamOptions): (options: ReplicationStreamOptions) => ReplicationStream {
  return (options) => createClusterStream(config, options);
}

/** One node's view of the cluster's change stream; see the module notes. */
export function createClusterStream(config: ClusterStreamOptions, options: ReplicationStreamOptions): ReplicationStream {
  const prefix = config.redis.keyPrefix;
  const keys: ChangeLogKeys = { lock: `${prefix}changes:leader`, stream: `${prefix}changes:log` };
  const replicate = config.replicate ?? createReplicationStream;
  const catchUpMs = config.catchUpMs ?? 5000;
  const onError = (error: unknown) => {
    try {
      options.onError?.(error as never);
    } catch {
      /* nowhere left to report to */
    }
  };

  let phase: 'idle' | 'starting' | 'running' | 'stopped' = 'idle';
  let commands: Redis | undefined;
  let reader: Redis | undefined;
  let lock: LeaderLock | undefined;
  /** Leader transitions (take over, step down) run one after another. */
  let transitions: Promise<void> = Promise.resolve();
  /** The leader's replication stream. */
  let local: ReplicationStream | undefined;
  /** The leader's last appended position: the next entry's `after`. */
  let appended: StreamPosition | undefined;
  /** Where this node's own takeover's `live` entry is (start() reads on after it). */
  let leaderStart: { id: string; position: StreamPosition } | undefined;
  /** The last log id read, and the position the delivered entries are complete after. */
  let cursor = '0-0';
  let delivered: StreamPosition | undefined;
  let reading: Promise<void> | undefined;
  const waiters = new Set<{ position: StreamPosition; resolve: () => void; timer: NodeJS.Timeout }>();

  const isStopped = () => phase === 'stopped';
  const transition = (step: () => Promise<void>) => {
    transitions = transitions.then(step).catch(onError);
    return transitions;
  };

  // ---- leader: replication → log ----

  const append = (entry: LogEntry): Promise<string> => appendEntry(commands!, keys, lock!.token, config.maxEntries, entry);

  /** Appends in call order (one connection runs commands in order); a refused append ends the lead. */
  const appendLater = (entry: LogEntry) => {
    append(entry).catch((error: unknown) => {
      if (isNotLeader(error)) void transition(stepDown);
      else onError(error); // readers see the gap in the `after` chain and resync
    });
  };

  const leaderCallbacks: ReplicationStreamOptions = {
    ...options,
    onChanges: (events: ChangeEvent[]) => {
      const after = appended;
      appended = events[events.length - 1]!.position;
      appendLater({ kind: 'changes', after, position: appended, events });
    },
    onMessage: (message: LogicalMessage) => appendLater({ kind: 'message', after: appended, position: appended, message }),
    onStatus: (status: ReplicationStatus) => {
      if (status.state === 'live' && status.startPosition) appended = status.startPosition;
      appendLater({ kind: 'status', after: appended, position: status.state === 'live' ? appended : undefined, status });
    },
    onError: (error) => onError(error),
  };

  async function takeOver(): Promise<void> {
    if (phase === 'stopped' || !lock?.isLeader || local) return;
    try {
      // Readers stop counting the log as live until this node's slot streams.
      await append({ kind: 'status', after: undefined, position: undefined, status: { state: 'reconnecting', resyncNeeded: true, reason: 'connection_lost' } });
      const stream = replicate(leaderCallbacks);
      local = stream;
      const { startPosition } = await stream.start();
      // Stopped, or the lock lapsed meanwhile: release() or the queued stepDown stops the stream.
      if (isStopped() || local !== stream || !lock.isLeader) return;
      appended = startPosition;
      const status: ReplicationStatus = { state: 'live', resyncNeeded: true, startPosition, reason: 'connection_lost' };
      const id = await append({ kind: 'status', after: undefined, position: startPosition, status });
      leaderStart = { id, position: startPosition };
    } catch (error) {
      if (!isNotLeader(error)) onError(error);
      // Let another node (or this one, at the lock's next attempt) try again.
      await stepDown();
      await lock?.release();
    }
  }

  async function stepDown(): Promise<void> {
    const stream = local;
    local = undefined;
    leaderStart = undefined;
    await stream?.stop().catch(onError);
  }

  // ---- every node: log → callbacks ----

  const safely = (what: string, call: () => void) => {
    try {
      call();
    } catch (error) {
      onError(new Error(`cluster stream: ${what} threw: ${(error as Error)?.message ?? String(error)}`, { cause: error }));
    }
  };

  function apply(entry: LogEntry): void {
    if (entry.kind === 'status') {
      if (entry.status.state === 'live' && entry.position) delivered = entry.position;
      safely('onStatus', () => options.onStatus?.(entry.status));
    } else {
      if (entry.after !== delivered) {
        // Entries this node never saw (trimmed before it read them, or an append failed): what
        // follows is complete only after this entry's predecessor.
        const startPosition = entry.after ?? delivered;
        delivered = startPosition;
        safely('onStatus', () => options.onStatus?.({ state: 'live', resyncNeeded: true, ...(startPosition && { startPosition }), reason: 'connection_lost' }));
      }
      if (entry.kind === 'changes') safely('onChanges', () => options.onChanges(entry.events));
      else safely('onMessage', () => options.onMessage?.(entry.message));
      delivered = entry.position ?? delivered;
    }
    for (const waiter of waiters) {
      if (delivered !== undefined && delivered >= waiter.position) finishWaiter(waiter);
    }
  }

  async function read(): Promise<void> {
    while (phase === 'running') {
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await reader!.xread('COUNT', READ_COUNT, 'BLOCK', READ_BLOCK_MS, 'STREAMS', keys.stream, cursor)) as typeof reply;
      } catch (error) {
        if (phase !== 'running') return;
        onError(error);
        await sleep(READ_BLOCK_MS);
        continue;
      }
      for (const [id, fields] of reply?.[0]?.[1] ?? []) {
        if (phase !== 'running') return;
        cursor = id;
        let entry: LogEntry;
        try {
          entry = decodeEntry(fields);
        } catch (error) {
          onError(error);
          continue; // the next entry's `after` tells that something was skipped
        }
        apply(entry);
      }
    }
  }

  function finishWaiter(waiter: { resolve: () => void; timer: NodeJS.Timeout }): void {
    clearTimeout(waiter.timer);
    waiters.delete(waiter as never);
    waiter.resolve();
  }

  /** start(): this node's take-over entry, or the newest entry of a live log. */
  async function startingPoint(): Promise<{ id: string; position: StreamPosition }> {
    const deadline = Date.now() + (config.startTimeoutMs ?? 20_000);
    for (;;) {
      await transitions;
      if (phase !== 'starting') throw new Error('the cluster stream was stopped while starting');
      if (leaderStart) return leaderStart;
      if (!lock!.isLeader) {
        const newest = await newestEntry(commands!, keys);
        // A `reconnecting` last entry: a leader is taking over and its slot does not stream yet.
        if (newest && newest.entry.position !== undefined && !(newest.entry.kind === 'status' && newest.entry.status.state !== 'live')) {
          return { id: newest.id, position: newest.entry.position };
        }
      }
      if (Date.now() > deadline) throw new Error(`no node of the realtime cluster streams changes (nothing live in ${keys.stream} after ${config.startTimeoutMs ?? 20_000} ms); see the leader's errors`);
      await sleep(START_POLL_MS);
    }
  }

  async function release(): Promise<void> {
    for (const waiter of waiters) finishWaiter(waiter);
    await transitions;
    const stream = local;
    local = undefined;
    if (stream) {
      await stream.stop().catch(onError);
      // Readers wait for a successor instead of counting a silent log as live.
      if (lock?.isLeader) await append({ kind: 'status', after: undefined, position: undefined, status: { state: 'reconnecting', resyncNeeded: true, reason: 'connection_lost' } }).catch(() => undefined);
    }
    await lock?.stop();
    reader?.disconnect();
    await reading;
    await commands?.quit().catch(() => commands?.disconnect());
  }

  let stopping: Promise<void> | undefined;
  return {
    async start() {
      if (phase !== 'idle') throw new Error(`cluster stream: start() can be called once (it is ${phase})`);
      phase = 'starting';
      try {
        commands = await connectRedis(config.redis, 'changes');
        reader = await connectRedis(config.redis, 'changes-reader');
        lock = createLeaderLock({
          redis: commands,
          key: keys.lock,
          nodeId: config.redis.nodeId,
          ...(config.leaseMs !== undefined && { leaseMs: config.leaseMs }),
          onAcquired: () => void transition(takeOver),
          onLost: () => void transition(stepDown),
          onError,
        });
        await lock.start();
        const start = await startingPoint();
        if (phase !== 'starting') throw new Error('the cluster stream was stopped while starting');
        cursor = start.id;
        delivered = start.position;
        phase = 'running';
        reading = read();
        return { startPosition: start.position };
      } catch (error) {
        if (phase === 'starting') {
          phase = 'stopped';
          stopping = release();
        }
        await stopping;
        throw error;
      }
    },

    stop() {
      if (phase === 'stopped') return stopping ?? Promise.resolve();
      phase = 'stopped';
      stopping = release();
      return stopping;
    },

    since: (position, upTo) => readSince(commands!, keys, position, upTo),

    async reached(position) {
      if (phase !== 'running' || (delivered !== undefined && delivered >= position)) return;
      const newest = await newestEntry(commands!, keys).catch(() => undefined);
      // A position the log never held: since() says so (unknown_future) rather than this waiting.
      if (!newest || (newest.entry.position !== undefined && newest.entry.position < position)) return;
      if (delivered !== undefined && delivered >= position) return;
      await new Promise<void>((resolve) => {
        const waiter = { position, resolve, timer: setTimeout(() => finishWaiter(waiter), catchUpMs) };
        waiters.add(waiter);
      });
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

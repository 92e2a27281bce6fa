/**
 * The cluster's change-stream parts against a real redis-server, without PostgreSQL: the leader lock
 * (one holder, hand-over on release, loss noticed), the fenced append, resuming from the log
 * (boundaries, trimming, epochs), and cluster streams whose leader replicates from a fake stream.
 */
import type { Redis } from 'ioredis';
import { appendEntry, isNotLeader, readSince, type ChangeLogKeys } from '../../../lib/server/realtime/cluster/changeLog.js';
import { createClusterStream } from '../../../lib/server/realtime/cluster/clusterStream.js';
import { createLeaderLock, type LeaderLock } from '../../../lib/server/realtime/cluster/leaderLock.js';
import { connectRedis, readRedisOptions } from '../../../lib/server/realtime/cluster/redis.js';
import { formatPosition, type StreamPosition } from '../../../lib/server/realtime/replication/resumeLog.js';
import type { ChangeEvent, ReplicationStatus, ReplicationStream, ReplicationStreamOptions } from '../../../lib/server/realtime/replication/types.js';
import { startRedis, type RunningRedis } from '../../../lib/server/stack/redis.js';
import { waitFor } from './realtimeHarness';

let redis: RunningRedis;
let admin: Redis;
let counter = 0;
const locks: LeaderLock[] = [];
const streams: ReplicationStream[] = [];

beforeAll(async () => {
  redis = await startRedis();
  admin = await connectRedis(readRedisOptions({ url: redis.url, nodeId: 'test' })!, 'admin');
});

afterAll(async () => {
  for (const lock of locks) await lock.stop();
  for (const stream of streams) await stream.stop();
  admin?.disconnect();
  await redis?.stop();
});

const at = (lsn: number, seq = 0) => formatPosition(BigInt(lsn), seq);
const event = (position: StreamPosition, id: number): ChangeEvent => ({
  position, commitTimestamp: '2026-01-01T00:00:00.000Z', schema: 'public', table: 't', type: 'INSERT', columns: [{ name: 'id', type: 'int4' }], record: { id }, primaryKey: ['id'], errors: null,
});
const live = (startPosition: StreamPosition): ReplicationStatus => ({ state: 'live', resyncNeeded: true, startPosition, reason: 'connection_lost' });

function lock(key: string, nodeId: string, events: string[], leaseMs = 300): LeaderLock {
  const created = createLeaderLock({ redis: admin, key, nodeId, leaseMs, onAcquired: () => events.push(`${nodeId} acquired`), onLost: () => events.push(`${nodeId} lost`), onError: () => undefined });
  locks.push(created);
  return created;
}

describe('the leader lock', () => {
  it('has one holder; the other takes over once the holder releases it on stop', async () => {
    const key = `lock${++counter}`;
    const events: string[] = [];
    const a = lock(key, 'a', events);
    const b = lock(key, 'b', events);
    await a.start();
    await b.start();
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);
    expect(await admin.get(key)).toBe(a.token);
    await a.stop();
    await waitFor(() => (b.isLeader ? true : undefined));
    expect(events).toEqual(['a acquired', 'b acquired']);
    expect(await admin.get(key)).toBe(b.token);
  });

  it('a holder whose key another node took (its lease lapsed) notices and stops leading, and never deletes the other\'s key', async () => {
    const key = `lock${++counter}`;
    const events: string[] = [];
    const a = lock(key, 'a', events);
    await a.start();
    await admin.set(key, 'someone-else');
    await waitFor(() => (events.includes('a lost') ? true : undefined));
    expect(a.isLeader).toBe(false);
    await a.stop();
    expect(await admin.get(key)).toBe('someone-else');
  });

  it('the fence: an append with a token that does not hold the lock is refused and adds nothing', async () => {
    const keys: ChangeLogKeys = { lock: `lock${++counter}`, stream: `log${counter}` };
    await admin.set(keys.lock, 'holder');
    const error = await appendEntry(admin, keys, 'stale', 100, { kind: 'status', after: undefined, position: at(1), status: live(at(1)) }).catch((e: unknown) => e);
    expect(isNotLeader(error)).toBe(true);
    expect(await admin.xlen(keys.stream)).toBe(0);
    await appendEntry(admin, keys, 'holder', 100, { kind: 'status', after: undefined, position: at(1), status: live(at(1)) });
    expect(await admin.xlen(keys.stream)).toBe(1);
  });
});

describe('resuming from the log', () => {
  const keys: ChangeLogKeys = { lock: 'resume-lock', stream: 'resume-log' };
  const append = (entry: Parameters<typeof appendEntry>[4]) => appendEntry(admin, keys, 'holder', 10_000, entry);
  const ids = (result: Awaited<ReturnType<typeof readSince>>) => (result.ok ? result.entries.map((e) => e.record!.id) : result.reason);

  beforeAll(async () => {
    await admin.set(keys.lock, 'holder');
    // Epoch 1 from 10, epoch 2 (a new leader) from 50.
    await append({ kind: 'status', after: undefined, position: at(10), status: live(at(10)) });
    await append({ kind: 'changes', after: at(10), position: at(11, 1), events: [event(at(11, 0), 1), event(at(11, 1), 2)] });
    await append({ kind: 'message', after: at(11, 1), position: at(11, 1), message: { prefix: 'p', content: 'c', xid: 1 } });
    await append({ kind: 'changes', after: at(11, 1), position: at(12), events: [event(at(12), 3)] });
    await append({ kind: 'status', after: undefined, position: undefined, status: { state: 'reconnecting', resyncNeeded: true, reason: 'connection_lost' } });
    await append({ kind: 'status', after: undefined, position: at(50), status: live(at(50)) });
    await append({ kind: 'changes', after: at(50), position: at(51), events: [event(at(51), 4)] });
  });

  it('replays the changes after a position, up to what the node dispatched, across DDL messages and within a transaction', async () => {
    expect(ids(await readSince(admin, keys, at(10), at(12)))).toEqual([1, 2, 3]);
    expect(ids(await readSince(admin, keys, at(11, 0), at(12)))).toEqual([2, 3]);
    expect(ids(await readSince(admin, keys, at(11, 1), at(11, 1)))).toEqual([]);
    expect(ids(await readSince(admin, keys, at(50), at(51)))).toEqual([4]);
  });

  it('refuses positions before an epoch it has reached, beyond what it dispatched, or malformed', async () => {
    expect(ids(await readSince(admin, keys, at(12), at(51)))).toBe('too_old'); // changes 12..50 are in no stream
    expect(ids(await readSince(admin, keys, at(9), at(12)))).toBe('too_old');
    expect(ids(await readSince(admin, keys, at(13), at(12)))).toBe('unknown_future');
    expect(ids(await readSince(admin, keys, 'nope', at(12)))).toBe('malformed');
    // A node still in epoch 1 (dispatched up to 12) ignores epoch 2's start, which it has not reached.
    expect(ids(await readSince(admin, keys, at(11, 0), at(12)))).toEqual([2, 3]);
  });

  it('a position whose entries were trimmed away is too old', async () => {
    const trimmed: ChangeLogKeys = { lock: keys.lock, stream: 'trimmed-log' };
    const add = (entry: Parameters<typeof appendEntry>[4]) => appendEntry(admin, trimmed, 'holder', 10_000, entry);
    await add({ kind: 'status', after: undefined, position: at(10), status: live(at(10)) });
    for (let i = 1; i <= 5; i++) await add({ kind: 'changes', after: at(10 + i - 1), position: at(10 + i), events: [event(at(10 + i), i)] });
    await admin.xtrim(trimmed.stream, 'MAXLEN', 3);
    expect(ids(await readSince(admin, trimmed, at(12), at(15)))).toEqual([3, 4, 5]); // the oldest kept entry starts after 12
    expect(ids(await readSince(admin, trimmed, at(11), at(15)))).toBe('too_old');
  });
});

describe('cluster streams', () => {
  /** A replication stream the test feeds by hand (the leader's "PostgreSQL"). */
  function fakeReplication(start: StreamPosition) {
    const fed: Array<ReplicationStreamOptions> = [];
    const replicate = (options: ReplicationStreamOptions): ReplicationStream => {
      fed.push(options);
      return { start: async () => ({ startPosition: start }), stop: async () => undefined };
    };
    return { replicate, feed: () => fed[fed.length - 1]! };
  }

  function node(prefix: string, nodeId: string, replicate: (options: ReplicationStreamOptions) => ReplicationStream) {
    const heard: string[] = [];
    const stream = createClusterStream(
      { redis: readRedisOptions({ url: redis.url, keyPrefix: prefix, nodeId })!, maxEntries: 1000, leaseMs: 600, replicate },
      {
        databaseUrl: 'unused', publication: 'unused',
        onChanges: (events) => heard.push(...events.map((e) => `change ${String(e.record!.id)}`)),
        onMessage: (message) => heard.push(`message ${message.content}`),
        onStatus: (status) => heard.push(`${status.state}${status.resyncNeeded ? ' resync' : ''} ${status.startPosition ?? ''}`.trim()),
      },
    );
    streams.push(stream);
    return { stream, heard };
  }

  it('every node hears what the leader replicates, in order; a gap in the log (entries it never read) is a resync', async () => {
    const prefix = `cl${++counter}:`;
    const fake = fakeReplication(at(100));
    const a = node(prefix, 'a', fake.replicate);
    const b = node(prefix, 'b', fake.replicate);
    expect(await a.stream.start()).toEqual({ startPosition: at(100) });
    expect(await b.stream.start()).toEqual({ startPosition: at(100) });
    fake.feed().onChanges([event(at(101), 1), event(at(101, 1), 2)]);
    fake.feed().onMessage!({ prefix: 'p', content: 'ddl', xid: 7 });
    fake.feed().onChanges([event(at(102), 3)]);
    const expected = ['change 1', 'change 2', 'message ddl', 'change 3'];
    await waitFor(() => (a.heard.length === 4 && b.heard.length === 4 ? true : undefined));
    expect(a.heard).toEqual(expected);
    expect(b.heard).toEqual(expected);

    // An entry whose predecessor this node never read (as when trimmed before it got there).
    const token = await admin.get(`${prefix}changes:leader`);
    await appendEntry(admin, { lock: `${prefix}changes:leader`, stream: `${prefix}changes:log` }, token!, 1000, { kind: 'changes', after: at(110), position: at(111), events: [event(at(111), 9)] });
    await waitFor(() => (b.heard.length === 6 ? true : undefined));
    expect(b.heard.slice(4)).toEqual([`live resync ${at(110)}`, 'change 9']);
    // reached(): at once for what this node delivered, and for positions the log never held.
    await b.stream.reached!(at(111));
    await b.stream.reached!(at(500));
  });

  it('when the leader stops, a follower takes over on a fresh stream and every node is told to resync', async () => {
    const prefix = `cl${++counter}:`;
    const first = fakeReplication(at(200));
    const second = fakeReplication(at(300));
    const a = node(prefix, 'a', first.replicate);
    const b = node(prefix, 'b', second.replicate);
    await a.stream.start();
    await b.stream.start();
    first.feed().onChanges([event(at(201), 1)]);
    await waitFor(() => (b.heard.length === 1 ? true : undefined));
    await a.stream.stop();
    await waitFor(() => (b.heard.length >= 4 ? true : undefined));
    second.feed().onChanges([event(at(301), 2)]);
    await waitFor(() => (b.heard.includes('change 2') ? true : undefined));
    // The old leader's `reconnecting`, the new one's own `reconnecting`, then its fresh start.
    expect(b.heard).toEqual(['change 1', 'reconnecting resync', 'reconnecting resync', `live resync ${at(300)}`, 'change 2']);
  });
});

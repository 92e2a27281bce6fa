/**
 * postgres_changes across a cluster of realtime nodes meeting in a real redis-server (issue 15):
 * one node replicates into the shared change log, every node fans out to its own clients; resumes
 * work on any node; a closed or killed leader is replaced and its successor's clients resync.
 * Three nodes in this process (and one in a child process, to kill -9), against the shared test
 * database; raw sockets, since the stock client can't send `resume_after`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { createRealtimeServer, type RealtimeServer, type RealtimeServerOptions } from '../../../lib/server/realtime/server.js';
import { connectRedis, readRedisOptions } from '../../../lib/server/realtime/cluster/redis.js';
import { startRedis, type RunningRedis } from '../../../lib/server/stack/redis.js';
import { testStack, sql, closeSql } from '../../support/stack';
import { rawChannels, changeIds, type JoinedChannel, type SystemPayload } from './rawChannels';
import { waitFor } from './realtimeHarness';

const stack = testStack();
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const NODE_SCRIPT = fileURLToPath(new URL('./clusterNode.ts', import.meta.url));
const ALICE = 'a1111111-1111-4111-8111-111111111111';
const BOB = 'b2222222-2222-4222-8222-222222222222';

let redis: RunningRedis;
let admin: Redis;
const servers: RealtimeServer[] = [];
const children: ChildProcess[] = [];
const socketSets: Array<ReturnType<typeof rawChannels>> = [];
let nextId = 0;
let clusterCounter = 0;

beforeAll(async () => {
  redis = await startRedis();
  admin = await connectRedis(readRedisOptions({ url: redis.url, nodeId: 'test-admin' })!, 'admin');
  await sql(`
    create table if not exists cs_items (id int4 primary key, qty int4 not null);
    alter table cs_items replica identity full;
    grant select on cs_items to anon, authenticated;
    create table if not exists cs_private (id int4 primary key, owner uuid not null);
    alter table cs_private enable row level security;
    grant select on cs_private to authenticated;
    drop policy if exists cs_own on cs_private;
    create policy cs_own on cs_private for select to authenticated
      using (owner = (current_setting('request.jwt.claims', true)::jsonb ->> 'sub')::uuid);
  `);
});

afterAll(async () => {
  for (const set of socketSets) set.closeAll();
  for (const server of servers) await server.close().catch(() => undefined);
  for (const child of children) child.kill('SIGKILL');
  admin?.disconnect();
  await redis?.stop();
  await closeSql();
});

interface Cluster {
  prefix: string;
  nodes: RealtimeServer[];
  /** Raw sockets against node i. */
  on(i: number): ReturnType<typeof rawChannels>;
  /** The nodeId holding the leader lock (undefined while none does). */
  leader(): Promise<string | undefined>;
  /** Node i's id. */
  id(i: number): string;
}

function nodeOptions(prefix: string, nodeId: string, extra: Partial<RealtimeServerOptions> = {}): RealtimeServerOptions {
  return { jwtSecret: stack.jwtSecret, databaseUrl: stack.databaseUrl, redis: { url: redis.url, keyPrefix: prefix, nodeId }, ...extra };
}

/** Starts `count` nodes of a new cluster (its own key prefix), one after another: the first leads. */
async function startCluster(count: number, extra: Partial<RealtimeServerOptions> = {}): Promise<Cluster> {
  const prefix = `cs${++clusterCounter}:`;
  const id = (i: number) => `c${clusterCounter}n${i}`;
  const nodes: RealtimeServer[] = [];
  for (let i = 0; i < count; i++) {
    const server = await createRealtimeServer({ ...nodeOptions(prefix, id(i), extra), onError: () => undefined });
    servers.push(server);
    nodes.push(server);
  }
  const sets = nodes.map((node) => rawChannels(() => node.url, () => stack.anonKey));
  socketSets.push(...sets);
  return {
    prefix,
    nodes,
    on: (i) => sets[i]!,
    id,
    leader: async () => (await admin.get(`${prefix}changes:leader`))?.split(':')[0],
  };
}

const items = (on: ReturnType<typeof rawChannels>, config: Record<string, unknown> = {}, filter?: string) =>
  on.join({ bindings: [{ event: '*', schema: 'public', table: 'cs_items', ...(filter && { filter }) }], config });

/** `type:id` of each change a channel got, in order. */
const seen = (channel: JoinedChannel) => channel.changes().map((change) => `${change.data.type}:${change.data.record?.id ?? change.data.old_record?.id}`);
const resyncs = (channel: JoinedChannel): SystemPayload[] => channel.systems().filter((message) => message.resync);

async function insertItems(count: number, qty = 1): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const id = ++nextId;
    await sql('insert into cs_items (id, qty) values ($1, $2)', [id, qty]);
    ids.push(id);
  }
  return ids;
}

/** A node in a child process (to kill -9); resolves with its URL once it listens. */
async function startChildNode(prefix: string, nodeId: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', NODE_SCRIPT], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, CLUSTER_NODE: JSON.stringify(nodeOptions(prefix, nodeId)) },
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(() => (output.includes('\n') ? true : undefined), 30_000);
  return { child, url: (JSON.parse(output.split('\n')[0]!) as { url: string }).url };
}

async function kill9(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** Waits until every channel got the change `type:id` (so everything committed before it too). */
async function allGot(channels: JoinedChannel[], change: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(() => (channels.every((channel) => seen(channel).includes(change)) ? true : undefined), timeoutMs);
}

describe('three nodes sharing one replication stream', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster(3);
  });

  it('exactly one node holds the leader lock, and it is the first one started', async () => {
    expect(await cluster.leader()).toBe(cluster.id(0));
    // One replication slot for the cluster: the followers read Redis, not PostgreSQL.
    const slots = await sql<{ n: number }>(`select count(*)::int as n from pg_replication_slots where slot_name like 'rtk_realtime%' and active`);
    expect(slots[0]!.n).toBeGreaterThanOrEqual(1);
    expect(await admin.xlen(`${cluster.prefix}changes:log`)).toBeGreaterThan(0);
  });

  it('every client on every node gets every change it may see, exactly once, in commit order (filters and RLS per node)', async () => {
    const all: JoinedChannel[] = [];
    const filtered: JoinedChannel[] = [];
    const alice: JoinedChannel[] = [];
    const bob: JoinedChannel[] = [];
    for (let i = 0; i < 3; i++) {
      all.push(await items(cluster.on(i)), await items(cluster.on(i)));
      filtered.push(await items(cluster.on(i), {}, 'qty=gt.5'));
      alice.push(await cluster.on(i).join({ table: 'cs_private', accessToken: stack.signToken({ sub: ALICE }) }));
      bob.push(await cluster.on(i).join({ table: 'cs_private', accessToken: stack.signToken({ sub: BOB }) }));
    }
    const everyone = [...all, ...filtered, ...alice, ...bob];
    await Promise.all(everyone.map((channel) => channel.subscribed()));

    // One writer, so commit order is the order of these statements.
    const expected = { all: [] as string[], filtered: [] as string[], alice: [] as string[], bob: [] as string[] };
    const qty = new Map<number, number>();
    const item = (type: string, id: number, before: number | undefined, after: number | undefined) => {
      expected.all.push(`${type}:${id}`);
      // INSERT and UPDATE match on the new row, DELETE on the old one (REPLICA IDENTITY FULL).
      if ((type === 'DELETE' ? before! : after!) > 5) expected.filtered.push(`${type}:${id}`);
    };
    for (let round = 0; round < 12; round++) {
      const a = ++nextId;
      const b = ++nextId;
      const p = ++nextId;
      // A transaction of several changes on both tables.
      await sql(`begin; insert into cs_items values (${a}, ${round}), (${b}, ${10 + round}); insert into cs_private values (${p}, '${round % 3 === 0 ? BOB : ALICE}'); commit;`);
      item('INSERT', a, undefined, round);
      item('INSERT', b, undefined, 10 + round);
      qty.set(a, round).set(b, 10 + round);
      (round % 3 === 0 ? expected.bob : expected.alice).push(`INSERT:${p}`);
      await sql('update cs_items set qty = qty + 3 where id = $1', [a]);
      item('UPDATE', a, round, round + 3);
      if (round % 2 === 0) {
        await sql('delete from cs_items where id = $1', [b]);
        item('DELETE', b, 10 + round, undefined);
      }
    }
    const last = ++nextId;
    const lastPrivate = [++nextId, ++nextId];
    await sql(`begin; insert into cs_items values (${last}, 100); insert into cs_private values (${lastPrivate[0]}, '${ALICE}'), (${lastPrivate[1]}, '${BOB}'); commit;`);
    item('INSERT', last, undefined, 100);
    expected.alice.push(`INSERT:${lastPrivate[0]}`);
    expected.bob.push(`INSERT:${lastPrivate[1]}`);

    await allGot([...all, ...filtered], `INSERT:${last}`);
    await allGot(alice, `INSERT:${lastPrivate[0]}`);
    await allGot(bob, `INSERT:${lastPrivate[1]}`);
    for (const channel of all) expect(seen(channel)).toEqual(expected.all);
    for (const channel of filtered) expect(seen(channel)).toEqual(expected.filtered);
    for (const channel of alice) expect(seen(channel)).toEqual(expected.alice);
    for (const channel of bob) expect(seen(channel)).toEqual(expected.bob);
    for (const channel of everyone) expect(resyncs(channel)).toEqual([]);
    // Positions are the ones a single node would send: increasing along each channel.
    const positions = all[0]!.changes().map((change) => change.position);
    expect([...positions].sort()).toEqual(positions);
    expect(new Set(positions).size).toBe(positions.length);
  });

  it('a client that leaves node A and resumes on node B misses nothing and gets nothing twice, while writes go on', async () => {
    const first = await items(cluster.on(0));
    await first.subscribed();
    const [firstId] = await insertItems(2);
    await waitFor(() => (first.changes().length === 2 ? true : undefined));
    const resumeAfter = first.changes()[0]!.position; // as if it applied only the first
    first.socket.terminate();

    // One writer (commit order = id order) that goes on through the resume.
    let writing = true;
    const written: number[] = [];
    const writer = (async () => {
      while (writing) written.push(...(await insertItems(1)));
    })();
    try {
      await waitFor(() => (written.length >= 10 ? true : undefined));
      const second = await items(cluster.on(1), { resume_after: resumeAfter });
      expect(await second.subscribed()).toMatchObject({ status: 'ok', resumed: true });
      const joinedAt = written.length;
      await waitFor(() => (written.length >= joinedAt + 10 ? true : undefined));
      writing = false;
      await writer;
      const [sentinel] = await insertItems(1);
      await allGot([second], `INSERT:${sentinel}`);
      const rows = await sql<{ id: number }>('select id from cs_items where id > $1 order by id', [firstId]);
      expect(changeIds(second.changes())).toEqual(rows.map((row) => row.id));
      expect(resyncs(second)).toEqual([]);
    } finally {
      writing = false;
      await writer;
    }
  });

  it('a resume on a third node replays only what its filter lets through, from the shared log', async () => {
    const first = await items(cluster.on(1), {}, 'qty=gt.5');
    const { position } = await first.subscribed();
    first.socket.terminate();
    const low = await insertItems(2, 1);
    const high = await insertItems(2, 9);
    const watcher = await items(cluster.on(0));
    await watcher.subscribed();
    const [sentinel] = await insertItems(1, 9);
    await allGot([watcher], `INSERT:${sentinel}`);
    const second = await items(cluster.on(2), { resume_after: position }, 'qty=gt.5');
    expect(await second.subscribed()).toMatchObject({ resumed: true });
    expect(changeIds(second.changes())).toEqual([...high, sentinel]);
    expect(low.some((id) => changeIds(second.changes()).includes(id))).toBe(false);
  });

  it('a position from before the shared log begins gets the resync notice on any node', async () => {
    const channel = await items(cluster.on(2), { resume_after: '0000000000000001:00000000' });
    expect(await channel.subscribed()).toMatchObject({ resumed: false });
    expect(resyncs(channel)).toEqual([expect.objectContaining({ reason: 'resume_too_old' })]);
  });
});

describe('a bounded shared log', () => {
  it('a position the log no longer holds gets the resync notice; a recent one still resumes', async () => {
    // MAXLEN ~ trims whole macro nodes (100 entries each): a few hundred single-row commits overflow 10.
    const cluster = await startCluster(2, { resumeLogSize: 10 });
    const early = await items(cluster.on(0));
    await early.subscribed();
    await insertItems(1);
    await waitFor(() => (early.changes().length === 1 ? true : undefined));
    const old = early.changes()[0]!.position;
    const ids = await insertItems(300);
    await allGot([early], `INSERT:${ids[ids.length - 1]}`);
    expect(await admin.xlen(`${cluster.prefix}changes:log`)).toBeLessThan(300);
    const recent = early.changes()[early.changes().length - 2]!.position;

    const tooOld = await items(cluster.on(1), { resume_after: old });
    expect(await tooOld.subscribed()).toMatchObject({ resumed: false });
    expect(resyncs(tooOld)).toEqual([expect.objectContaining({ reason: 'resume_too_old' })]);
    const fresh = await items(cluster.on(1), { resume_after: recent });
    expect(await fresh.subscribed()).toMatchObject({ resumed: true });
    expect(changeIds(fresh.changes())).toEqual(ids.slice(-1));
    await Promise.all(cluster.nodes.map((node) => node.close()));
  });
});

describe('leader hand-over', () => {
  /** Joins one channel per node, inserts, and checks each hears it after a resync notice. */
  async function expectResyncThenChanges(channels: JoinedChannel[]): Promise<void> {
    await waitFor(() => (channels.every((channel) => resyncs(channel).some((message) => message.reason === 'connection_lost')) ? true : undefined), 15_000);
    const before = channels.map((channel) => channel.changes().length);
    const [id] = await insertItems(1);
    await allGot(channels, `INSERT:${id}`);
    channels.forEach((channel, i) => {
      // Only the new change, after the notice: nothing replayed or repeated across the hand-over.
      expect(seen(channel).slice(before[i])).toEqual([`INSERT:${id}`]);
      const notice = channel.frames.findIndex((frame) => frame.topic === channel.topic && frame.event === 'system' && frame.payload.resync === true);
      const change = channel.frames.findIndex((frame) => frame.topic === channel.topic && frame.event === 'postgres_changes' && (frame.payload as { data: { record?: { id?: number } } }).data.record?.id === id);
      expect(notice).toBeLessThan(change);
    });
  }

  it('closing the leader: another node takes over, its clients get a resync notice and then changes again', async () => {
    const cluster = await startCluster(3);
    expect(await cluster.leader()).toBe(cluster.id(0));
    const channels = [await items(cluster.on(1)), await items(cluster.on(2))];
    await Promise.all(channels.map((channel) => channel.subscribed()));
    const [id] = await insertItems(1);
    await allGot(channels, `INSERT:${id}`);

    await cluster.nodes[0]!.close();
    await expectResyncThenChanges(channels);
    expect([cluster.id(1), cluster.id(2)]).toContain(await cluster.leader());
    // A client joining now (no resume) is live at once.
    const late = await items(cluster.on(2));
    await late.subscribed();
    const [after] = await insertItems(1);
    await allGot([late], `INSERT:${after}`);
    const connections = async () => {
      const names = String(await admin.client('LIST')).match(/name=\S+/g) ?? [];
      return names.filter((name) => [0, 1, 2].some((i) => name.startsWith(`name=${cluster.id(i)}:`))).sort();
    };
    // Each open node holds its change-log connections and its bus (broadcast and presence) connections; the closed one none.
    expect(await connections()).toEqual([1, 2].flatMap((i) => ['bus-pub', 'bus-sub', 'changes', 'changes-reader'].map((name) => `name=${cluster.id(i)}:${name}`)).sort());
    await Promise.all(cluster.nodes.slice(1).map((node) => node.close()));
    expect(await cluster.leader()).toBeUndefined();
    // Closed nodes leave no Redis connection behind.
    expect(await connections()).toEqual([]);
  });

  it('kill -9 of the leader process: another node takes over within the lease, its clients resync and hear changes again', async () => {
    const prefix = `cs${++clusterCounter}:`;
    const { child } = await startChildNode(prefix, 'child');
    expect(await admin.get(`${prefix}changes:leader`)).toMatch(/^child:/);
    const nodes: RealtimeServer[] = [];
    for (const nodeId of ['k1', 'k2']) {
      const server = await createRealtimeServer({ ...nodeOptions(prefix, nodeId), onError: () => undefined });
      servers.push(server);
      nodes.push(server);
    }
    const sets = nodes.map((node) => rawChannels(() => node.url, () => stack.anonKey));
    socketSets.push(...sets);
    const channels = [await items(sets[0]!), await items(sets[1]!)];
    await Promise.all(channels.map((channel) => channel.subscribed()));
    const [id] = await insertItems(1);
    await allGot(channels, `INSERT:${id}`);

    await kill9(child);
    await expectResyncThenChanges(channels);
    expect(['k1', 'k2']).toContain((await admin.get(`${prefix}changes:leader`))?.split(':')[0]);
    await Promise.all(nodes.map((node) => node.close()));
  });
});

describe('a follower killed', () => {
  it('kill -9 of a follower process: its client resumes on another node without gaps or duplicates while writes go on, and the leader is unaffected', async () => {
    const cluster = await startCluster(2);
    const { child, url } = await startChildNode(cluster.prefix, 'follower');
    const onChild = rawChannels(() => url, () => stack.anonKey);
    socketSets.push(onChild);
    const first = await items(onChild);
    await first.subscribed();
    const watcher = await items(cluster.on(1));
    await watcher.subscribed();

    let writing = true;
    const written: number[] = [];
    const writer = (async () => {
      while (writing) written.push(...(await insertItems(1)));
    })();
    try {
      await waitFor(() => (first.changes().length >= 5 ? true : undefined));
      await kill9(child);
      const heard = first.changes();
      const resumeAfter = heard[heard.length - 1]!.position;
      const second = await items(cluster.on(0), { resume_after: resumeAfter });
      expect(await second.subscribed()).toMatchObject({ resumed: true });
      const resumedAt = written.length;
      await waitFor(() => (written.length >= resumedAt + 10 ? true : undefined));
      writing = false;
      await writer;
      const [sentinel] = await insertItems(1);
      await allGot([second, watcher], `INSERT:${sentinel}`);
      const firstId = changeIds(heard)[0] as number;
      const rows = await sql<{ id: number }>('select id from cs_items where id >= $1 order by id', [firstId]);
      expect([...changeIds(heard), ...changeIds(second.changes())]).toEqual(rows.map((row) => row.id));
      expect(resyncs(second)).toEqual([]);
      expect(resyncs(watcher)).toEqual([]); // a follower's death is no hand-over
      expect(await cluster.leader()).toBe(cluster.id(0));
    } finally {
      writing = false;
      await writer;
    }
  });
});

describe('the redis option', () => {
  it('is validated before anything starts, and an unreachable Redis fails the start naming it', async () => {
    await expect(createRealtimeServer({ ...nodeOptions('bad:', 'x'), redis: { url: 'http://x' } })).rejects.toThrow(/redis\.url must be a redis:\/\/ or rediss:\/\/ URL/);
    await expect(createRealtimeServer({ ...nodeOptions('bad:', 'x'), redis: { url: 'redis://127.0.0.1:1' }, onError: () => undefined })).rejects.toThrow(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  });
});

/**
 * Realtime nodes forming one cluster through a real redis-server (issue 15): client broadcasts and
 * presence between clients on different nodes, a client leaving, a node crashing (a child process
 * killed with SIGKILL), and private channels authorized on the client's node.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { startRedis, type RunningRedis } from '../../../lib/server/stack/redis.js';
import { createRealtimeServer, type RealtimeServer, type RealtimeServerOptions } from '../../../lib/server/realtime/server.js';
import type { RealtimeRedisOptions } from '../../../lib/server/realtime/cluster/redis.js';
import { SECRET, token, waitFor } from './realtimeHarness';
import { closeSql, sql, testStack } from '../../support/stack';

let redis: RunningRedis;
const servers: RealtimeServer[] = [];
const sockets: WebSocket[] = [];
const children: ChildProcess[] = [];
let clusterCounter = 0;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(servers.map((server) => server.close()));
  await redis.stop();
  await closeSql();
});

/** Options of a new cluster (its own key prefix, so tests don't see each other's nodes); default timings unless given. */
function newCluster(timing: Pick<RealtimeRedisOptions, 'heartbeatMs' | 'nodeTimeoutMs'> = {}): (nodeId: string) => RealtimeRedisOptions {
  const keyPrefix = `test-${process.pid}-${++clusterCounter}:`;
  return (nodeId) => ({ url: redis.url, keyPrefix, nodeId, ...timing });
}

async function startNode(redisOptions: RealtimeRedisOptions, extra: Partial<RealtimeServerOptions> = {}): Promise<RealtimeServer> {
  const server = await createRealtimeServer({ jwtSecret: SECRET, redis: redisOptions, ...extra });
  servers.push(server);
  return server;
}

interface Frame {
  topic: string;
  event: string;
  ref: string | null;
  payload: any;
}

interface Client {
  socket: WebSocket;
  frames: Frame[];
  topic: string;
  /** Frames of `event` on the channel's topic. */
  on(event: string): Frame[];
  send(event: string, payload: unknown, ref?: string): void;
  /** The reply to the push sent with `ref`. */
  reply(ref: string): Promise<{ status: string; response: any }>;
}

/** A raw vsn 1.0.0 socket on `url` joined to `name` with `config`, once its join was answered ok. */
async function join(url: string, name: string, config: Record<string, unknown>, apikey = token(), accessToken?: string): Promise<Client> {
  const client = await open(url, name, config, apikey, accessToken);
  const joined = await client.reply('join');
  if (joined.status !== 'ok') throw new Error(`join refused: ${JSON.stringify(joined.response)}`);
  return client;
}

/** A raw vsn 1.0.0 socket on `url` that sent its join of `name` (not yet answered). */
async function open(url: string, name: string, config: Record<string, unknown>, apikey: string, accessToken?: string): Promise<Client> {
  const socket = new WebSocket(`${url}/websocket?apikey=${apikey}&vsn=1.0.0`);
  sockets.push(socket);
  const frames: Frame[] = [];
  socket.on('message', (data) => frames.push(JSON.parse(String(data)) as Frame));
  await new Promise((resolve, reject) => socket.on('open', resolve).on('error', reject));
  const topic = `realtime:${name}`;
  const client: Client = {
    socket,
    frames,
    topic,
    on: (event) => frames.filter((frame) => frame.topic === topic && frame.event === event),
    send: (event, payload, ref) => socket.send(JSON.stringify({ topic, event, payload, ref: ref ?? null, join_ref: 'j' })),
    reply: (ref) => waitFor(() => frames.find((frame) => frame.event === 'phx_reply' && frame.ref === ref)?.payload),
  };
  socket.send(JSON.stringify({ topic, event: 'phx_join', payload: { config, ...(accessToken && { access_token: accessToken }) }, ref: 'join', join_ref: 'j' }));
  return client;
}

const broadcastConfig = (self = false, ack = false) => ({ broadcast: { self, ack }, presence: { enabled: false } });
const presenceConfig = (key: string) => ({ broadcast: { self: false, ack: false }, presence: { enabled: true, key } });

/** The broadcasts of `event` a client got, by their payload's `n`. */
const got = (client: Client, event: string) => client.on('broadcast').filter((frame) => frame.payload.event === event).map((frame) => frame.payload.payload.n as number);

/** The keys of a presence state, sorted. */
const keys = (state: Record<string, unknown>) => Object.keys(state).sort();

/** Every key a client has seen join minus those seen leave, applying its state then its diffs in order. */
function presenceOf(client: Client): Map<string, string[]> {
  const state = new Map<string, string[]>();
  for (const frame of client.on('presence_state').concat(client.on('presence_diff')).sort((a, b) => client.frames.indexOf(a) - client.frames.indexOf(b))) {
    if (frame.event === 'presence_state') {
      state.clear();
      for (const [key, entry] of Object.entries<any>(frame.payload)) state.set(key, entry.metas.map((meta: any) => meta.phx_ref));
      continue;
    }
    for (const [key, entry] of Object.entries<any>(frame.payload.joins)) state.set(key, [...(state.get(key) ?? []), ...entry.metas.map((meta: any) => meta.phx_ref)]);
    for (const [key, entry] of Object.entries<any>(frame.payload.leaves)) {
      const left = new Set(entry.metas.map((meta: any) => meta.phx_ref));
      const metas = (state.get(key) ?? []).filter((ref) => !left.has(ref));
      if (metas.length === 0) state.delete(key);
      else state.set(key, metas);
    }
  }
  return state;
}

describe('broadcast across nodes', () => {
  it('reaches every other subscriber of the room on every node exactly once; the sender only with self; ack still answers', async () => {
    const node = newCluster();
    const [n1, n2, n3] = await Promise.all([startNode(node('n1')), startNode(node('n2')), startNode(node('n3'))]);
    const room = `room-${clusterCounter}`;
    const sender = await join(n1.url, room, broadcastConfig(false, true));
    const selfSender = await join(n2.url, room, broadcastConfig(true, false));
    const receivers = [await join(n1.url, room, broadcastConfig()), await join(n2.url, room, broadcastConfig()), await join(n3.url, room, broadcastConfig()), await join(n3.url, room, broadcastConfig())];
    const elsewhere = await join(n3.url, `${room}-other`, broadcastConfig());

    sender.send('broadcast', { type: 'broadcast', event: 'hello', payload: { n: 1 } }, 'b1');
    expect(await sender.reply('b1')).toEqual({ status: 'ok', response: {} });
    selfSender.send('broadcast', { type: 'broadcast', event: 'hello', payload: { n: 2 } });

    // A barrier every node takes part in: one marker from a client on each node, sent after that
    // client had both broadcasts. A node that published a relayed broadcast again would have done so
    // before its marker, and the markers come after anything a node published earlier.
    const everyone = [sender, selfSender, ...receivers];
    for (const client of receivers) await waitFor(() => (got(client, 'hello').length >= 2 ? true : undefined));
    await waitFor(() => (got(sender, 'hello').length >= 1 ? true : undefined));
    const markers = [receivers[0]!, receivers[1]!, receivers[2]!];
    markers.forEach((client, i) => client.send('broadcast', { type: 'broadcast', event: 'marker', payload: { n: i } }));
    for (const client of everyone) {
      const others = markers.filter((marker) => marker !== client).length;
      await waitFor(() => (got(client, 'marker').length >= others ? true : undefined));
    }

    for (const client of receivers) expect(got(client, 'hello').sort()).toEqual([1, 2]);
    expect(got(sender, 'hello')).toEqual([2]);
    expect(got(selfSender, 'hello').sort()).toEqual([1, 2]);
    for (const client of everyone) expect(got(client, 'marker').length).toBe(markers.filter((marker) => marker !== client).length);
    expect(elsewhere.on('broadcast')).toEqual([]);
  });

  it('keeps the per-connection limit on the sender\'s node: a push past it is refused there and reaches no other node', async () => {
    const node = newCluster();
    const [n1, n2] = await Promise.all([startNode(node('n1'), { maxMessagesPerSecond: 2 }), startNode(node('n2'))]);
    const room = `room-${clusterCounter}`;
    const sender = await join(n1.url, room, broadcastConfig(false, true));
    const receiver = await join(n2.url, room, broadcastConfig());
    for (let n = 1; n <= 3; n++) sender.send('broadcast', { type: 'broadcast', event: 'flood', payload: { n } }, `f${n}`);
    expect((await sender.reply('f3')).response.reason).toMatch(/^MessagePerSecondRateLimitReached/);
    // The refused push never left node 1: a later one from node 2's side is the barrier.
    const back = await join(n2.url, room, broadcastConfig());
    back.send('broadcast', { type: 'broadcast', event: 'marker', payload: { n: 0 } });
    await waitFor(() => (got(sender, 'marker').length === 1 ? true : undefined));
    expect(got(receiver, 'flood').sort()).toEqual([1, 2]);
  });

  it('carries a binary (vsn 2.0.0) broadcast payload byte for byte', async () => {
    const node = newCluster();
    const [n1, n2] = await Promise.all([startNode(node('n1')), startNode(node('n2'))]);
    const room = `room-${clusterCounter}`;
    const receiver = new WebSocket(`${n2.url}/websocket?apikey=${token()}&vsn=2.0.0`);
    sockets.push(receiver);
    const binaries: Buffer[] = [];
    const texts: unknown[] = [];
    receiver.on('message', (data, isBinary) => (isBinary ? binaries.push(data as Buffer) : texts.push(JSON.parse(String(data)))));
    await new Promise((resolve, reject) => receiver.on('open', resolve).on('error', reject));
    receiver.send(JSON.stringify(['j', 'join', `realtime:${room}`, 'phx_join', { config: broadcastConfig() }]));
    await waitFor(() => (texts.some((frame: any) => frame[1] === 'join' && frame[4]?.status === 'ok') ? true : undefined));

    const sender = new WebSocket(`${n1.url}/websocket?apikey=${token()}&vsn=2.0.0`);
    sockets.push(sender);
    const senderTexts: unknown[] = [];
    sender.on('message', (data, isBinary) => isBinary || senderTexts.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => sender.on('open', resolve).on('error', reject));
    sender.send(JSON.stringify(['s', 'join', `realtime:${room}`, 'phx_join', { config: broadcastConfig(false, true) }]));
    await waitFor(() => (senderTexts.some((frame: any) => frame[1] === 'join' && frame[4]?.status === 'ok') ? true : undefined));
    const bytes = Buffer.from([0, 1, 2, 250, 255, 128]);
    // Supabase's user broadcast push (kind 3): join_ref, ref, topic, event, metadata lengths, encoding 0 (binary), then the bytes.
    const header = (parts: string[]) => Buffer.concat(parts.map((part) => Buffer.from(part)));
    const [joinRef, ref, topic, event, meta] = ['s', 'p1', `realtime:${room}`, 'bin', ''];
    const frame = Buffer.concat([
      Buffer.from([3, joinRef.length, ref.length, topic.length, event.length, meta.length, 0]),
      header([joinRef, ref, topic, event, meta]),
      bytes,
    ]);
    sender.send(frame);
    const received = await waitFor(() => binaries[0]);
    expect(received.subarray(received.length - bytes.length).equals(bytes)).toBe(true);
  });
});

describe('presence across nodes', () => {
  it('clients on different nodes see each other in presence_state and diffs; a node started later gets the others\' state', async () => {
    // Heartbeats too rare to help: a node learns the others' state from their answers to its hello.
    const cluster = newCluster();
    const node = (nodeId: string) => ({ ...cluster(nodeId), heartbeatMs: 60_000, nodeTimeoutMs: 120_000 });
    const [n1, n2] = await Promise.all([startNode(node('n1')), startNode(node('n2'))]);
    const room = `room-${clusterCounter}`;
    const ana = await join(n1.url, room, presenceConfig('ana'));
    ana.send('presence', { type: 'presence', event: 'track', payload: { name: 'ana' } }, 't1');
    expect((await ana.reply('t1')).status).toBe('ok');
    const bob = await join(n2.url, room, presenceConfig('bob'));
    // bob joined after ana tracked: his presence_state already holds her meta from node 1.
    expect(keys(bob.on('presence_state')[0]!.payload)).toEqual(['ana']);
    expect(bob.on('presence_state')[0]!.payload.ana.metas[0]).toMatchObject({ name: 'ana' });
    bob.send('presence', { type: 'presence', event: 'track', payload: { name: 'bob' } }, 't2');
    await waitFor(() => (presenceOf(ana).has('bob') ? true : undefined));

    // A node that starts now asks the others for their state before it serves anyone.
    const n3 = await startNode(node('n3'));
    const cid = await join(n3.url, room, presenceConfig('cid'));
    expect(keys(cid.on('presence_state')[0]!.payload)).toEqual(['ana', 'bob']);
    cid.send('presence', { type: 'presence', event: 'track', payload: { name: 'cid' } }, 't3');
    await waitFor(() => (presenceOf(ana).has('cid') && presenceOf(bob).has('cid') ? true : undefined));

    // An update on node 2 replaces bob's meta everywhere (one meta, the new payload).
    bob.send('presence', { type: 'presence', event: 'track', payload: { name: 'bob', status: 'away' } }, 't4');
    await waitFor(() => (cid.on('presence_diff').some((diff) => diff.payload.joins.bob?.metas[0].status === 'away') ? true : undefined));
    for (const client of [ana, bob, cid]) await waitFor(() => (presenceOf(client).get('bob')?.length === 1 && keys(Object.fromEntries(presenceOf(client))).join() === 'ana,bob,cid' ? true : undefined));
  });

  it('a client leaving (untrack, leave, or its socket closing) is a leave diff on the other nodes', async () => {
    const node = newCluster();
    const [n1, n2, n3] = await Promise.all([startNode(node('n1')), startNode(node('n2')), startNode(node('n3'))]);
    const room = `room-${clusterCounter}`;
    const watcher2 = await join(n2.url, room, presenceConfig('w2'));
    const watcher3 = await join(n3.url, room, presenceConfig('w3'));
    const track = async (client: Client, key: string) => {
      client.send('presence', { type: 'presence', event: 'track', payload: { key } }, `t-${key}`);
      expect((await client.reply(`t-${key}`)).status).toBe('ok');
    };
    const [a, b, c] = [await join(n1.url, room, presenceConfig('a')), await join(n1.url, room, presenceConfig('b')), await join(n1.url, room, presenceConfig('c'))];
    await track(a, 'a');
    await track(b, 'b');
    await track(c, 'c');
    const seen = (client: Client) => keys(Object.fromEntries(presenceOf(client))).join();
    for (const watcher of [watcher2, watcher3]) await waitFor(() => (seen(watcher) === 'a,b,c' ? true : undefined));

    a.send('presence', { type: 'presence', event: 'untrack', payload: {} }, 'u');
    b.send('phx_leave', {}, 'l');
    c.socket.close();
    for (const watcher of [watcher2, watcher3]) await waitFor(() => (seen(watcher) === '' ? true : undefined));
    for (const watcher of [watcher2, watcher3]) {
      const leaves = watcher.on('presence_diff').flatMap((diff) => Object.keys(diff.payload.leaves));
      expect(leaves.sort()).toEqual(['a', 'b', 'c']);
    }
  });

  it('a node closed cleanly takes its presences with it at once', async () => {
    const node = newCluster();
    const [n1, n2] = await Promise.all([startNode(node('n1'), {}), startNode({ ...node('n2'), nodeTimeoutMs: 600_000 })]);
    const room = `room-${clusterCounter}`;
    const watcher = await join(n2.url, room, presenceConfig('w'));
    const leaver = await join(n1.url, room, presenceConfig('gone'));
    leaver.send('presence', { type: 'presence', event: 'track', payload: {} }, 't');
    await waitFor(() => (presenceOf(watcher).has('gone') ? true : undefined));
    await n1.close();
    // n2 would wait ten minutes to time n1 out: what it saw came from n1 leaving.
    await waitFor(() => (presenceOf(watcher).has('gone') ? undefined : true));
  });

  it('a node killed with SIGKILL stops heartbeating: after the timeout the others send leave diffs for its metas', async () => {
    // Short heartbeats so the crashed node is dropped within seconds.
    const node = newCluster({ heartbeatMs: 100, nodeTimeoutMs: 1500 });
    const [n1, n2] = await Promise.all([startNode(node('n1')), startNode(node('n2'))]);
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./clusterNodeChild.ts', import.meta.url))], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NODE_OPTIONS: '', CLUSTER_NODE_OPTIONS: JSON.stringify({ jwtSecret: SECRET, redis: node('doomed') }) },
    });
    children.push(child);
    const { url } = await new Promise<{ url: string }>((resolve, reject) => {
      let text = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('\n')) resolve(JSON.parse(text.slice(0, text.indexOf('\n'))) as { url: string });
      });
      child.once('exit', (code) => reject(new Error(`cluster node child exited with ${code}`)));
    });
    const room = `room-${clusterCounter}`;
    const watcher1 = await join(n1.url, room, presenceConfig('w1'));
    const watcher2 = await join(n2.url, room, presenceConfig('w2'));
    watcher1.send('presence', { type: 'presence', event: 'track', payload: {} }, 't');
    const doomed = [await join(url, room, presenceConfig('d1')), await join(url, room, presenceConfig('d2'))];
    for (const [i, client] of doomed.entries()) client.send('presence', { type: 'presence', event: 'track', payload: { i } }, 't');
    for (const watcher of [watcher1, watcher2]) await waitFor(() => (presenceOf(watcher).has('d1') && presenceOf(watcher).has('d2') ? true : undefined));

    child.kill('SIGKILL');
    for (const watcher of [watcher1, watcher2]) await waitFor(() => (!presenceOf(watcher).has('d1') && !presenceOf(watcher).has('d2') ? true : undefined), 10_000);
    for (const watcher of [watcher1, watcher2]) {
      const leaves = watcher.on('presence_diff').flatMap((diff) => Object.keys(diff.payload.leaves));
      expect(leaves.sort()).toEqual(['d1', 'd2']);
    }
    // The living nodes keep each other: watcher 2 still sees watcher 1.
    expect(presenceOf(watcher2).has('w1')).toBe(true);
  });
});

describe('private channels across nodes (the suite\'s database)', () => {
  const stack = testStack();
  beforeAll(async () => {
    await sql(`
      create table if not exists cluster_members (topic text, sub text, can_write bool not null default false, primary key (topic, sub));
      grant select on cluster_members to authenticated;
      drop policy if exists cluster_read on realtime.messages;
      create policy cluster_read on realtime.messages for select to authenticated using (
        exists (select 1 from cluster_members m where m.topic = realtime.topic() and m.sub = current_setting('request.jwt.claims', true)::json ->> 'sub'));
      drop policy if exists cluster_write on realtime.messages;
      create policy cluster_write on realtime.messages for insert to authenticated with check (
        exists (select 1 from cluster_members m where m.topic = realtime.topic() and m.sub = current_setting('request.jwt.claims', true)::json ->> 'sub' and m.can_write));
    `);
  });

  it('each node authorizes its own clients: a refused join or send stays refused, an allowed send reaches the authorized channels of the other node only', async () => {
    const node = newCluster();
    const options = { jwtSecret: stack.jwtSecret, databaseUrl: stack.databaseUrl, onError: () => undefined };
    const [n1, n2] = await Promise.all([startNode(node('n1'), options), startNode(node('n2'), options)]);
    const name = `cluster-private-${process.pid}-${clusterCounter}`;
    await sql('insert into cluster_members (topic, sub, can_write) values ($1, $2, true), ($1, $3, false), ($1, $4, false)', [name, 'writer', 'reader', 'mute']);
    const privateConfig = { ...broadcastConfig(false, true), private: true };
    const as = (url: string, sub: string) => join(url, name, privateConfig, stack.anonKey, stack.signToken({ sub }));

    const outsider = await open(n2.url, name, privateConfig, stack.anonKey, stack.signToken({ sub: 'outsider' }));
    expect(await outsider.reply('join')).toMatchObject({ status: 'error', response: { reason: expect.stringMatching(/^Unauthorized: You do not have permissions to read from this Channel topic/) } });
    const reader = await as(n2.url, 'reader');
    const publicSameName = await join(n2.url, name, broadcastConfig(), stack.anonKey);
    const mute = await as(n1.url, 'mute');
    const writer = await as(n1.url, 'writer');

    mute.send('broadcast', { type: 'broadcast', event: 'say', payload: { n: 1 } }, 'm1');
    expect((await mute.reply('m1')).status).toBe('error');
    // Sent after the refused one on the same node: node 2 gets node 1's relays in this order.
    writer.send('broadcast', { type: 'broadcast', event: 'say', payload: { n: 2 } }, 'w1');
    expect((await writer.reply('w1')).status).toBe('ok');
    await waitFor(() => (got(reader, 'say').length > 0 ? true : undefined));
    expect(got(reader, 'say')).toEqual([2]);
    expect(got(mute, 'say')).toEqual([2]);
    expect(publicSameName.on('broadcast')).toEqual([]);
  });
});

/**
 * createPhoenixSocket against our real realtime server (broadcast and presence need no database)
 * and against fake servers for the faults a real one does not produce on demand.
 */
import { createRealtimeServer, type RealtimeServer } from '../../../lib/server/realtime/server.js';
import { emptyPresenceSession, list, receivePresenceDiff, receivePresenceState, type PresenceDiff, type PresenceSession, type PresenceState } from '../../../lib/sync/phoenix/index.js';
import {
  channelStatus,
  countingTimers,
  disconnectAll,
  fakeServer,
  messages,
  replyOk,
  SECRET,
  testSocket,
  token,
  uniqueName,
  waitFor,
  type FakeServer,
  type TestSocket,
} from './socketHarness.js';

const servers: Array<RealtimeServer | FakeServer> = [];
async function realServer(port = 0): Promise<RealtimeServer> {
  const server = await createRealtimeServer({ jwtSecret: SECRET, port });
  servers.push(server);
  return server;
}
async function fake(...args: Parameters<typeof fakeServer>): Promise<FakeServer> {
  const server = await fakeServer(...args);
  servers.push(server);
  return server;
}

afterEach(async () => {
  disconnectAll();
  for (const server of servers.splice(0)) await server.close();
});

const broadcastConfig = (extra: object = {}) => () => ({ config: { broadcast: { self: true, ack: true }, presence: { key: '', enabled: false }, postgres_changes: [], private: false, ...extra } });

function connected(server: { url: string }, vsn: '1.0.0' | '2.0.0' = '2.0.0', extra: Parameters<typeof testSocket>[0] extends infer O ? Partial<O> : never = {}): TestSocket {
  const t = testSocket({ url: server.url, params: { apikey: token() }, vsn, ...extra });
  t.socket.connect();
  return t;
}

describe.each(['1.0.0', '2.0.0'] as const)('against our realtime server, vsn %s', (vsn) => {
  it('two sockets join a room; a broadcast with ack and self reaches both and is acknowledged', async () => {
    const server = await realServer();
    const topic = `realtime:${uniqueName('room')}`;
    const a = connected(server, vsn);
    const b = connected(server, vsn);
    a.socket.join(topic, broadcastConfig());
    b.socket.join(topic, broadcastConfig());
    await waitFor(channelStatus(a, topic, 'joined'));
    await waitFor(channelStatus(b, topic, 'joined'));
    expect(a.of('status').map((e) => e.status)).toEqual(['connecting', 'open']);

    const reply = await a.socket.push(topic, 'broadcast', { type: 'broadcast', event: 'hello', payload: { n: 1 } });
    expect(reply).toEqual({ status: 'ok', response: {} });
    for (const t of [a, b]) {
      const [message] = await waitFor(() => (messages(t, topic, 'broadcast').length > 0 ? messages(t, topic, 'broadcast') : undefined));
      expect(message!.payload).toEqual({ type: 'broadcast', event: 'hello', payload: { n: 1 } });
    }
  });

  it('presence: a track on one socket reaches the other as presence_diff, merged into the state it got on join', async () => {
    const server = await realServer();
    const topic = `realtime:${uniqueName('presence')}`;
    const a = connected(server, vsn);
    const b = connected(server, vsn);
    const presence = (key: string) => broadcastConfig({ presence: { key, enabled: true } });
    a.socket.join(topic, presence('ana'));
    await waitFor(channelStatus(a, topic, 'joined'));
    expect(await a.socket.push(topic, 'presence', { type: 'presence', event: 'track', payload: { name: 'Ana' } })).toMatchObject({ status: 'ok' });

    b.socket.join(topic, presence('bo'));
    await waitFor(() => messages(b, topic, 'presence_state')[0]);
    expect(await b.socket.push(topic, 'presence', { type: 'presence', event: 'track', payload: { name: 'Bo' } })).toMatchObject({ status: 'ok' });
    await waitFor(() => messages(a, topic, 'presence_diff').find((m) => Object.keys((m.payload as PresenceDiff).joins).includes('bo')));

    const merge = (t: TestSocket) => {
      let session: PresenceSession = emptyPresenceSession;
      for (const m of t.of('message').filter((m) => m.topic === topic)) {
        if (m.event === 'presence_state') session = receivePresenceState(session, m.joinRef!, m.payload as PresenceState);
        if (m.event === 'presence_diff') session = receivePresenceDiff(session, m.joinRef, m.payload as PresenceDiff);
      }
      return list(session.state, (key, entry) => `${key}:${String(entry.metas[0]?.name)}`).sort();
    };
    await waitFor(() => (merge(b).length === 2 ? true : undefined));
    expect(merge(a)).toEqual(['ana:Ana', 'bo:Bo']);
    expect(merge(b)).toEqual(['ana:Ana', 'bo:Bo']);

    a.socket.leave(topic);
    await waitFor(channelStatus(a, topic, 'closed'));
    await waitFor(() => (merge(b).length === 1 ? true : undefined));
    expect(merge(b)).toEqual(['bo:Bo']);
  });

  it('heartbeats are answered and keep the connection open', async () => {
    const server = await realServer();
    const a = connected(server, vsn, { heartbeatIntervalMs: 30 });
    await waitFor(() => (a.of('heartbeat').filter((e) => e.status === 'ok').length >= 5 ? true : undefined));
    expect(a.of('heartbeat').some((e) => e.status === 'timeout')).toBe(false);
    expect(a.of('status').map((e) => e.status)).toEqual(['connecting', 'open']);
    expect(a.socket.state).toBe('open');
    expect(a.of('heartbeat').find((e) => e.status === 'ok')?.latencyMs).toEqual(expect.any(Number));
  });

  it('a push the server never answers (a broadcast without ack) resolves timeout; with awaitReply false it resolves ok', async () => {
    const server = await realServer();
    const topic = `realtime:${uniqueName('noack')}`;
    const a = connected(server, vsn, { timeoutMs: 150 });
    a.socket.join(topic, () => ({ config: { broadcast: { self: true, ack: false } } }));
    await waitFor(channelStatus(a, topic, 'joined'));
    expect(await a.socket.push(topic, 'broadcast', { type: 'broadcast', event: 'x', payload: {} })).toEqual({ status: 'timeout', response: null });
    expect(await a.socket.push(topic, 'broadcast', { type: 'broadcast', event: 'y', payload: {} }, { awaitReply: false })).toEqual({ status: 'ok', response: null });
    await waitFor(() => messages(a, topic, 'broadcast').find((m) => (m.payload as { event: string }).event === 'y'));
  });

  it('a join the server refuses reports errored with its reason, and a push on a channel not joined is an error result', async () => {
    const server = await realServer();
    const a = connected(server, vsn);
    a.socket.join('not-realtime', () => ({}));
    const errored = await waitFor(channelStatus(a, 'not-realtime', 'errored'));
    expect(errored.error).toMatch(/topic/i);
    expect(await a.socket.push('realtime:nowhere', 'broadcast', {})).toMatchObject({ status: 'error', response: { reason: expect.stringMatching(/not joined/) } });
    a.socket.leave('not-realtime');
    await waitFor(channelStatus(a, 'not-realtime', 'closed'));
  });
});

describe('vsn 2.0.0 binary broadcast', () => {
  it('bytes pushed as kind 3 arrive at the other socket as a kind-4 ArrayBuffer; JSON pushed as kind 3 arrives as JSON', async () => {
    const server = await realServer();
    const topic = `realtime:${uniqueName('binary')}`;
    const a = connected(server);
    const b = connected(server);
    a.socket.join(topic, broadcastConfig());
    b.socket.join(topic, broadcastConfig());
    await waitFor(channelStatus(a, topic, 'joined'));
    await waitFor(channelStatus(b, topic, 'joined'));

    const bytes = new Uint8Array([0, 1, 2, 254, 255]);
    expect(await a.socket.push(topic, 'broadcast', { type: 'broadcast', event: 'blob', payload: bytes.buffer }, { binary: true })).toMatchObject({ status: 'ok' });
    const received = await waitFor(() => messages(b, topic, 'broadcast')[0]);
    const payload = received.payload as { type: string; event: string; payload: ArrayBuffer };
    expect(payload.type).toBe('broadcast');
    expect(payload.event).toBe('blob');
    expect(payload.payload).toBeInstanceOf(ArrayBuffer);
    expect(Array.from(new Uint8Array(payload.payload))).toEqual([0, 1, 2, 254, 255]);

    expect(await a.socket.push(topic, 'broadcast', { type: 'broadcast', event: 'json', payload: { é: [1, 2] } }, { binary: true })).toMatchObject({ status: 'ok' });
    const json = await waitFor(() => messages(b, topic, 'broadcast')[1]);
    expect(json.payload).toEqual({ type: 'broadcast', event: 'json', payload: { é: [1, 2] } });
  });

  it('binary on vsn 1.0.0 is an error result, not a throw', async () => {
    const server = await realServer();
    const topic = `realtime:${uniqueName('v1binary')}`;
    const a = connected(server, '1.0.0');
    a.socket.join(topic, broadcastConfig());
    await waitFor(channelStatus(a, topic, 'joined'));
    expect(await a.socket.push(topic, 'broadcast', { type: 'broadcast', event: 'x', payload: {} }, { binary: true })).toMatchObject({ status: 'error', response: { code: 'UNSUPPORTED_FRAME_TYPE' } });
  });
});

describe('faults', () => {
  it('a server that stops answering heartbeats is detected: the socket drops it and reconnects', async () => {
    const server = await fake(); // accepts, never replies
    const a = connected(server, '2.0.0', { heartbeatIntervalMs: 40 });
    await waitFor(() => a.of('heartbeat').find((e) => e.status === 'timeout'));
    const reconnecting = await waitFor(() => a.of('status').find((e) => e.status === 'reconnecting'));
    expect(reconnecting).toMatchObject({ attempt: 1, reason: 'heartbeat timeout' });
    await waitFor(() => (server.connections.length >= 2 ? true : undefined));
    expect(server.frames.filter((f) => f[3] === 'heartbeat').length).toBeGreaterThanOrEqual(1);
  });

  it('the server goes away and a new one starts on the same port: the socket reconnects and rejoins with a freshly evaluated payload', async () => {
    const first = await realServer();
    const topic = `realtime:${uniqueName('restart')}`;
    const payloads: number[] = [];
    const a = connected(first);
    a.socket.join(topic, () => {
      payloads.push(payloads.length + 1);
      return { config: { broadcast: { self: true, ack: true } }, attempt: payloads.length };
    });
    await waitFor(channelStatus(a, topic, 'joined'));
    await first.close();
    await waitFor(channelStatus(a, topic, 'errored'));
    await waitFor(() => a.of('status').find((e) => e.status === 'reconnecting'));

    const second = await realServer(first.port);
    await waitFor(channelStatus(a, topic, 'joined', 2), 10_000);
    expect(payloads.length).toBeGreaterThanOrEqual(2);
    expect(a.socket.state).toBe('open');
    expect(await a.socket.push(topic, 'broadcast', { type: 'broadcast', event: 'back', payload: {} })).toMatchObject({ status: 'ok' });
    void second;
  });

  it('a malformed frame yields an error event, not a throw, and the connection stays open', async () => {
    const server = await fake(replyOk, (socket) => {
      socket.send('this is not json');
      socket.send(JSON.stringify({ not: 'an array' }));
      socket.send(Buffer.from([9, 0, 0]), { binary: true });
    });
    const a = connected(server);
    await waitFor(() => (a.of('error').length >= 3 ? true : undefined));
    expect(a.of('error').map((e) => e.code)).toEqual(['INVALID_JSON', 'INVALID_SHAPE', 'UNSUPPORTED_BINARY_KIND']);
    await waitFor(() => a.of('heartbeat').find((e) => e.status === 'ok'));
    expect(a.socket.state).toBe('open');
  });

  it('phx_error: the channel errors and rejoins after a backoff delay; phx_close: it closes and stays closed', async () => {
    let joins = 0;
    const server = await fake((socket, frame) => {
      replyOk(socket, frame);
      const [joinRef, , topic, event] = frame;
      if (event !== 'phx_join') return;
      joins += 1;
      if (joins === 1) setTimeout(() => socket.send(JSON.stringify([joinRef, joinRef, topic, 'phx_error', { reason: 'channel_crash' }])), 10);
      if (joins === 2) setTimeout(() => socket.send(JSON.stringify([joinRef, joinRef, topic, 'phx_close', {}])), 10);
    });
    const a = connected(server);
    a.socket.join('realtime:crashy', () => ({}));
    const errored = await waitFor(channelStatus(a, 'realtime:crashy', 'errored'));
    expect(errored.error).toBe('channel_crash');
    await waitFor(channelStatus(a, 'realtime:crashy', 'joined', 2));
    await waitFor(channelStatus(a, 'realtime:crashy', 'closed'));
    expect(a.socket.channelState('realtime:crashy')).toBe('closed');
    // Closed stays closed: no further join frames after a few heartbeats.
    const beats = a.of('heartbeat').length;
    await waitFor(() => (a.of('heartbeat').length >= beats + 4 ? true : undefined));
    expect(server.frames.filter((f) => f[3] === 'phx_join')).toHaveLength(2);
  });

  it('a stale phx_close of an earlier join (other join_ref) is ignored', async () => {
    const server = await fake((socket, frame) => {
      replyOk(socket, frame);
      if (frame[3] === 'phx_join') setTimeout(() => socket.send(JSON.stringify(['999', '999', frame[2], 'phx_close', {}])), 10);
    });
    const a = connected(server);
    a.socket.join('realtime:r', () => ({}));
    await waitFor(channelStatus(a, 'realtime:r', 'joined'));
    await waitFor(() => (a.of('heartbeat').filter((e) => e.status === 'ok').length >= 2 ? true : undefined));
    expect(a.socket.channelState('realtime:r')).toBe('joined');
  });

  it('setAuth sends access_token to joined channels and puts it in every later join', async () => {
    const server = await fake(replyOk);
    const a = connected(server);
    a.socket.join('realtime:auth', () => ({ config: {} }));
    await waitFor(channelStatus(a, 'realtime:auth', 'joined'));
    a.socket.setAuth('token-1');
    await waitFor(() => server.frames.find((f) => f[3] === 'access_token'));
    expect(server.frames.find((f) => f[3] === 'access_token')![4]).toEqual({ access_token: 'token-1' });
    a.socket.join('realtime:auth2', () => ({ config: {} }));
    await waitFor(() => server.frames.find((f) => f[3] === 'phx_join' && f[2] === 'realtime:auth2'));
    expect(server.frames.find((f) => f[3] === 'phx_join' && f[2] === 'realtime:auth2')![4]).toEqual({ config: {}, access_token: 'token-1' });
  });

  it('a join with no reply times out, sends phx_leave, errors and is retried', async () => {
    // Answers heartbeats only, so the join never gets a reply.
    const silent = await fake((socket, frame) => {
      if (frame[3] === 'heartbeat') replyOk(socket, frame);
    });
    const a = connected(silent, '2.0.0', { timeoutMs: 60 });
    a.socket.join('realtime:slow', () => ({}));
    const errored = await waitFor(channelStatus(a, 'realtime:slow', 'errored'));
    expect(errored.error).toBe('join timed out');
    await waitFor(() => (silent.frames.filter((f) => f[3] === 'phx_join').length >= 2 ? true : undefined));
    expect(silent.frames.some((f) => f[3] === 'phx_leave')).toBe(true);
  });
});

describe('disconnect', () => {
  it('leaves no pending timer, reports closed, and does not reconnect until connect()', async () => {
    const server = await realServer();
    const timers = countingTimers();
    const topic = `realtime:${uniqueName('bye')}`;
    const a = connected(server, '2.0.0', { timers, heartbeatIntervalMs: 30, timeoutMs: 5000 });
    a.socket.join(topic, broadcastConfig());
    await waitFor(channelStatus(a, topic, 'joined'));
    // A push awaiting its reply holds a timer too.
    const pending = a.socket.push(topic, 'broadcast', { type: 'broadcast', event: 'x', payload: {} }, {});
    a.socket.disconnect();
    expect(timers.pending()).toBe(0);
    expect(await pending).toMatchObject({ status: 'error' });
    expect(a.socket.state).toBe('closed');
    expect(a.of('status').at(-1)).toMatchObject({ status: 'closed', code: 1000 });
    const count = a.events.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(a.events.length).toBe(count);

    a.socket.connect();
    await waitFor(channelStatus(a, topic, 'joined', 2));
    a.socket.disconnect();
    expect(timers.pending()).toBe(0);
  });

  it('disconnect during reconnect backoff clears the reconnect timer', async () => {
    const timers = countingTimers();
    const server = await fake();
    const port = server.port;
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    const a = connected({ url: `ws://127.0.0.1:${port}/realtime/v1` }, '2.0.0', { timers, reconnect: { minDelayMs: 5000, maxDelayMs: 5000 } });
    await waitFor(() => a.of('status').find((e) => e.status === 'reconnecting'));
    expect(timers.pending()).toBe(1);
    a.socket.disconnect();
    expect(timers.pending()).toBe(0);
  });
});

describe('reconnect schedule and channel bookkeeping', () => {
  it('reconnect attempts count up and their delays follow the backoff policy with the injected random source', async () => {
    const server = await fake();
    const port = server.port;
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    const a = connected({ url: `ws://127.0.0.1:${port}/realtime/v1` }, '2.0.0', { random: () => 0.5, reconnect: { minDelayMs: 20, maxDelayMs: 50, factor: 2 } });
    await waitFor(() => (a.of('status').filter((e) => e.status === 'reconnecting').length >= 4 ? true : undefined));
    const reconnecting = a.of('status').filter((e) => e.status === 'reconnecting').slice(0, 4);
    expect(reconnecting.map((e) => [e.attempt, e.delayMs])).toEqual([[1, 10], [2, 20], [3, 25], [4, 25]]);
    expect(a.of('status').filter((e) => e.status === 'connecting').slice(1, 3).map((e) => e.attempt)).toEqual([1, 2]);
  });

  it('join is idempotent per topic: a second join sends nothing and only replaces the payload function used by later rejoins', async () => {
    const server = await fake(replyOk);
    const a = connected(server);
    a.socket.join('realtime:once', () => ({ v: 1 }));
    await waitFor(channelStatus(a, 'realtime:once', 'joined'));
    a.socket.join('realtime:once', () => ({ v: 2 }));
    await waitFor(() => (a.of('heartbeat').filter((e) => e.status === 'ok').length >= 2 ? true : undefined));
    expect(server.frames.filter((f) => f[3] === 'phx_join')).toHaveLength(1);
    for (const c of server.connections) c.terminate();
    await waitFor(() => (server.frames.filter((f) => f[3] === 'phx_join').length === 2 ? true : undefined));
    expect(server.frames.filter((f) => f[3] === 'phx_join')[1]![4]).toEqual({ v: 2 });
  });

  it('rejoin sends a new join with the payload evaluated again: the reply to a join superseded in flight is ignored, and no timer is left', async () => {
    let answer: ((frame: FakeServer['frames'][number]) => void) | undefined;
    const server = await fake((socket, frame) => {
      if (frame[3] === 'heartbeat') replyOk(socket, frame);
      answer = (f) => socket.send(JSON.stringify([f[0], f[1], f[2], 'phx_reply', { status: 'ok', response: { v: f[4].v } }]));
    });
    const timers = countingTimers();
    const a = connected(server, '2.0.0', { timers });
    let version = 1;
    a.socket.join('realtime:re', () => ({ v: version }));
    await waitFor(() => server.frames.find((f) => f[3] === 'phx_join'));
    version = 2;
    a.socket.rejoin('realtime:re'); // while the first join is in flight
    await waitFor(() => (server.frames.filter((f) => f[3] === 'phx_join').length === 2 ? true : undefined));
    const [first, second] = server.frames.filter((f) => f[3] === 'phx_join');
    expect([first![4], second![4]]).toEqual([{ v: 1 }, { v: 2 }]);
    expect(second![0]).not.toBe(first![0]);
    answer!(first!); // late reply to the superseded join
    answer!(second!);
    await waitFor(channelStatus(a, 'realtime:re', 'joined'));
    await waitFor(() => (a.of('heartbeat').filter((e) => e.status === 'ok').length >= 2 ? true : undefined));
    const joined = a.of('channel').filter((e) => e.topic === 'realtime:re' && e.status === 'joined');
    expect(joined).toEqual([{ type: 'channel', topic: 'realtime:re', status: 'joined', joinRef: second![0], response: { v: 2 } }]);

    // Joined: rejoin goes through 'joining' again.
    version = 3;
    a.socket.rejoin('realtime:re');
    expect(a.socket.channelState('realtime:re')).toBe('joining');
    await waitFor(() => (server.frames.filter((f) => f[3] === 'phx_join').length === 3 ? true : undefined));
    answer!(server.frames.filter((f) => f[3] === 'phx_join')[2]!);
    await waitFor(channelStatus(a, 'realtime:re', 'joined', 2));
    expect(server.frames.filter((f) => f[3] === 'phx_join')[2]![4]).toEqual({ v: 3 });
    // Unknown topics are ignored.
    a.socket.rejoin('realtime:unknown');
    a.socket.disconnect();
    expect(timers.pending()).toBe(0);
  });

  it('rejoin before the socket opens sends nothing more: the one join goes out with the latest payload', async () => {
    const server = await fake(replyOk);
    const a = testSocket({ url: server.url });
    let version = 1;
    a.socket.join('realtime:early', () => ({ v: version }));
    version = 2;
    a.socket.rejoin('realtime:early');
    a.socket.connect();
    await waitFor(channelStatus(a, 'realtime:early', 'joined'));
    expect(server.frames.filter((f) => f[3] === 'phx_join').map((f) => f[4])).toEqual([{ v: 2 }]);
  });

  it('a join while disconnected is sent once the socket opens; a leave while disconnected closes at once', async () => {
    const server = await fake(replyOk);
    const a = testSocket({ url: server.url });
    a.socket.join('realtime:later', () => ({}));
    a.socket.join('realtime:never', () => ({}));
    a.socket.leave('realtime:never');
    expect(a.socket.channelState('realtime:never')).toBe('closed');
    expect(a.socket.channelState('realtime:later')).toBe('joining');
    a.socket.connect();
    await waitFor(channelStatus(a, 'realtime:later', 'joined'));
    expect(server.frames.filter((f) => f[3] === 'phx_join').map((f) => f[2])).toEqual(['realtime:later']);
  });

  it('a join payload function that throws is an error event and an errored channel, not a throw', async () => {
    const server = await fake(replyOk);
    const a = connected(server);
    let calls = 0;
    a.socket.join('realtime:bad', () => {
      calls += 1;
      if (calls === 1) throw new Error('no position yet');
      return { ok: true };
    });
    await waitFor(() => a.of('error').find((e) => e.code === 'JOIN_PAYLOAD_FAILED'));
    await waitFor(channelStatus(a, 'realtime:bad', 'joined'));
    expect(a.of('error').find((e) => e.code === 'JOIN_PAYLOAD_FAILED')?.message).toMatch(/no position yet/);
  });
});

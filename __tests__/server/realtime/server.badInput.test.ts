/**
 * What one misbehaving client can do to the realtime server, and what it can't: refused
 * handshakes, error replies, closed sockets (garbage, idle, slow), and other clients unaffected.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WebSocket } from 'ws';
import { signJwt } from '../../../lib/server/stack/jwt.js';
import { now, SECRET, startHarness, subscribe, token, uniqueName, waitFor, type Harness } from './realtimeHarness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ maxFrameBytes: 64 * 1024 });
});
afterAll(() => h.close());

describe('connection checks', () => {
  it.each([
    ['missing', ''],
    ['forged', `apikey=${signJwt('another-secret', { role: 'anon', exp: now() + 3600 })}`],
    ['expired', `apikey=${signJwt(SECRET, { role: 'anon', exp: now() - 10 })}`],
    ['without role', `apikey=${signJwt(SECRET, { exp: now() + 3600 })}`],
  ])('refuses a %s apikey with 401 JSON', async (_what, query) => {
    const { status, body } = await h.refusal(query);
    expect(status).toBe(401);
    expect(typeof body.error).toBe('string');
  });

  it('accepts the apikey in the x-api-key header, on /socket/websocket too', async () => {
    const socket = new WebSocket(`${h.server.url.replace('/realtime/v1', '/socket')}/websocket`, { headers: { 'x-api-key': token() } });
    try {
      await new Promise((resolve, reject) => socket.on('open', resolve).on('error', reject));
    } finally {
      socket.terminate();
    }
  });

  it('refuses an unsupported vsn with 400 JSON', async () => {
    const { status, body } = await h.refusal(`apikey=${token()}&vsn=3.0.0`);
    expect(status).toBe(400);
    expect(body.error).toMatch(/vsn/);
  });
});

describe('bad input from one socket', () => {
  it('answers a push to an unknown topic and a join outside realtime:* with errors', async () => {
    const { socket, frames } = await h.openRaw('2.0.0');
    socket.send(JSON.stringify(['1', '1', 'room:lobby', 'phx_join', {}]));
    socket.send(JSON.stringify([null, '2', 'realtime:nobody', 'broadcast', { type: 'broadcast', event: 'x', payload: {} }]));
    socket.send(JSON.stringify(['3', '3', 'realtime:', 'phx_join', {}]));
    await waitFor(() => (frames.length === 3 ? true : undefined));
    expect(frames).toEqual([
      ['1', '1', 'room:lobby', 'phx_reply', { status: 'error', response: { reason: 'unmatched topic' } }],
      [null, '2', 'realtime:nobody', 'phx_reply', { status: 'error', response: { reason: 'unmatched topic' } }],
      ['3', '3', 'realtime:', 'phx_reply', { status: 'error', response: { reason: expect.stringMatching(/^TopicNameRequired/) } }],
    ]);
  });

  it('closes the old join with phx_close on a duplicate join, then joins again', async () => {
    const { socket, frames } = await h.openRaw('2.0.0');
    socket.send(JSON.stringify(['1', '1', 'realtime:dup', 'phx_join', {}]));
    socket.send(JSON.stringify(['2', '2', 'realtime:dup', 'phx_join', {}]));
    await waitFor(() => (frames.length === 3 ? true : undefined));
    expect(frames).toEqual([
      ['1', '1', 'realtime:dup', 'phx_reply', { status: 'ok', response: { postgres_changes: [] } }],
      ['1', '1', 'realtime:dup', 'phx_close', {}],
      ['2', '2', 'realtime:dup', 'phx_reply', { status: 'ok', response: { postgres_changes: [] } }],
    ]);
  });

  it('sends presence diffs only to presence-enabled channels of the same room', async () => {
    const tracker = await h.openRaw('2.0.0');
    const plain = await h.openRaw('2.0.0');
    const privateWatcher = await h.openRaw('2.0.0');
    const presence = { presence: { enabled: true, key: 'a' } };
    tracker.socket.send(JSON.stringify(['1', '1', 'realtime:pd', 'phx_join', { config: presence }]));
    plain.socket.send(JSON.stringify(['1', '1', 'realtime:pd', 'phx_join', { config: {} }]));
    privateWatcher.socket.send(JSON.stringify(['1', '1', 'realtime:pd', 'phx_join', { config: { ...presence, private: true } }]));
    await waitFor(() => (tracker.frames.length === 2 && plain.frames.length === 1 && privateWatcher.frames.length === 1 ? true : undefined));
    // Without a database nothing can authorize a private channel: its join is refused, so it hears nothing.
    expect(privateWatcher.frames[0]).toEqual(['1', '1', 'realtime:pd', 'phx_reply', { status: 'error', response: { reason: expect.stringContaining('PrivateChannelsUnavailable') } }]);
    expect(tracker.frames[1]).toEqual(['1', null, 'realtime:pd', 'presence_state', {}]);
    tracker.socket.send(JSON.stringify(['1', '2', 'realtime:pd', 'presence', { type: 'presence', event: 'track', payload: { n: 1 } }]));
    await waitFor(() => (tracker.frames.length === 4 ? true : undefined));
    expect(tracker.frames.slice(2)).toEqual([
      [null, null, 'realtime:pd', 'presence_diff', { joins: { a: { metas: [{ n: 1, phx_ref: expect.any(String) }] } }, leaves: {} }],
      ['1', '2', 'realtime:pd', 'phx_reply', { status: 'ok', response: {} }],
    ]);
    tracker.socket.send(JSON.stringify(['1', '3', 'realtime:pd', 'presence', { type: 'presence', event: 'track', payload: 'not a map' }]));
    await waitFor(() => tracker.frames[4]);
    expect(tracker.frames[4]).toEqual(['1', '3', 'realtime:pd', 'phx_reply', { status: 'error', response: { reason: 'Presence track payload must be a map' } }]);
    expect(plain.frames).toHaveLength(1);
    expect(privateWatcher.frames).toHaveLength(1);
  });

  it('shuts a channel down with a system error and phx_close when a refreshed token is forged', async () => {
    const { socket, frames } = await h.openRaw('2.0.0');
    socket.send(JSON.stringify(['1', '1', 'realtime:refresh', 'phx_join', {}]));
    await waitFor(() => frames[0]);
    socket.send(JSON.stringify(['1', '2', 'realtime:refresh', 'access_token', { access_token: signJwt('wrong', { role: 'anon', exp: now() + 60 }) }]));
    await waitFor(() => (frames.length === 3 ? true : undefined));
    expect(frames.slice(1)).toEqual([
      ['1', null, 'realtime:refresh', 'system', { extension: 'system', status: 'error', message: expect.stringMatching(/^Invalid JWT/), channel: 'refresh' }],
      ['1', '1', 'realtime:refresh', 'phx_close', {}],
    ]);
    // The channel is gone: further pushes to it are unmatched.
    socket.send(JSON.stringify(['1', '3', 'realtime:refresh', 'broadcast', { type: 'broadcast', event: 'x', payload: {} }]));
    await waitFor(() => frames[3]);
    expect(frames[3]).toEqual(['1', '3', 'realtime:refresh', 'phx_reply', { status: 'error', response: { reason: 'unmatched topic' } }]);
  });

  it('replies with an error to a bad frame that has a ref, and closes sockets sending garbage, while others keep receiving', async () => {
    const name = uniqueName('survivor');
    const sender = h.client('2.0.0').channel(name, { config: { broadcast: { ack: true } } });
    const receiver = h.client('1.0.0').channel(name);
    const got: unknown[] = [];
    receiver.on('broadcast', { event: 'tick' }, (m) => got.push(m.payload));
    expect((await subscribe(sender)).status).toBe('SUBSCRIBED');
    expect((await subscribe(receiver)).status).toBe('SUBSCRIBED');

    // A frame with a readable ref but an invalid payload: error reply, socket stays open.
    const withRef = await h.openRaw('2.0.0');
    withRef.socket.send(JSON.stringify(['1', '7', 'realtime:x', 'phx_join', 'not an object']));
    await waitFor(() => withRef.frames[0]);
    expect(withRef.frames[0]).toEqual(['1', '7', 'realtime:x', 'phx_reply', { status: 'error', response: { reason: expect.stringMatching(/^INVALID_FIELD/) } }]);

    const malformed = await h.openRaw('1.0.0');
    malformed.socket.send('{"topic": "realtime:x", "event": ');
    const oversized = await h.openRaw('2.0.0');
    oversized.socket.send('x'.repeat(65 * 1024));
    const unknownKind = await h.openRaw('2.0.0');
    unknownKind.socket.send(Buffer.from([9, 1, 2, 3]));
    expect((await malformed.closed).code).toBe(1007);
    expect((await oversized.closed).code).toBe(1009);
    expect((await unknownKind.closed).code).toBe(1007);

    expect(await sender.send({ type: 'broadcast', event: 'tick', payload: { n: 1 } })).toBe('ok');
    await waitFor(() => (got.length === 1 ? true : undefined));
    expect(got).toEqual([{ n: 1 }]);
    withRef.socket.send(JSON.stringify([null, '8', 'phoenix', 'heartbeat', {}]));
    await waitFor(() => withRef.frames[1]);
    expect(withRef.frames[1]).toEqual([null, '8', 'phoenix', 'phx_reply', { status: 'ok', response: {} }]);
  });
});

describe('idle and slow sockets', () => {
  let small: Harness;
  beforeAll(async () => {
    small = await startHarness({ heartbeatTimeoutMs: 300, maxBufferedBytes: 256 * 1024 });
  });
  afterAll(() => small.close());

  it('closes a socket that sends nothing for heartbeatTimeoutMs', async () => {
    const started = Date.now();
    const { closed } = await small.openRaw('1.0.0');
    expect(await closed).toEqual({ code: 1000, reason: 'heartbeat timeout' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('closes a consumer that does not read with 1008 instead of buffering without bound', async () => {
    const slow = await small.openRaw('2.0.0');
    const fast = await small.openRaw('2.0.0');
    slow.socket.send(JSON.stringify(['1', '1', 'realtime:flood', 'phx_join', {}]));
    fast.socket.send(JSON.stringify(['1', '1', 'realtime:flood', 'phx_join', {}]));
    await waitFor(() => (slow.frames.length === 1 && fast.frames.length === 1 ? true : undefined));
    // Stop reading: the kernel buffers fill, then the server's send buffer grows past its bound.
    const rawSlow = (slow.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    rawSlow.pause();
    const big = 'y'.repeat(60 * 1024);
    const frame = JSON.stringify([null, null, 'realtime:flood', 'broadcast', { type: 'broadcast', event: 'f', payload: { big } }]);
    const flood = setInterval(() => {
      for (let i = 0; i < 20; i++) fast.socket.send(frame);
    }, 20);
    // Heartbeats keep both sockets clear of the 300 ms idle timeout: only the buffer bound may close `slow`.
    const heartbeat = JSON.stringify([null, 'hb', 'phoenix', 'heartbeat', {}]);
    const keepAlive = setInterval(() => {
      for (const { socket } of [slow, fast]) if (socket.readyState === WebSocket.OPEN) socket.send(heartbeat);
    }, 50);
    try {
      await new Promise((r) => setTimeout(r, 250));
      clearInterval(flood);
      // Read again so the close frame queued behind the data arrives before the server gives up waiting.
      rawSlow.resume();
      const result = await Promise.race([slow.closed, new Promise<{ code: number; reason: string }>((r) => setTimeout(() => r({ code: -1, reason: 'no close' }), 5000))]);
      expect(result.code).toBe(1008);
      expect(result.reason).toMatch(/slow consumer/);
      expect(fast.socket.readyState).toBe(WebSocket.OPEN);
    } finally {
      clearInterval(flood);
      clearInterval(keepAlive);
    }
  });
});

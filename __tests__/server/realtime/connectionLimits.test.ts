/**
 * Per-connection limits (issue 10 §4, channels/limits.ts): channels held, joins per second, broadcast and
 * presence pushes per second, bindings per join, presence payload size; every refusal with its
 * exact text, flooders closed with 1008 while everyone else goes on, and each limit counted per
 * connection. Rates are hit by bursts sent in one go, never by timing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRealtimeServer } from '../../../lib/server/realtime/server.js';
import { DEFAULT_CONNECTION_LIMITS, createConnectionLimiter, TOO_MANY_CHANNELS, TOO_MANY_JOINS, TOO_MANY_MESSAGES } from '../../../lib/server/realtime/channels/limits.js';
import { eventually } from '../../support/eventually.js';
import { SECRET, startError, startHarness, subscribe, uniqueName, waitFor, type Harness, type RawSocket } from './realtimeHarness.js';

interface Frame {
  topic: string;
  event: string;
  ref: string | null;
  payload: Record<string, unknown>;
}

let refs = 0;

/** vsn 1.0.0 sockets: one JSON object a frame. */
const framesOf = (raw: RawSocket) => raw.frames as Frame[];
const replyTo = (raw: RawSocket, ref: string) => framesOf(raw).find((frame) => frame.event === 'phx_reply' && frame.ref === ref)?.payload as { status: string; response: Record<string, unknown> } | undefined;

/** Sends a push without waiting; returns its ref. */
function push(raw: RawSocket, topic: string, event: string, payload: unknown, joinRef: string | null = topic): string {
  const ref = `p${++refs}`;
  raw.socket.send(JSON.stringify({ topic, event, payload, ref, join_ref: joinRef ?? ref }));
  return ref;
}
/** Sends a join without waiting; its ref is the channel's join_ref. */
function sendJoin(raw: RawSocket, topic: string, config: Record<string, unknown> = {}): string {
  const ref = `j${++refs}`;
  raw.socket.send(JSON.stringify({ topic, event: 'phx_join', payload: { config }, ref, join_ref: ref }));
  return ref;
}
const reply = (raw: RawSocket, ref: string) => waitFor(() => replyTo(raw, ref));
/** Joins and expects an ok; returns the join_ref. */
async function join(raw: RawSocket, topic: string, config: Record<string, unknown> = {}): Promise<string> {
  const ref = sendJoin(raw, topic, config);
  expect(await reply(raw, ref)).toMatchObject({ status: 'ok' });
  return ref;
}
const broadcast = (raw: RawSocket, topic: string, joinRef: string, n: number) => push(raw, topic, 'broadcast', { type: 'broadcast', event: 'n', payload: { n } }, joinRef);
const broadcastsOn = (raw: RawSocket, topic: string) =>
  framesOf(raw)
    .filter((frame) => frame.topic === topic && frame.event === 'broadcast')
    .map((frame) => (frame.payload.payload as { n: number }).n);
const refusal = (reason: string) => ({ status: 'error', response: { reason } });
/** What `promise` resolved with, once it has (for waitFor). */
function settled<T>(promise: Promise<T>): () => T | undefined {
  let value: T | undefined;
  void promise.then((v) => (value = v));
  return () => value;
}
/** A heartbeat answered: the socket is open and served. */
const heartbeat = (raw: RawSocket) => reply(raw, push(raw, 'phoenix', 'heartbeat', {}, null));

describe('option validation', () => {
  it.each([
    ['maxChannelsPerConnection', 0],
    ['maxChannelsPerConnection', 2.5],
    ['maxJoinsPerSecond', -1],
    ['maxJoinsPerSecond', Number.NaN],
    ['maxMessagesPerSecond', 0],
    ['maxMessagesPerSecond', Number.POSITIVE_INFINITY],
    ['maxMessagesPerSecond', '100'],
    ['maxBindingsPerChannel', 0],
    ['maxBindingsPerChannel', null],
    ['maxPresencePayloadBytes', 0],
    ['maxPresencePayloadBytes', 1.5],
  ])('createRealtimeServer refuses %s = %p with a TypeError naming it', async (name, value) => {
    const error = await startError({ [name]: value });
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe(`createRealtimeServer: ${name} must be a positive integer`);
  });

  it('refuses a presence payload cap below the smallest payload', async () => {
    await expect(createRealtimeServer({ jwtSecret: SECRET, maxPresencePayloadBytes: 1 })).rejects.toThrow(new TypeError('createRealtimeServer: maxPresencePayloadBytes must be at least 2'));
  });

  it("has Supabase's defaults for channels and joins", () => {
    expect(DEFAULT_CONNECTION_LIMITS).toMatchObject({ maxChannelsPerConnection: 100, maxJoinsPerSecond: 100 });
  });
});

describe('the limiter alone (a fake clock)', () => {
  it('refills a bucket at its rate and reports a flooder once, after more refusals than the rate within a second', () => {
    let now = 0;
    const floods: string[] = [];
    const limiter = createConnectionLimiter({ ...DEFAULT_CONNECTION_LIMITS, maxMessagesPerSecond: 4 }, (reason) => floods.push(reason), () => now);
    for (let i = 0; i < 4; i++) expect(limiter.admit('broadcast')).toBeNull();
    expect(limiter.admit('presence')).toBe(TOO_MANY_MESSAGES);
    now = 250; // one token back
    expect(limiter.admit('broadcast')).toBeNull();
    expect(limiter.admit('broadcast')).toBe(TOO_MANY_MESSAGES);
    // Other events are not counted.
    expect(limiter.admit('access_token')).toBeNull();
    expect(limiter.admit('heartbeat')).toBeNull();
    // Refusals 3 and 4 of this window: not yet more than the rate.
    expect(limiter.admit('broadcast')).toBe(TOO_MANY_MESSAGES);
    expect(limiter.admit('broadcast')).toBe(TOO_MANY_MESSAGES);
    expect(floods).toEqual([]);
    expect(limiter.admit('broadcast')).toBe(TOO_MANY_MESSAGES);
    expect(floods).toEqual([`${TOO_MANY_MESSAGES} (kept on past maxMessagesPerSecond = 4 after refusals)`]);
    expect(limiter.admit('broadcast')).toBe(TOO_MANY_MESSAGES);
    expect(floods).toHaveLength(1);
  });

  it('starts a new flood window a second after the first refusal, so a client a little over the rate is never closed', () => {
    let now = 0;
    const floods: string[] = [];
    const limiter = createConnectionLimiter({ ...DEFAULT_CONNECTION_LIMITS, maxMessagesPerSecond: 4 }, (reason) => floods.push(reason), () => now);
    // 8 pushes a second for 10 seconds: 4 refused each second, never more than 4 in one window.
    let refused = 0;
    for (let second = 0; second < 10; second++) {
      for (let i = 0; i < 8; i++) {
        now = second * 1000 + i * 125;
        if (limiter.admit('broadcast') !== null) refused++;
      }
    }
    expect(refused).toBeGreaterThan(20);
    expect(floods).toEqual([]);
  });

  it('lets a reconnected client rejoin as many channels as it may hold in one burst', () => {
    const limiter = createConnectionLimiter({ ...DEFAULT_CONNECTION_LIMITS, maxJoinsPerSecond: 10, maxChannelsPerConnection: 50 }, () => undefined, () => 0);
    for (let i = 0; i < 50; i++) expect(limiter.admit('phx_join')).toBeNull();
    expect(limiter.admit('phx_join')).toBe(TOO_MANY_JOINS);
  });
});

describe('maxChannelsPerConnection (official client)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ maxChannelsPerConnection: 3 });
  });
  afterAll(() => h.close());

  it("refuses a join past it with Supabase's reason, frees a slot on leave, and counts per connection", async () => {
    const client = h.client('1.0.0');
    const channels = [0, 1, 2].map(() => client.channel(uniqueName('cap')));
    for (const channel of channels) expect(await subscribe(channel)).toEqual({ status: 'SUBSCRIBED' });

    const fourth = client.channel(uniqueName('cap'));
    const refused = await subscribe(fourth);
    expect(refused.status).toBe('CHANNEL_ERROR');
    expect(refused.err?.message).toBe(`${TOO_MANY_CHANNELS} (this connection holds 3 = maxChannelsPerConnection; leave a channel first)`);
    await client.removeChannel(fourth);

    // Another connection has its own three.
    const other = h.client('1.0.0');
    for (let i = 0; i < 3; i++) expect(await subscribe(other.channel(uniqueName('cap-other')))).toEqual({ status: 'SUBSCRIBED' });

    // Leaving one frees its slot.
    expect(await client.removeChannel(channels[0]!)).toBe('ok');
    expect(await subscribe(client.channel(uniqueName('cap')))).toEqual({ status: 'SUBSCRIBED' });
  });

  it('lets a rejoin of a held topic replace it without counting twice', async () => {
    const raw = await h.openRaw('1.0.0');
    const topics = [0, 1, 2].map(() => `realtime:${uniqueName('rejoin')}`);
    for (const topic of topics) await join(raw, topic);
    await join(raw, topics[1]!);
    expect(await reply(raw, sendJoin(raw, `realtime:${uniqueName('rejoin')}`))).toEqual(refusal(expect.stringMatching(/^ChannelRateLimitReached: Too many channels/) as unknown as string));
  });
});

describe('maxJoinsPerSecond', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ maxJoinsPerSecond: 3, maxChannelsPerConnection: 3 });
  });
  afterAll(() => h.close());

  it("refuses joins past the burst with Supabase's reason, rejoins of one topic included, and leaves other connections alone", async () => {
    const raw = await h.openRaw('1.0.0');
    const topic = `realtime:${uniqueName('joins')}`;
    const sent = [0, 1, 2, 3, 4].map(() => sendJoin(raw, topic));
    const replies = await Promise.all(sent.map((ref) => reply(raw, ref)));
    expect(replies.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'error', 'error']);
    expect(replies[3]).toEqual(refusal(TOO_MANY_JOINS));
    // Two refusals, not more than the rate: told, not closed; the channel of the last accepted join is joined.
    const other = await h.openRaw('1.0.0');
    expect(await reply(other, sendJoin(other, topic))).toMatchObject({ status: 'ok' });
    expect(await heartbeat(raw)).toMatchObject({ status: 'ok' });
    expect(raw.socket.readyState).toBe(raw.socket.OPEN);
  });

  it('closes a connection that goes on joining past the rate after being refused (1008, the limit named)', async () => {
    const flooder = await h.openRaw('1.0.0');
    const bystander = await h.openRaw('1.0.0');
    const topic = `realtime:${uniqueName('join-flood')}`;
    await join(bystander, topic);
    const closedAs = settled(flooder.closed);
    for (let i = 0; i < 20; i++) sendJoin(flooder, `realtime:${uniqueName('join-flood')}`);
    expect(await waitFor(closedAs, 10_000)).toEqual({ code: 1008, reason: `${TOO_MANY_JOINS} (kept on past maxJoinsPerSecond = 3 after refusals)` });
    expect(await heartbeat(bystander)).toMatchObject({ status: 'ok' });
    expect(await reply(bystander, sendJoin(bystander, `realtime:${uniqueName('join-flood')}`))).toMatchObject({ status: 'ok' });
  });
});

describe('maxMessagesPerSecond', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ maxMessagesPerSecond: 5 });
  });
  afterAll(() => h.close());

  it("refuses broadcast and presence pushes past the burst with Supabase's reason and does not forward them; other connections are not limited by it", async () => {
    const topic = `realtime:${uniqueName('msgs')}`;
    const sender = await h.openRaw('1.0.0');
    const listener = await h.openRaw('1.0.0');
    const other = await h.openRaw('1.0.0');
    const config = { broadcast: { ack: true }, presence: { key: 'k', enabled: true } };
    const senderRef = await join(sender, topic, config);
    await join(listener, topic);
    const otherRef = await join(other, topic, config);

    // 4 broadcasts and a track take the 5 tokens; a broadcast and a track more are refused.
    const accepted = [1, 2, 3, 4].map((n) => broadcast(sender, topic, senderRef, n));
    accepted.push(push(sender, topic, 'presence', { type: 'presence', event: 'track', payload: { at: 1 } }, senderRef));
    const refused = [broadcast(sender, topic, senderRef, 5), push(sender, topic, 'presence', { type: 'presence', event: 'track', payload: { at: 2 } }, senderRef)];
    for (const ref of accepted) expect(await reply(sender, ref)).toMatchObject({ status: 'ok' });
    for (const ref of refused) expect(await reply(sender, ref)).toEqual(refusal(TOO_MANY_MESSAGES));

    // Sent after the refusals were answered: when it arrives, a forwarded refused push would have too.
    expect(await reply(other, broadcast(other, topic, otherRef, 100))).toMatchObject({ status: 'ok' });
    await waitFor(() => (broadcastsOn(listener, topic).includes(100) ? true : undefined));
    expect(broadcastsOn(listener, topic)).toEqual([1, 2, 3, 4, 100]);
    expect(sender.socket.readyState).toBe(sender.socket.OPEN);
  });
});

describe('a flooder, at the default limits', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('is closed with 1008 naming the limit after a bounded share reached its room, while official clients on the same server keep exchanging broadcasts', async () => {
    const room = uniqueName('flooded');
    const calm = uniqueName('calm');
    const client = h.client('2.0.0');
    const inRoom = client.channel(room);
    const flooded: number[] = [];
    inRoom.on('broadcast', { event: 'n' }, ({ payload }) => flooded.push((payload as { n: number }).n));
    const listener = h.client('2.0.0').channel(calm);
    const ticks: number[] = [];
    listener.on('broadcast', { event: 'tick' }, ({ payload }) => ticks.push((payload as { n: number }).n));
    const talker = h.client('2.0.0').channel(calm, { config: { broadcast: { ack: true } } });
    for (const channel of [inRoom, listener, talker]) expect(await subscribe(channel)).toEqual({ status: 'SUBSCRIBED' });

    const flooder = await h.openRaw('1.0.0');
    const topic = `realtime:${room}`;
    const joinRef = await join(flooder, topic);
    const numberOf = new Map<string, number>();
    const closed = settled(flooder.closed);
    // As fast as it can until the server hangs up (bounded, should that never happen).
    while (!closed() && numberOf.size < 20_000) {
      for (let i = 0; i < 100 && flooder.socket.readyState === flooder.socket.OPEN; i++) numberOf.set(broadcast(flooder, topic, joinRef, numberOf.size + 1), numberOf.size + 1);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const limit = DEFAULT_CONNECTION_LIMITS.maxMessagesPerSecond;
    expect(await waitFor(closed, 10_000)).toEqual({ code: 1008, reason: `${TOO_MANY_MESSAGES} (kept on past maxMessagesPerSecond = ${limit} after refusals)` });
    const refused = framesOf(flooder)
      .filter((frame) => frame.event === 'phx_reply' && (frame.payload.response as { reason?: string }).reason === TOO_MANY_MESSAGES)
      .map((frame) => numberOf.get(frame.ref!)!);
    // Refused `limit` times in its flood window, answered each time; the next refusal closed it instead.
    expect(refused.length).toBeGreaterThanOrEqual(limit);

    expect(await talker.send({ type: 'broadcast', event: 'tick', payload: { n: 1 } })).toBe('ok');
    expect(await eventually(() => ticks.includes(1))).toBe(true);
    // What the bucket let through (its burst, and what refilled while it flooded) reached the room; no refused push did.
    expect(await eventually(() => flooded.length >= limit)).toBe(true);
    expect(flooded.filter((n) => refused.includes(n))).toEqual([]);
    expect(flooded.length + refused.length).toBeLessThanOrEqual(numberOf.size);
    expect(inRoom.state).toBe('joined');
  });
});

describe('maxBindingsPerChannel', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ maxBindingsPerChannel: 2 });
  });
  afterAll(() => h.close());

  const on = (channel: ReturnType<ReturnType<Harness['client']>['channel']>, n: number) => {
    for (let i = 0; i < n; i++) channel.on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'todos', filter: `id=eq.${i}` }, () => undefined);
    return channel;
  };

  it('refuses a join with more postgres_changes bindings than it, naming the option; a join at it is accepted', async () => {
    const client = h.client('1.0.0');
    expect(await subscribe(on(client.channel(uniqueName('two')), 2))).toEqual({ status: 'SUBSCRIBED' });
    const refused = await subscribe(on(client.channel(uniqueName('three')), 3));
    expect(refused.status).toBe('CHANNEL_ERROR');
    expect(refused.err?.message).toBe('TooManyBindings: too many postgres_changes bindings in one channel (this join has 3, more than maxBindingsPerChannel = 2)');
  });
});

describe('maxPresencePayloadBytes', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ maxPresencePayloadBytes: 100 });
  });
  afterAll(() => h.close());

  it("refuses a larger track with Supabase's text, the sizes and the option, and keeps the channel and its earlier presence", async () => {
    const raw = await h.openRaw('1.0.0');
    const topic = `realtime:${uniqueName('presence-cap')}`;
    const joinRef = await join(raw, topic, { presence: { key: 'me', enabled: true } });
    const track = (payload: unknown) => push(raw, topic, 'presence', { type: 'presence', event: 'track', payload }, joinRef);
    expect(await reply(raw, track({ small: 'x' }))).toMatchObject({ status: 'ok' });
    const big = { blob: 'x'.repeat(100) };
    expect(await reply(raw, track(big))).toEqual(
      refusal(`Track message size exceeded: the payload's JSON is ${JSON.stringify(big).length} bytes, more than maxPresencePayloadBytes (100)`),
    );
    const watcher = await h.openRaw('1.0.0');
    await join(watcher, topic, { presence: { enabled: true } });
    const state = await waitFor(() => framesOf(watcher).find((frame) => frame.event === 'presence_state')?.payload);
    expect(state).toEqual({ me: { metas: [expect.objectContaining({ small: 'x' })] } });
  });
});

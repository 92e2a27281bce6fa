/**
 * Budgets that keep one client from stalling the rest (issue 9): the JSON of all presences one
 * socket tracks, over every channel, and the bytes queued for all sockets together, besides the
 * per-call and per-socket bounds (server.badInput.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WebSocket } from 'ws';
import { createPresenceTracker } from '../../../lib/server/realtime/presence/tracker.js';
import { createSendBudget, SendBudgetError, type SendBudget, type SendBudgetMember } from '../../../lib/server/realtime/transport/sendBudget.js';
import { startError, startHarness, subscribe, uniqueName, waitFor, type Harness, type RawSocket } from './realtimeHarness.js';

const MiB = 1024 * 1024;

interface Reply {
  status: 'ok' | 'error';
  response: Record<string, unknown>;
}

let refs = 0;

/** Sends one vsn 2.0.0 push and resolves with its reply. */
async function request(raw: RawSocket, joinRef: string | null, topic: string, event: string, payload: unknown): Promise<Reply> {
  const ref = `r${++refs}`;
  raw.socket.send(JSON.stringify([joinRef ?? ref, ref, topic, event, payload]));
  const frame = await waitFor(() => raw.frames.find((f) => Array.isArray(f) && f[1] === ref && f[3] === 'phx_reply') as unknown[] | undefined);
  return frame[4] as Reply;
}

/** Joins `topic`; the join's ref is the channel's join_ref. */
async function join(raw: RawSocket, topic: string, config: Record<string, unknown>): Promise<string> {
  const joinRef = `j${++refs}`;
  raw.socket.send(JSON.stringify([joinRef, joinRef, topic, 'phx_join', { config }]));
  const frame = await waitFor(() => raw.frames.find((f) => Array.isArray(f) && f[1] === joinRef && f[3] === 'phx_reply') as unknown[] | undefined);
  expect((frame[4] as Reply).status).toBe('ok');
  return joinRef;
}

/** A presence payload whose JSON is exactly `bytes` long (`{"blob":"…"}` is 11 bytes plus the blob). */
const sized = (bytes: number, fill = 'x') => ({ blob: fill.repeat(bytes - 11) });
/** A payload whose presence on public `topic` under `key` takes `bytes` of the budget (payload, key and room key count). */
const takes = (topic: string, key: string, bytes: number, fill = 'x') => sized(bytes - Buffer.byteLength(key) - Buffer.byteLength(`public|${topic}`), fill);

const track = (raw: RawSocket, joinRef: string, topic: string, payload: unknown) =>
  request(raw, joinRef, topic, 'presence', { type: 'presence', event: 'track', payload });

describe('option validation', () => {
  it.each([
    ['maxTotalBufferedBytes', 0],
    ['maxTotalBufferedBytes', -1],
    ['maxTotalBufferedBytes', 1.5],
    ['maxTotalBufferedBytes', Number.NaN],
    ['maxTotalBufferedBytes', Number.POSITIVE_INFINITY],
    ['maxTotalBufferedBytes', '1024'],
    ['maxPresenceBytesPerConnection', 0],
    ['maxPresenceBytesPerConnection', -5],
    ['maxPresenceBytesPerConnection', 0.5],
    ['maxPresenceBytesPerConnection', Number.NaN],
    ['maxPresenceBytesPerConnection', Number.POSITIVE_INFINITY],
    ['maxPresenceBytesPerConnection', '1024'],
  ])('createRealtimeServer refuses %s = %p with a TypeError naming it', async (name, value) => {
    const error = await startError({ [name]: value });
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe(`createRealtimeServer: ${name} must be a positive integer`);
  });

  it('createSendBudget refuses a budget that is not a positive integer with a stable code', () => {
    for (const bad of [0, -1, 2.5, Number.NaN]) {
      expect(() => createSendBudget(bad)).toThrow(SendBudgetError);
      expect(() => createSendBudget(bad)).toThrow(/maxTotalBufferedBytes must be a positive integer/);
    }
  });
});

describe('presence budget per connection', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ maxPresenceBytesPerConnection: 4096 });
  });
  afterAll(() => h.close());

  const presenceConfig = (key: string) => ({ presence: { enabled: true, key } });

  it('refuses a socket tracking in many rooms past its budget, naming it, while another socket still tracks there', async () => {
    const greedy = await h.openRaw('2.0.0');
    const names = Array.from({ length: 6 }, () => uniqueName('budget-rooms'));
    const joinRefs: string[] = [];
    for (const name of names) joinRefs.push(await join(greedy, `realtime:${name}`, presenceConfig('greedy')));

    // 4 × 1000 bytes fit in 4096; the fifth room's track would make it 5000.
    const room = (i: number) => `realtime:${names[i]}`;
    for (let i = 0; i < 4; i++) expect((await track(greedy, joinRefs[i]!, room(i), takes(room(i), 'greedy', 1000))).status).toBe('ok');
    const refused = await track(greedy, joinRefs[4]!, room(4), takes(room(4), 'greedy', 1000));
    expect(refused).toEqual({
      status: 'error',
      response: { reason: "PresenceBudgetExceeded: this connection's presences would take 5000 bytes, more than maxPresenceBytesPerConnection (4096)" },
    });
    // The refused room's channel stays joined: a track that fits (4000 + 96) is accepted there.
    expect((await track(greedy, joinRefs[4]!, room(4), takes(room(4), 'greedy', 96))).status).toBe('ok');
    expect((await track(greedy, joinRefs[5]!, room(5), sized(11))).status).toBe('error');

    // Another socket has its own budget, and sees the greedy socket's earlier presences unchanged.
    const other = h.client('2.0.0').channel(names[3]!, { config: { presence: { key: 'other' } } });
    other.on('presence', { event: 'sync' }, () => undefined);
    expect((await subscribe(other)).status).toBe('SUBSCRIBED');
    expect(await other.track(takes(room(3), 'other', 4000))).toBe('ok');
    await waitFor(() => (other.presenceState().other ? true : undefined));
    expect(other.presenceState().greedy?.[0]).toMatchObject(takes(room(3), 'greedy', 1000));
  });

  it('re-tracking the same key replaces its bytes instead of adding to them', async () => {
    const raw = await h.openRaw('1.0.0');
    const request1 = (topic: string, joinRef: string, payload: unknown) => {
      // vsn 1.0.0: objects; replies carry the ref.
      const ref = `v1-${++refs}`;
      raw.socket.send(JSON.stringify({ topic, event: 'presence', payload: { type: 'presence', event: 'track', payload }, ref, join_ref: joinRef }));
      return waitFor(() => raw.frames.find((f) => (f as { ref?: string }).ref === ref) as { payload: Reply } | undefined).then((f) => f.payload.status);
    };
    const join1 = async (topic: string) => {
      const ref = `v1-${++refs}`;
      raw.socket.send(JSON.stringify({ topic, event: 'phx_join', payload: { config: presenceConfig('me') }, ref, join_ref: ref }));
      await waitFor(() => raw.frames.find((f) => (f as { ref?: string }).ref === ref));
      return ref;
    };
    const [a, b] = [`realtime:${uniqueName('retrack')}`, `realtime:${uniqueName('retrack')}`];
    const [joinA, joinB] = [await join1(a), await join1(b)];

    expect(await request1(a, joinA, takes(a, 'me', 3000, 'x'))).toBe('ok');
    // Added, the update would need 6000 bytes.
    expect(await request1(a, joinA, takes(a, 'me', 3000, 'y'))).toBe('ok');
    expect(await request1(b, joinB, takes(b, 'me', 1500))).toBe('error');
    expect(await request1(a, joinA, takes(a, 'me', 1000))).toBe('ok');
    expect(await request1(b, joinB, takes(b, 'me', 1500))).toBe('ok');
    expect(await request1(b, joinB, takes(b, 'me', 3096))).toBe('ok');
    expect(await request1(b, joinB, takes(b, 'me', 3097))).toBe('error');
  });

  it('untracking and leaving give a channel\'s bytes back', async () => {
    const raw = await h.openRaw('2.0.0');
    const [a, b, c] = [1, 2, 3].map(() => `realtime:${uniqueName('release')}`) as [string, string, string];
    const [joinA, joinB, joinC] = [await join(raw, a, presenceConfig('me')), await join(raw, b, presenceConfig('me')), await join(raw, c, presenceConfig('me'))];

    expect((await track(raw, joinA, a, sized(3000))).status).toBe('ok');
    expect((await track(raw, joinB, b, sized(3000))).status).toBe('error');
    expect(await request(raw, joinA, a, 'presence', { type: 'presence', event: 'untrack' })).toEqual({ status: 'ok', response: {} });
    expect((await track(raw, joinB, b, sized(3000))).status).toBe('ok');

    expect((await track(raw, joinC, c, sized(3000))).status).toBe('error');
    expect((await request(raw, joinB, b, 'phx_leave', {})).status).toBe('ok');
    expect((await track(raw, joinC, c, sized(3000))).status).toBe('ok');
  });

  it('the tracker gives back every byte of a closed socket and keeps no entry for it', () => {
    // A presence counts its payload, its key and its topic (here 1 + 2 bytes).
    const tracker = createPresenceTracker({ maxBytesPerConnection: 206 });
    tracker.track('t1', 'c1', 'k', sized(40));
    tracker.track('t2', 'c1', 'k', sized(40));
    tracker.track('t2', 'c1', 'k', sized(50));
    tracker.track('t1', 'c2', 'k', sized(60));
    expect(tracker.bytesOf('c1')).toBe(96);
    expect(() => tracker.track('t3', 'c1', 'k', sized(108))).toThrow(expect.objectContaining({ code: 'PRESENCE_CONNECTION_BUDGET_EXCEEDED', details: { bytes: 207, limit: 206 } }));
    expect(tracker.untrackConnection('c1')).toHaveLength(2);
    expect(tracker.bytesOf('c1')).toBe(0);
    expect(tracker.bytesOf('c2')).toBe(63);
    // Back to a full budget: nothing of the old presences is still counted.
    expect(tracker.track('t3', 'c1', 'k', sized(203))).not.toBeNull();
  });

  it('a long presence key or topic counts against the budget like a payload', () => {
    const tracker = createPresenceTracker({ maxBytesPerConnection: 1000 });
    expect(() => tracker.track('t', 'c1', 'k'.repeat(2000), {})).toThrow(expect.objectContaining({ code: 'PRESENCE_CONNECTION_BUDGET_EXCEEDED' }));
    expect(() => tracker.track('t'.repeat(2000), 'c1', 'k', {})).toThrow(expect.objectContaining({ code: 'PRESENCE_CONNECTION_BUDGET_EXCEEDED' }));
    expect(tracker.bytesOf('c1')).toBe(0);
  });
});

describe('server-wide send budget: the accounting', () => {
  const REASON = 'slow consumer: server-wide queued bytes passed maxTotalBufferedBytes (100); longest-slow sockets close first';

  /** A socket whose queued bytes the test sets; what the budget does to it goes to `log`. */
  function open(budget: SendBudget, log: string[], name: string) {
    const member: SendBudgetMember & { queued: number } = {
      queued: 0,
      measure() {
        return this.queued;
      },
      // The budget swallows a member's exceptions: a wrong reason shows in the log instead.
      closeForBudget: (reason) => log.push(reason === REASON ? `close ${name}` : `close ${name} with ${reason}`),
      terminate: () => log.push(`terminate ${name}`),
    };
    const account = budget.open(member);
    return {
      account,
      /** The connection measured `bytes` queued. */
      queue(bytes: number) {
        member.queued = bytes;
        account.update(bytes);
      },
    };
  }

  it('closes the sockets slow the longest first, not the largest, and stops once the total is under the budget', () => {
    const budget = createSendBudget(100);
    const log: string[] = [];
    const [a, b, c] = [open(budget, log, 'a'), open(budget, log, 'b'), open(budget, log, 'c')];
    a.queue(10);
    b.queue(50);
    c.queue(30);
    expect(log).toEqual([]);
    c.queue(60);
    expect(log).toEqual(['close a', 'close b']);
    expect(budget.totalBytes).toBe(60);
    // Closing, not gone: the budget knows them until their sockets close.
    expect(budget.accounts).toBe(3);
    a.account.closed();
    b.account.closed();
    expect(budget.accounts).toBe(1);
  });

  it('a socket whose buffer emptied in between starts its slow stretch again, behind the others', () => {
    const budget = createSendBudget(100);
    const log: string[] = [];
    const [a, b] = [open(budget, log, 'a'), open(budget, log, 'b')];
    a.queue(40);
    b.queue(40);
    a.queue(0);
    a.queue(40);
    b.queue(70);
    expect(log).toEqual(['close b']);
    expect(a.account.slow).toBe(true);
  });

  it('measures every slow socket again before closing one, so a stale sample costs no socket', () => {
    const budget = createSendBudget(100);
    const log: string[] = [];
    // The kernel has since taken all of this one's 90 bytes without a 'drain': its sample is stale.
    const stale = open(budget, log, 'stale');
    stale.account.update(90);
    const a = open(budget, log, 'a');
    a.queue(30);
    expect(log).toEqual([]);
    expect(budget.totalBytes).toBe(30);
    expect(stale.account.slow).toBe(false);
    expect(a.account.slow).toBe(true);
  });

  it('when it must close again, it first drops the sockets it closed before, ending their grace period', () => {
    const budget = createSendBudget(100);
    const log: string[] = [];
    const [a, b, c] = [open(budget, log, 'a'), open(budget, log, 'b'), open(budget, log, 'c')];
    a.queue(60);
    b.queue(30);
    c.queue(30);
    expect(log).toEqual(['close a']);
    c.queue(50);
    expect(log).toEqual(['close a']);
    b.queue(60);
    expect(log).toEqual(['close a', 'terminate a', 'close b']);
    // A socket gone by itself is not dropped again.
    b.account.closed();
    c.queue(101);
    expect(log).toEqual(['close a', 'terminate a', 'close b', 'close c']);
  });

  it("a closing socket's bytes leave the total at once, later samples of it count for nothing, and a closed one is forgotten", () => {
    const budget = createSendBudget(100);
    const log: string[] = [];
    const a = open(budget, log, 'a');
    a.queue(90);
    a.account.release();
    a.account.release();
    expect(budget.totalBytes).toBe(0);
    a.queue(500);
    expect(budget.totalBytes).toBe(0);
    expect(budget.accounts).toBe(1);
    a.account.closed();
    a.account.closed();
    expect(budget.accounts).toBe(0);
    expect(log).toEqual([]);
  });
});

describe('server-wide send budget: paused sockets', () => {
  let h: Harness;
  beforeAll(async () => {
    // The per-socket bound and the message rate are out of the way: only the server-wide budget may close anyone here.
    h = await startHarness({ maxTotalBufferedBytes: 16 * MiB, maxBufferedBytes: 256 * MiB, maxMessagesPerSecond: 100_000 });
  });
  afterAll(() => h.close());

  const netSocket = (raw: RawSocket) => (raw.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  /** Counts frames instead of parsing them, so reading a backlog of megabytes is quick. */
  function countFrames(raw: RawSocket): { count: number } {
    const counter = { count: 0 };
    raw.socket.removeAllListeners('message');
    raw.socket.on('message', () => counter.count++);
    return counter;
  }

  const FRAME_PAYLOAD = 256 * 1024;
  /** Broadcasts `count` frames of 256 KiB to `topic` and waits until the server has fanned out every one (acks). */
  async function flood(sender: RawSocket, joinRef: string, topic: string, count: number): Promise<void> {
    const big = 'z'.repeat(FRAME_PAYLOAD);
    const mine = new Set<string>();
    for (let i = 0; i < count; i++) {
      const ref = `f${++refs}`;
      mine.add(ref);
      sender.socket.send(JSON.stringify([joinRef, ref, topic, 'broadcast', { type: 'broadcast', event: 'flood', payload: { big } }]));
    }
    await waitFor(() => (sender.frames.filter((f) => Array.isArray(f) && mine.has(f[1] as string)).length === count ? true : undefined), 30_000);
  }

  it('closes paused sockets slow the longest first once all queued bytes pass maxTotalBufferedBytes, and an active client keeps receiving', async () => {
    const [first, both] = [`realtime:${uniqueName('first')}`, `realtime:${uniqueName('both')}`];
    const sender = await h.openRaw('2.0.0');
    const ack = { broadcast: { ack: true } };
    const [senderFirst, senderBoth] = [await join(sender, first, ack), await join(sender, both, ack)];
    const older = await h.openRaw('2.0.0');
    await join(older, first, {});
    await join(older, both, {});
    const newer = await h.openRaw('2.0.0');
    await join(newer, both, {});

    // An unrelated pair of official clients on another channel.
    const calm = uniqueName('calm');
    // Heartbeats far apart: the flood below keeps this machine busy, and realtime-js drops a socket
    // whose heartbeat isn't answered before the next one (the harness's 200 ms would flake here).
    const listener = h.client('2.0.0', { heartbeatIntervalMs: 5000 }).channel(calm);
    const got: number[] = [];
    listener.on('broadcast', { event: 'tick' }, ({ payload }) => got.push((payload as { n: number }).n));
    const talker = h.client('2.0.0', { heartbeatIntervalMs: 5000 }).channel(calm);
    expect((await subscribe(listener)).status).toBe('SUBSCRIBED');
    expect((await subscribe(talker)).status).toBe('SUBSCRIBED');
    expect(await talker.send({ type: 'broadcast', event: 'tick', payload: { n: 1 } })).toBe('ok');
    await waitFor(() => (got.length === 1 ? true : undefined));

    countFrames(older);
    const newerFrames = countFrames(newer);
    let olderClose: { code: number; reason: string } | undefined;
    void older.closed.then((c) => (olderClose = c));

    // 12 MiB to `older` alone: past what the kernels take (about 4 MiB on loopback), so it is
    // slow from here on, and under the 16 MiB budget. Then 12 MiB to both: `newer` falls behind
    // only now, and the total passes the budget (about 20 + 8 MiB queued).
    netSocket(older).pause();
    await flood(sender, senderFirst, first, 48);
    netSocket(newer).pause();
    await flood(sender, senderBoth, both, 48);

    // Read again so the close frame queued behind the backlog arrives before the server gives up waiting.
    netSocket(older).resume();
    expect(await waitFor(() => olderClose, 10_000)).toEqual({ code: 1008, reason: expect.stringMatching(/^slow consumer: server-wide .*maxTotalBufferedBytes \(16777216\)/) });

    // Closing the older one brought the total under the budget: the newer one was left alone and gets everything.
    expect(newer.socket.readyState).toBe(WebSocket.OPEN);
    netSocket(newer).resume();
    await waitFor(() => (newerFrames.count === 48 ? true : undefined), 10_000);
    newer.socket.send(JSON.stringify([null, 'hb', 'phoenix', 'heartbeat', {}]));
    await waitFor(() => (newerFrames.count === 49 ? true : undefined));
    expect(newer.socket.readyState).toBe(WebSocket.OPEN);

    expect(await talker.send({ type: 'broadcast', event: 'tick', payload: { n: 2 } })).toBe('ok');
    await waitFor(() => (got.length === 2 ? true : undefined));
    expect(got).toEqual([1, 2]);
  });
});

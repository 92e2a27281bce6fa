/**
 * Budgets that keep one client from stalling the rest (issue 9): the JSON of all presences one
 * socket tracks, over every channel, besides the per-call bound.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRealtimeServer, type RealtimeServerOptions } from '../../../lib/server/realtime/server.js';
import { createPresenceTracker } from '../../../lib/server/realtime/presence.js';
import { SECRET, startHarness, subscribe, uniqueName, waitFor, type Harness, type RawSocket } from './realtimeHarness.js';

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

const track = (raw: RawSocket, joinRef: string, topic: string, payload: unknown) =>
  request(raw, joinRef, topic, 'presence', { type: 'presence', event: 'track', payload });

describe('option validation', () => {
  it.each([
    ['maxPresenceBytesPerConnection', 0],
    ['maxPresenceBytesPerConnection', -5],
    ['maxPresenceBytesPerConnection', 0.5],
    ['maxPresenceBytesPerConnection', Number.NaN],
    ['maxPresenceBytesPerConnection', Number.POSITIVE_INFINITY],
    ['maxPresenceBytesPerConnection', '1024'],
  ])('createRealtimeServer refuses %s = %p with a TypeError naming it', async (name, value) => {
    let error: unknown;
    try {
      const server = await createRealtimeServer({ jwtSecret: SECRET, [name]: value } as unknown as RealtimeServerOptions);
      await server.close();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe(`createRealtimeServer: ${name} must be a positive integer`);
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
    for (let i = 0; i < 4; i++) expect((await track(greedy, joinRefs[i]!, `realtime:${names[i]}`, sized(1000))).status).toBe('ok');
    const refused = await track(greedy, joinRefs[4]!, `realtime:${names[4]}`, sized(1000));
    expect(refused).toEqual({
      status: 'error',
      response: { reason: "PresenceBudgetExceeded: this connection's presences would take 5000 bytes, more than maxPresenceBytesPerConnection (4096)" },
    });
    // The refused room's channel stays joined: a track that fits (4000 + 96) is accepted there.
    expect((await track(greedy, joinRefs[4]!, `realtime:${names[4]}`, sized(96))).status).toBe('ok');
    expect((await track(greedy, joinRefs[5]!, `realtime:${names[5]}`, sized(11))).status).toBe('error');

    // Another socket has its own budget, and sees the greedy socket's earlier presences unchanged.
    const other = h.client('2.0.0').channel(names[3]!, { config: { presence: { key: 'other' } } });
    other.on('presence', { event: 'sync' }, () => undefined);
    expect((await subscribe(other)).status).toBe('SUBSCRIBED');
    expect(await other.track(sized(4000))).toBe('ok');
    await waitFor(() => (other.presenceState().other ? true : undefined));
    expect(other.presenceState().greedy?.[0]).toMatchObject(sized(1000));
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

    expect(await request1(a, joinA, sized(3000, 'x'))).toBe('ok');
    // Added, the update would need 6000 bytes.
    expect(await request1(a, joinA, sized(3000, 'y'))).toBe('ok');
    expect(await request1(b, joinB, sized(1500))).toBe('error');
    expect(await request1(a, joinA, sized(1000))).toBe('ok');
    expect(await request1(b, joinB, sized(1500))).toBe('ok');
    expect(await request1(b, joinB, sized(3096))).toBe('ok');
    expect(await request1(b, joinB, sized(3097))).toBe('error');
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
    const tracker = createPresenceTracker({ maxBytesPerConnection: 100 });
    tracker.track('t1', 'c1', 'k', sized(40));
    tracker.track('t2', 'c1', 'k', sized(40));
    tracker.track('t2', 'c1', 'k', sized(50));
    tracker.track('t1', 'c2', 'k', sized(60));
    expect(tracker.bytesOf('c1')).toBe(90);
    expect(() => tracker.track('t3', 'c1', 'k', sized(11))).toThrow(expect.objectContaining({ code: 'PRESENCE_CONNECTION_BUDGET_EXCEEDED', details: { bytes: 101, limit: 100 } }));
    expect(tracker.untrackConnection('c1')).toHaveLength(2);
    expect(tracker.bytesOf('c1')).toBe(0);
    expect(tracker.bytesOf('c2')).toBe(60);
    // Back to a full budget: nothing of the old presences is still counted.
    expect(tracker.track('t3', 'c1', 'k', sized(100))).not.toBeNull();
  });
});

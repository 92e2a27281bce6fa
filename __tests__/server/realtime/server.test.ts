/**
 * The realtime server's transport and channel layer against the official @supabase/realtime-js
 * client, for both protocol versions: subscribe, heartbeat, broadcast (self / ack / binary),
 * presence, unsubscribe, token expiry and refresh. Bad input: server.badInput.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sleep, startHarness, subscribe, token, uniqueName, waitFor, type Harness } from './realtimeHarness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe.each(['1.0.0', '2.0.0'] as const)('realtime server with vsn %s', (vsn) => {
  it('subscribes, answers heartbeats and closes on unsubscribe', async () => {
    const heartbeats: string[] = [];
    const c = h.client(vsn, { heartbeatIntervalMs: 100, heartbeatCallback: (status) => heartbeats.push(status) });
    const channel = c.channel(uniqueName('hb'));
    expect(await subscribe(channel)).toEqual({ status: 'SUBSCRIBED' });
    await waitFor(() => (heartbeats.filter((s) => s === 'ok').length >= 3 ? true : undefined));
    expect(heartbeats).not.toContain('timeout');
    expect(await channel.unsubscribe()).toBe('ok');
    expect(channel.state).toBe('closed');
  });

  it('broadcasts to other clients, to the sender only with self, and acks with ack', async () => {
    const name = uniqueName('room');
    const a = h.client(vsn).channel(name, { config: { broadcast: { self: true, ack: true } } });
    const b = h.client(vsn).channel(name, { config: { broadcast: { self: false } } });
    const gotA: unknown[] = [];
    const gotB: unknown[] = [];
    a.on('broadcast', { event: 'msg' }, (m) => gotA.push(m.payload));
    b.on('broadcast', { event: 'msg' }, (m) => gotB.push(m.payload));
    expect((await subscribe(a)).status).toBe('SUBSCRIBED');
    expect((await subscribe(b)).status).toBe('SUBSCRIBED');

    expect(await a.send({ type: 'broadcast', event: 'msg', payload: { from: 'a' } })).toBe('ok');
    await waitFor(() => (gotA.length === 1 && gotB.length === 1 ? true : undefined));
    expect(gotA).toEqual([{ from: 'a' }]);
    expect(gotB).toEqual([{ from: 'a' }]);

    // b has self:false: its own message reaches a only.
    expect(await b.send({ type: 'broadcast', event: 'msg', payload: { from: 'b' } })).toBe('ok');
    await waitFor(() => (gotA.length === 2 ? true : undefined));
    await sleep(100);
    expect(gotB).toEqual([{ from: 'a' }]);
    expect(gotA[1]).toEqual({ from: 'b' });
  });

  it('refuses private channels when it has no database to authorize them with (private channels tested in privateChannels.test.ts)', async () => {
    const name = uniqueName('split');
    const priv = h.client(vsn).channel(name, { config: { private: true } });
    const result = await subscribe(priv);
    expect(result.status).toBe('CHANNEL_ERROR');
    expect(result.err?.message).toContain('PrivateChannelsUnavailable');
    expect((await subscribe(h.client(vsn).channel(name))).status).toBe('SUBSCRIBED');
  });

  it('syncs presence between two clients, with join and leave, also on disconnect', async () => {
    const name = uniqueName('presence');
    const watcher = h.client(vsn).channel(name, { config: { presence: { key: 'watcher' } } });
    const joins: string[] = [];
    const leaves: string[] = [];
    watcher.on('presence', { event: 'sync' }, () => undefined);
    watcher.on('presence', { event: 'join' }, ({ key }) => joins.push(key));
    watcher.on('presence', { event: 'leave' }, ({ key }) => leaves.push(key));
    expect((await subscribe(watcher)).status).toBe('SUBSCRIBED');
    expect(await watcher.track({ who: 'watcher' })).toBe('ok');

    const otherClient = h.client(vsn);
    const other = otherClient.channel(name, { config: { presence: { key: 'other' } } });
    other.on('presence', { event: 'sync' }, () => undefined);
    expect((await subscribe(other)).status).toBe('SUBSCRIBED');
    // The newcomer's presence_state holds the watcher.
    await waitFor(() => (other.presenceState().watcher ? true : undefined));
    expect(other.presenceState().watcher?.[0]).toMatchObject({ who: 'watcher' });

    expect(await other.track({ who: 'other' })).toBe('ok');
    await waitFor(() => (watcher.presenceState().other ? true : undefined));
    expect(joins).toContain('other');

    expect(await other.untrack()).toBe('ok');
    await waitFor(() => (watcher.presenceState().other ? undefined : true));
    expect(leaves).toContain('other');

    expect(await other.track({ who: 'other again' })).toBe('ok');
    await waitFor(() => (watcher.presenceState().other ? true : undefined));
    otherClient.disconnect();
    await waitFor(() => (watcher.presenceState().other ? undefined : true));
    expect(Object.keys(watcher.presenceState())).toEqual(['watcher']);
  });

  it('refuses a join with an expired access_token with Supabase\'s reason', async () => {
    const c = h.client(vsn);
    await c.setAuth(token(-30));
    const result = await subscribe(c.channel(uniqueName('expired')));
    expect(result.status).toBe('CHANNEL_ERROR');
    expect(result.err?.message).toMatch(/^InvalidJWTToken: Token has expired (29|30|31) seconds ago$/);
  });

  it('closes a channel whose token expires while joined', async () => {
    const c = h.client(vsn);
    // 3 s: long enough for the join to land first on a loaded machine (1 s flaked in full runs).
    await c.setAuth(token(3));
    const channel = c.channel(uniqueName('expiring'));
    const system: Array<Record<string, unknown>> = [];
    channel.on('system', {}, (payload: Record<string, unknown>) => system.push(payload));
    expect((await subscribe(channel)).status).toBe('SUBSCRIBED');
    await waitFor(() => (channel.state === 'closed' ? true : undefined), 8000);
    expect(system).toContainEqual(expect.objectContaining({ extension: 'system', status: 'error', message: expect.stringMatching(/^Token has expired \d+ seconds ago$/) }));
  });

  it('keeps a channel open past the old expiry after an access_token refresh', async () => {
    const c = h.client(vsn);
    await c.setAuth(token(1));
    const channel = c.channel(uniqueName('refresh'));
    expect((await subscribe(channel)).status).toBe('SUBSCRIBED');
    await c.setAuth(token(3600));
    await sleep(1500);
    expect(channel.state).toBe('joined');
  });

  it('echoes postgres_changes bindings with ids so the client sees no mismatch', async () => {
    const channel = h.client(vsn).channel(uniqueName('pg'));
    channel.on('postgres_changes', { event: '*', schema: 'public', table: 'todos' }, () => undefined);
    channel.on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'todos', filter: 'id=eq.1' }, () => undefined);
    expect(await subscribe(channel)).toEqual({ status: 'SUBSCRIBED' });
  });
});

describe('vsn 2.0.0 binary broadcast', () => {
  it('delivers an ArrayBuffer payload as a binary broadcast', async () => {
    const name = uniqueName('binary');
    const a = h.client('2.0.0').channel(name, { config: { broadcast: { ack: true } } });
    const b = h.client('2.0.0').channel(name);
    const got: unknown[] = [];
    b.on('broadcast', { event: 'bytes' }, (m) => got.push(m.payload));
    expect((await subscribe(a)).status).toBe('SUBSCRIBED');
    expect((await subscribe(b)).status).toBe('SUBSCRIBED');
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    expect(await a.send({ type: 'broadcast', event: 'bytes', payload: bytes.buffer })).toBe('ok');
    const received = await waitFor(() => got[0]);
    expect(received).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(received as ArrayBuffer)]).toEqual([0, 1, 2, 250, 255]);
  });
});


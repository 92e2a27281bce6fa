/**
 * The reconnect loop on reconnecting-websocket (reconnect.ts, transport.ts): which of rws's options
 * carry our policy, the jittered delay that stays ours, dead connections dropped at once, the faults
 * rws does not survive on its own (a throwing constructor, closing a connecting `ws`), the attempt
 * count across short-lived connections, and nothing left running after disconnect().
 */
import net from 'node:net';
import { configureStore } from '@reduxjs/toolkit';
import { WebSocket } from 'ws';
import { createRealtimeServer, type RealtimeServer } from '../../../lib/server/realtime/server.js';
import { createSyncMiddleware } from '../../../lib/sync/index.js';
import { driverOptions } from '../../../lib/sync/phoenix/reconnect.js';
import { resolveSocketOptions } from '../../../lib/sync/phoenix/socketOptions.js';
import type { Timers, WebSocketConstructor } from '../../../lib/sync/phoenix/index.js';
import { startFaultProxy, type FaultProxy } from '../../support/faultProxy.js';
import { FakeSocket } from '../support/fakeRealtime.js';
import { countingTimers, disconnectAll, fakeServer, replyOk, SECRET, sleep, testSocket, token, waitFor, type FakeServer } from './socketHarness.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  disconnectAll();
  for (const close of closers.splice(0).reverse()) await close();
});

async function fake(...args: Parameters<typeof fakeServer>): Promise<FakeServer> {
  const server = await fakeServer(...args);
  closers.push(() => server.close());
  return server;
}

/** A port nothing listens on: every attempt is refused. */
async function refusingUrl(): Promise<string> {
  const server = await fakeServer();
  await server.close();
  return server.url;
}

/** A TCP server that accepts and never answers: a WebSocket to it stays connecting. */
async function blackhole(): Promise<string> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => resolve());
  }));
  return `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/realtime/v1`;
}

/** `ws`'s WebSocket counting its constructions. */
function countingWebSocket() {
  const made: WebSocket[] = [];
  class Counted extends WebSocket {
    constructor(url: string) {
      super(url);
      made.push(this);
    }
  }
  return { WebSocket: Counted as unknown as WebSocketConstructor, made };
}

/** Timers that run only when the test fires them. */
function manualTimers(): Timers & { scheduled: () => number[]; fireAll: () => void } {
  const pending = new Map<number, { callback: () => void; ms: number }>();
  let next = 0;
  return {
    setTimeout(callback, ms) {
      pending.set(++next, { callback, ms });
      return next;
    },
    clearTimeout(handle) {
      pending.delete(handle as number);
    },
    scheduled: () => [...pending.values()].map((t) => t.ms),
    fireAll() {
      const due = [...pending.values()];
      pending.clear();
      for (const t of due) t.callback();
    },
  };
}

describe("reconnecting-websocket's options", () => {
  it('carry the connection timeout and minimum uptime; its own delays are zero (the jittered delay is ours), retries are unlimited and nothing is queued while disconnected', () => {
    class Socket {}
    expect(driverOptions(Socket, 7000, 3000)).toEqual({
      WebSocket: Socket,
      minReconnectionDelay: 0,
      maxReconnectionDelay: 0,
      reconnectionDelayGrowFactor: 1,
      connectionTimeout: 7000,
      minUptime: 3000,
      maxRetries: Infinity,
      maxEnqueuedMessages: 0,
      startClosed: false,
    });
  });

  it('connectionTimeoutMs defaults to 10 s and minUptimeMs to 5 s; bad values are refused by name', () => {
    const base = { url: 'ws://h/realtime/v1', params: {}, WebSocket: WebSocket as unknown as WebSocketConstructor, onEvent: () => undefined };
    expect(resolveSocketOptions(base)).toMatchObject({ connectionTimeoutMs: 10_000, minUptimeMs: 5_000 });
    expect(resolveSocketOptions({ ...base, connectionTimeoutMs: 50, minUptimeMs: 20 })).toMatchObject({ connectionTimeoutMs: 50, minUptimeMs: 20 });
    expect(() => resolveSocketOptions({ ...base, connectionTimeoutMs: 0 })).toThrow(/connectionTimeoutMs must be a positive number/);
    expect(() => resolveSocketOptions({ ...base, minUptimeMs: -1 })).toThrow(/minUptimeMs must be a positive number/);
  });
});

describe('the delay before an attempt', () => {
  it('is drawn anew for every attempt (full jitter) and waited on the injected timers: no attempt starts before they fire', async () => {
    const draws = [0.25, 0.75, 0.5];
    const timers = manualTimers();
    const { WebSocket: Counted, made } = countingWebSocket();
    const a = testSocket({ url: await refusingUrl(), WebSocket: Counted, timers, random: () => draws.shift() ?? 0, reconnect: { minDelayMs: 100, maxDelayMs: 1000, factor: 2 } });
    a.socket.connect();
    const delays = () => a.of('status').filter((e) => e.status === 'reconnecting').map((e) => [e.attempt, e.delayMs, e.code]);
    for (const [n, expected] of [[1, [1, 25, 1006]], [2, [2, 150, 1006]], [3, [3, 200, 1006]]] as const) {
      await waitFor(() => (delays().length === n ? true : undefined));
      expect(delays()[n - 1]).toEqual(expected);
      expect(timers.scheduled()).toEqual([expected[1]]);
      // Real time passes, the injected timer has not fired: rws does not start the attempt itself.
      await sleep(60);
      expect(made).toHaveLength(n);
      timers.fireAll();
      expect(a.of('status').at(-1)).toEqual({ type: 'status', status: 'connecting', attempt: n });
      await waitFor(() => (made.length === n + 1 ? true : undefined));
    }
  });

  it('is skipped by connect() while reconnecting: the attempt goes at once', async () => {
    const server = await fake(replyOk);
    const timers = countingTimers();
    const a = testSocket({ url: server.url, timers, reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000 }, random: () => 0.99 });
    a.socket.connect();
    await waitFor(() => (server.connections.length === 1 && a.socket.state === 'open' ? true : undefined));
    server.connections[0]!.terminate();
    await waitFor(() => a.of('status').find((e) => e.status === 'reconnecting'));
    a.socket.connect();
    expect(a.socket.state).toBe('connecting');
    await waitFor(() => (a.of('status').filter((e) => e.status === 'open').length === 2 ? true : undefined));
    expect(server.connections).toHaveLength(2);
    expect(a.of('status').map((e) => [e.status, e.attempt])).toEqual([['connecting', undefined], ['open', undefined], ['reconnecting', 1], ['connecting', 1], ['open', undefined]]);
  });
});

describe('a dead connection (no heartbeat reply)', () => {
  it('with ws: is terminated, not closed with a handshake, and the loop reconnects', async () => {
    const closeCodes: number[] = [];
    const server = await fake(undefined, (socket) => socket.on('close', (code) => closeCodes.push(code)));
    const a = testSocket({ url: server.url, heartbeatIntervalMs: 40 });
    a.socket.connect();
    await waitFor(() => a.of('heartbeat').find((e) => e.status === 'timeout'));
    expect(a.of('status').find((e) => e.status === 'reconnecting')).toMatchObject({ attempt: 1, code: 1000, reason: 'heartbeat timeout' });
    await waitFor(() => (closeCodes.length >= 1 ? true : undefined));
    // 1006: the server saw the TCP connection end without a close frame.
    expect(closeCodes[0]).toBe(1006);
    await waitFor(() => (server.connections.length >= 2 ? true : undefined));
  });

  it('with a WebSocket that has no terminate (a browser): is reported closed at once, though its closing handshake cannot complete, and the socket comes back', async () => {
    const realtime: RealtimeServer = await createRealtimeServer({ jwtSecret: SECRET, port: 0 });
    closers.push(() => realtime.close());
    const proxy: FaultProxy = await startFaultProxy({ host: '127.0.0.1', port: realtime.port });
    closers.push(() => proxy.close());
    const closed: Array<[number | undefined, string | undefined]> = [];
    class BrowserLike extends WebSocket {
      constructor(url: string) {
        super(url);
        Object.defineProperty(this, 'terminate', { value: undefined });
      }
      override close(code?: number, reason?: string): void {
        closed.push([code, reason]);
        super.close(code, reason);
      }
    }
    const a = testSocket({ url: `${proxy.url}/realtime/v1`, params: { apikey: token() }, WebSocket: BrowserLike as unknown as WebSocketConstructor, heartbeatIntervalMs: 40, connectionTimeoutMs: 300 });
    a.socket.connect();
    await waitFor(() => a.of('heartbeat').find((e) => e.status === 'ok'));
    proxy.mode = 'blackhole'; // frames from the client no longer arrive: heartbeats and the close frame are lost
    await waitFor(() => a.of('heartbeat').find((e) => e.status === 'timeout'));
    const timeout = a.events.findIndex((e) => e.type === 'heartbeat' && e.status === 'timeout');
    const reconnecting = a.events.findIndex((e) => e.type === 'status' && e.status === 'reconnecting');
    expect(reconnecting).toBeGreaterThan(timeout);
    expect(a.events.slice(timeout + 1, reconnecting).every((e) => e.type === 'channel')).toBe(true);
    expect(closed).toEqual([[1000, 'heartbeat timeout']]);
    proxy.mode = 'pass'; // an attempt that went into the blackhole times out and is retried
    await waitFor(() => (a.of('status').filter((e) => e.status === 'open').length === 2 ? true : undefined));
  });
});

describe('faults reconnecting-websocket does not survive on its own', () => {
  it('a WebSocket constructor that throws is an error event and a failed attempt; the next attempt connects', async () => {
    const server = await fake(replyOk);
    let calls = 0;
    class FailsOnce extends WebSocket {
      constructor(url: string) {
        if (++calls === 1) throw new SyntaxError('blocked by policy');
        super(url);
      }
    }
    const a = testSocket({ url: server.url, WebSocket: FailsOnce as unknown as WebSocketConstructor });
    a.socket.connect();
    await waitFor(() => a.of('status').find((e) => e.status === 'open'));
    expect(a.of('error')).toEqual([{ type: 'error', code: 'CONNECT_FAILED', message: 'blocked by policy' }]);
    expect(a.of('status').map((e) => [e.status, e.attempt, e.code, e.reason])).toEqual([
      ['connecting', undefined, undefined, undefined],
      ['reconnecting', 1, 1006, 'blocked by policy'],
      ['connecting', 1, undefined, undefined],
      ['open', undefined, undefined, undefined],
    ]);
  });

  it('an attempt that does not open within connectionTimeoutMs is closed while connecting (no unhandled ws error) and retried', async () => {
    const url = await blackhole();
    const a = testSocket({ url, connectionTimeoutMs: 50 });
    a.socket.connect();
    await waitFor(() => (a.of('status').filter((e) => e.status === 'reconnecting').length >= 2 ? true : undefined));
    expect(a.of('status').filter((e) => e.status === 'reconnecting').map((e) => [e.attempt, e.code, e.reason])).toEqual(expect.arrayContaining([[1, 1006, 'connection timeout'], [2, 1006, 'connection timeout']]));
    // ws reports closing a connecting socket as an 'error' a tick later; give it the time to surface.
    await sleep(30);
  });

  it("createSyncMiddleware's connectionTimeoutMs reaches the socket: the mirror shows the attempt given up and retried", async () => {
    const sync = createSyncMiddleware({ url: await blackhole(), WebSocket: WebSocket as never, connectionTimeoutMs: 50, reconnect: { minDelayMs: 10, maxDelayMs: 10 }, environment: false, onWarning: () => undefined });
    const store = configureStore({ reducer: { [sync.reducerPath]: sync.reducer }, middleware: (getDefault) => getDefault().concat(sync.middleware) });
    closers.push(async () => void store.dispatch(sync.actions.disconnect()));
    store.dispatch(sync.actions.connect());
    const connection = () => sync.selectors.selectConnection(store.getState());
    await waitFor(() => (connection().status === 'reconnecting' ? true : undefined));
    // With the default (10 s) no attempt would have timed out yet.
    expect(connection()).toMatchObject({ status: 'reconnecting', attempt: expect.any(Number), error: 'connection timeout' });
  });

  it('disconnect() while connecting closes the attempt without an unhandled ws error', async () => {
    const a = testSocket({ url: await blackhole() });
    a.socket.connect();
    await sleep(20);
    a.socket.disconnect();
    await sleep(30);
    expect(a.of('status').map((e) => e.status)).toEqual(['connecting', 'closed']);
  });
});

describe('the attempt count', () => {
  it('keeps growing across connections that drop before minUptimeMs, and starts again after one that stayed up', async () => {
    let stayUp = false;
    const server = await fake(replyOk, (socket) => {
      setTimeout(() => socket.terminate(), stayUp ? 800 : 10);
    });
    const a = testSocket({ url: server.url, minUptimeMs: 400 });
    const attempts = () => a.of('status').filter((e) => e.status === 'reconnecting').map((e) => e.attempt);
    a.socket.connect();
    await waitFor(() => (attempts().length >= 3 ? true : undefined));
    // Every one of these connections opened before it was dropped.
    expect(attempts().slice(0, 3)).toEqual([1, 2, 3]);
    expect(a.of('status').filter((e) => e.status === 'open').length).toBeGreaterThanOrEqual(3);
    stayUp = true;
    const before = attempts().length;
    await waitFor(() => (attempts().slice(before).includes(1) ? true : undefined));
  });
});

describe('disconnect() leaves nothing running', () => {
  /** Every global timer made (by rws, ws, this test) and not yet fired or cleared. */
  function trackGlobalTimers() {
    const live = new Set<unknown>();
    const { setTimeout: realSet, clearTimeout: realClear } = globalThis;
    globalThis.setTimeout = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const handle = realSet(() => {
        live.delete(handle);
        callback(...args);
      }, ms);
      live.add(handle);
      return handle;
    }) as typeof globalThis.setTimeout;
    globalThis.clearTimeout = ((handle: ReturnType<typeof realSet>) => {
      live.delete(handle);
      realClear(handle);
    }) as typeof globalThis.clearTimeout;
    closers.push(async () => {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
    });
    return live;
  }

  // Every delay and timeout is a minute: whatever of them survived disconnect() would still be there.
  const long = { heartbeatIntervalMs: 60_000, timeoutMs: 60_000, connectionTimeoutMs: 60_000, minUptimeMs: 60_000, reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000 } };

  it.each([
    ['open (rws holds its uptime timer)', 'open'],
    ['connecting (rws holds its connection timeout)', 'connecting'],
    ['reconnecting (the delay before the next attempt)', 'reconnecting'],
  ] as const)('while %s: no timer, injected or global, and no further attempt', async (_name, state) => {
    const server = await fake(replyOk);
    const url = state === 'connecting' ? await blackhole() : state === 'reconnecting' ? await refusingUrl() : server.url;
    const live = trackGlobalTimers();
    const timers = countingTimers();
    const { WebSocket: Counted, made } = countingWebSocket();
    const a = testSocket({ url, WebSocket: Counted, timers, random: () => 0.99, ...long });
    a.socket.connect();
    await waitFor(() => (a.socket.state === state && made.length === 1 ? true : undefined));
    await sleep(20);
    expect(live.size).toBeGreaterThan(0); // the tracking sees rws's timers
    a.socket.disconnect();
    expect(timers.pending()).toBe(0);
    // Closing handshakes finish on their own; then nothing is left.
    await waitFor(() => (live.size === 0 ? true : undefined), 2000);
    await sleep(50);
    expect(made).toHaveLength(1);
    expect(a.of('status').at(-1)).toMatchObject({ status: 'closed' });

    a.socket.connect();
    if (state === 'open') await waitFor(() => (a.of('status').filter((e) => e.status === 'open').length === 2 ? true : undefined));
    else await waitFor(() => (made.length === 2 ? true : undefined));
  });

  it("disconnect() while connecting, with a WebSocket that still reports open after close() (the sync tests' FakeSocket): no timer is left", async () => {
    let a: ReturnType<typeof testSocket> | undefined;
    class DisconnectedAtOnce extends FakeSocket {
      constructor(url: string) {
        super(url); // opens on a 0 ms timer, and its close() sends no close event
        queueMicrotask(() => a!.socket.disconnect());
      }
    }
    const live = trackGlobalTimers();
    a = testSocket({ url: 'ws://realtime.invalid/realtime/v1', WebSocket: DisconnectedAtOnce as unknown as WebSocketConstructor, ...long });
    a.socket.connect();
    await waitFor(() => (FakeSocket.last?.readyState === 1 ? true : undefined)); // the late open has come
    FakeSocket.all.length = 0;
    expect(live.size).toBe(0);
    expect(a.of('status').map((e) => e.status)).toEqual(['connecting', 'closed']);
  });
});

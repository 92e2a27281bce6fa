/**
 * What the socket tests share: sockets wired to `ws` that record their events, fake Phoenix servers
 * on port 0 for faults our real server never produces, timers that can be counted, and cleanup.
 */
import { WebSocket, WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { createPhoenixSocket, type PhoenixSocket, type PhoenixSocketOptions, type SocketEvent, type Timers, type WebSocketConstructor } from '../../../lib/sync/phoenix/index.js';

export { SECRET, token, waitFor, uniqueName, sleep } from '../../server/realtime/realtimeHarness.js';

export interface TestSocket {
  socket: PhoenixSocket;
  events: SocketEvent[];
  of<T extends SocketEvent['type']>(type: T): Array<Extract<SocketEvent, { type: T }>>;
}

const opened: PhoenixSocket[] = [];

/** A socket with short heartbeats and timeouts, `ws` as its WebSocket; disconnected by `closeAll`. */
export function testSocket(options: Partial<PhoenixSocketOptions> & { url: string }): TestSocket {
  const events: SocketEvent[] = [];
  const socket = createPhoenixSocket({
    params: {},
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    heartbeatIntervalMs: 100,
    timeoutMs: 1000,
    reconnect: { minDelayMs: 20, maxDelayMs: 50 },
    rejoin: { minDelayMs: 20, maxDelayMs: 50 },
    ...options,
    onEvent: (event) => {
      events.push(event);
      options.onEvent?.(event);
    },
  });
  opened.push(socket);
  return { socket, events, of: (type) => events.filter((e) => e.type === type) as never };
}

/** Disconnects every socket `testSocket` made. */
export function disconnectAll(): void {
  for (const socket of opened.splice(0)) socket.disconnect();
}

/** Resolves with a `channel` event of `topic` reaching `status`, the n-th one if given. */
export function channelStatus(t: TestSocket, topic: string, status: string, n = 1) {
  return () => t.of('channel').filter((e) => e.topic === topic && e.status === status)[n - 1];
}

/** Messages of `event` received on `topic`. */
export function messages(t: TestSocket, topic: string, event: string) {
  return t.of('message').filter((e) => e.topic === topic && e.event === event);
}

export interface FakeServer {
  url: string;
  port: number;
  /** Every connection so far. */
  connections: ServerSocket[];
  /** Every decoded v2 text frame received: [join_ref, ref, topic, event, payload]. */
  frames: Array<[string | null, string | null, string, string, Record<string, unknown>]>;
  close(): Promise<void>;
}

/**
 * A v2 Phoenix server on port 0 that does only what `onFrame` does (nothing: it never replies, not
 * even to heartbeats).
 */
export async function fakeServer(onFrame: (socket: ServerSocket, frame: FakeServer['frames'][number]) => void = () => undefined, onConnection: (socket: ServerSocket) => void = () => undefined): Promise<FakeServer> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => wss.once('listening', resolve));
  const port = (wss.address() as { port: number }).port;
  const server: FakeServer = {
    url: `ws://127.0.0.1:${port}/realtime/v1`,
    port,
    connections: [],
    frames: [],
    async close() {
      for (const c of wss.clients) c.terminate();
      await new Promise((resolve) => wss.close(resolve));
    },
  };
  wss.on('connection', (socket) => {
    server.connections.push(socket);
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      const frame = JSON.parse(String(data)) as FakeServer['frames'][number];
      server.frames.push(frame);
      onFrame(socket, frame);
    });
    onConnection(socket);
  });
  return server;
}

/** Replies ok to every join (and, with `heartbeats`, to heartbeats). */
export function replyOk(socket: ServerSocket, [joinRef, ref, topic, event]: FakeServer['frames'][number], { heartbeats = true } = {}): void {
  if (event === 'phx_join' || (heartbeats && event === 'heartbeat')) socket.send(JSON.stringify([joinRef, ref, topic, 'phx_reply', { status: 'ok', response: {} }]));
}

/** Timers that know which of their handles are still pending. */
export function countingTimers(): Timers & { pending: () => number } {
  const live = new Set<ReturnType<typeof setTimeout>>();
  return {
    setTimeout(callback, ms) {
      const handle = setTimeout(() => {
        live.delete(handle);
        callback();
      }, ms);
      live.add(handle);
      return handle;
    },
    clearTimeout(handle) {
      live.delete(handle as ReturnType<typeof setTimeout>);
      clearTimeout(handle as ReturnType<typeof setTimeout>);
    },
    pending: () => live.size,
  };
}

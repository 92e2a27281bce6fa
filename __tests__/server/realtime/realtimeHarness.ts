/**
 * A realtime server on port 0 plus the clients a test file opens against it (official realtime-js
 * clients and raw `ws` sockets), all closed by `close()`.
 */
import { RealtimeClient, type RealtimeChannel } from '@supabase/realtime-js';
import { WebSocket } from 'ws';
import { signJwt } from '../../../lib/server/stack/jwt.js';
import { createRealtimeServer, type RealtimeServer, type RealtimeServerOptions } from '../../../lib/server/realtime/server.js';

export const SECRET = 'test-secret-at-least-32-characters-long!';
export const now = () => Math.floor(Date.now() / 1000);
/** A token signed with SECRET expiring `expInSeconds` from now (negative: already expired). */
export const token = (expInSeconds = 3600, claims: Record<string, unknown> = { role: 'anon' }) => signJwt(SECRET, { ...claims, exp: now() + expInSeconds });

/** What `createRealtimeServer` throws for `options` (bad ones on purpose); a server it starts anyway is closed. */
export async function startError(options: Record<string, unknown>): Promise<unknown> {
  try {
    const server = await createRealtimeServer({ jwtSecret: SECRET, ...options } as unknown as RealtimeServerOptions);
    await server.close();
  } catch (error) {
    return error;
  }
  return undefined;
}

export type TestVsn = '1.0.0' | '2.0.0';

let topicCounter = 0;
/** A channel name no other test uses. */
export const uniqueName = (base: string) => `${base}-${++topicCounter}`;

/** Polls `probe` until it returns something other than undefined. */
export async function waitFor<T>(probe: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('waitFor timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Subscribes and resolves with the first terminal status (and error). */
export function subscribe(channel: RealtimeChannel): Promise<{ status: string; err?: Error }> {
  return new Promise((resolve) => {
    channel.subscribe((status, err) => resolve({ status, ...(err ? { err } : {}) }));
  });
}

export interface RawSocket {
  socket: WebSocket;
  /** Every frame received: parsed JSON for text, the Buffer for binary. */
  frames: unknown[];
  closed: Promise<{ code: number; reason: string }>;
}

export interface Harness {
  readonly server: RealtimeServer;
  client(vsn: TestVsn, options?: { heartbeatIntervalMs?: number; heartbeatCallback?: (status: string) => void }): RealtimeClient;
  /** An open raw socket on /realtime/v1/websocket. */
  openRaw(vsn: TestVsn, query?: string): Promise<RawSocket>;
  /** A raw socket that may be refused: its upgrade's HTTP status and JSON body. */
  refusal(query: string): Promise<{ status: number; body: { error: string } }>;
  close(): Promise<void>;
}

/** Starts a server with `options` (jwtSecret is SECRET). */
export async function startHarness(options: Omit<RealtimeServerOptions, 'jwtSecret'> = {}): Promise<Harness> {
  const server = await createRealtimeServer({ jwtSecret: SECRET, ...options });
  const clients: RealtimeClient[] = [];
  const sockets: WebSocket[] = [];
  const raw = (query: string) => {
    const socket = new WebSocket(`${server.url}/websocket?${query}`);
    sockets.push(socket);
    return socket;
  };
  return {
    server,
    client(vsn, extra = {}) {
      const c = new RealtimeClient(server.url, {
        params: { apikey: token() },
        vsn,
        transport: WebSocket as never,
        heartbeatIntervalMs: 200,
        timeout: 3000,
        ...extra,
      });
      clients.push(c);
      return c;
    },
    async openRaw(vsn, query = `apikey=${token()}`) {
      const socket = raw(`${query}&vsn=${vsn}`);
      const frames: unknown[] = [];
      socket.on('message', (data, isBinary) => frames.push(isBinary ? data : JSON.parse(String(data))));
      const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
      await new Promise((resolve, reject) => socket.on('open', resolve).on('error', reject));
      return { socket, frames, closed };
    },
    refusal(query) {
      return new Promise((resolve, reject) => {
        const socket = raw(query);
        socket.on('open', () => reject(new Error('upgrade was accepted')));
        socket.on('error', () => undefined);
        socket.on('unexpected-response', (_req, res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { error: string } }));
        });
      });
    },
    async close() {
      for (const c of clients) {
        c.removeAllChannels();
        // realtime-js leaves a 10 s fallback timer behind here; nothing of ours stays open.
        void c.disconnect();
      }
      for (const socket of sockets) socket.terminate();
      await server.close();
    },
  };
}

/** Official realtime-js clients a test file opens against any server, all closed by `closeAll()`. */
export function officialClients(apikey: string) {
  const clients: RealtimeClient[] = [];
  return {
    open(url: string): RealtimeClient {
      const c = new RealtimeClient(url, { params: { apikey }, transport: WebSocket as never, heartbeatIntervalMs: 500, timeout: 10_000 });
      clients.push(c);
      return c;
    },
    closeAll(): void {
      for (const c of clients) {
        c.removeAllChannels();
        // realtime-js leaves a 10 s fallback timer behind here; nothing of ours stays open.
        void c.disconnect();
      }
      clients.length = 0;
    },
  };
}

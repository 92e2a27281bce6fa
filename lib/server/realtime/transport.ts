/**
 * HTTP server and WebSocket upgrade (docs/realtime-protocol.md §1.1): the socket lives at
 * `/socket/websocket` (self-hosted Supabase) and `/realtime/v1/websocket` (behind Supabase's
 * gateway). The `apikey` must be a valid JWT and `vsn` a supported version before the upgrade;
 * refusals are HTTP JSON `{"error": "..."}` like Supabase's `UserSocket.handle_error/2`.
 * Sockets that send nothing for `heartbeatTimeoutMs` are closed (Phoenix's idle `timeout`).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { negotiateVsn } from './codec.js';
import type { Vsn } from './messages.js';
import { checkRealtimeToken } from './tokens.js';

export const SOCKET_PATHS: readonly string[] = ['/socket/websocket', '/realtime/v1/websocket'];

export interface TransportOptions {
  jwtSecret: string;
  port: number;
  host: string;
  maxFrameBytes: number;
  heartbeatTimeoutMs: number;
}

/** What an accepted upgrade hands the connection layer. */
export interface AcceptedSocket {
  socket: WebSocket;
  vsn: Vsn;
  /** The verified `apikey`. */
  token: string;
}

export interface Transport {
  readonly port: number;
  readonly host: string;
  /** Closes every socket and the listener. */
  close(): Promise<void>;
}

/** Listens and hands every accepted socket to `onSocket`. */
export async function startTransport(options: TransportOptions, onSocket: (accepted: AcceptedSocket) => void): Promise<Transport> {
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes });
  const lastSeen = new Map<WebSocket, number>();
  const server: Server = createServer((_request, response) => {
    response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'Not found: connect a WebSocket to /realtime/v1/websocket' }));
  });

  server.on('upgrade', (request: IncomingMessage, stream: Duplex, head: Buffer) => {
    // A client that resets mid-handshake must not raise an unhandled 'error'.
    stream.on('error', () => stream.destroy());
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (!SOCKET_PATHS.includes(url.pathname)) return refuse(stream, 404, 'Not found');
    const vsn = negotiateVsn(url.searchParams.get('vsn'));
    if (!vsn.ok) return refuse(stream, 400, vsn.error.message);
    const header = request.headers['x-api-key'];
    const token = url.searchParams.get('apikey') ?? (typeof header === 'string' ? header : undefined);
    const checked = checkRealtimeToken(options.jwtSecret, token);
    if (!checked.ok) return refuse(stream, 401, checked.message);
    wss.handleUpgrade(request, stream, head, (socket) => {
      lastSeen.set(socket, Date.now());
      socket.on('message', () => lastSeen.set(socket, Date.now()));
      socket.on('close', () => lastSeen.delete(socket));
      onSocket({ socket, vsn: vsn.vsn, token: token as string });
    });
  });

  // One sweep for all sockets instead of a timer reset per frame.
  const sweepMs = Math.max(10, Math.min(5000, Math.floor(options.heartbeatTimeoutMs / 4)));
  const sweeper = setInterval(() => {
    const deadline = Date.now() - options.heartbeatTimeoutMs;
    for (const [socket, seen] of lastSeen) {
      if (seen >= deadline) continue;
      lastSeen.delete(socket);
      socket.close(1000, 'heartbeat timeout');
      setTimeout(() => socket.terminate(), 1000).unref();
    }
  }, sweepMs);
  sweeper.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;

  return {
    port,
    host: options.host,
    async close() {
      clearInterval(sweeper);
      for (const socket of wss.clients) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function refuse(stream: Duplex, status: 400 | 401 | 404, message: string): void {
  const body = JSON.stringify({ error: message });
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found' }[status];
  stream.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

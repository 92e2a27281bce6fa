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
import { negotiateVsn } from '../codec/index.js';
import type { Vsn } from '../codec/messages.js';
import { checkRealtimeToken } from '../channels/tokens.js';

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
  // No compression: frames are written pre-framed (`wireFrame`), and ws only queues sends while deflating.
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes, perMessageDeflate: false });
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

/** The net socket under a ws `WebSocket`, as the connection layer writes to it and follows its drains. */
export interface RawSocket {
  cork(): void;
  uncork(): void;
  write(chunk: Buffer): boolean;
  on(event: 'drain', listener: () => void): unknown;
  off(event: 'drain', listener: () => void): unknown;
}

/**
 * The socket to write pre-framed messages (`wireFrame`) to, or null where ws must frame them
 * itself. Writing beside ws is safe only while ws never holds frames back, i.e. without extensions
 * (compression queues frames while deflating); ws keeps the net socket in `_socket`.
 */
export function rawSocketOf(socket: WebSocket): RawSocket | null {
  if (socket.extensions !== '') return null;
  const raw = (socket as unknown as { _socket?: RawSocket | null })._socket;
  return raw && typeof raw.cork === 'function' && typeof raw.write === 'function' && typeof raw.on === 'function' && typeof raw.off === 'function' ? raw : null;
}

let lastData: string | Buffer | undefined;
let lastWire: Buffer | undefined;

/**
 * One complete server-to-client WebSocket frame (RFC 6455 §5.2: FIN, text for a string, binary for
 * a Buffer, unmasked) as one Buffer. The last one is kept, so a fan-out sending the same frame to
 * every socket of a room encodes it once and every socket writes the same bytes. A Buffer must not
 * change once sent (ws never copied it either; fan-out frames are cached and immutable).
 */
export function wireFrame(data: string | Buffer): Buffer {
  if (data === lastData) return lastWire!;
  const text = typeof data === 'string';
  const length = text ? Buffer.byteLength(data) : data.length;
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const wire = Buffer.allocUnsafe(header + length);
  wire[0] = 0x80 | (text ? 0x1 : 0x2);
  if (header === 2) wire[1] = length;
  else if (header === 4) {
    wire[1] = 126;
    wire.writeUInt16BE(length, 2);
  } else {
    wire[1] = 127;
    wire.writeUInt32BE(0, 2);
    wire.writeUInt32BE(length, 6);
  }
  if (text) wire.write(data, header, 'utf8');
  else data.copy(wire, header);
  lastData = data;
  lastWire = wire;
  return wire;
}

function refuse(stream: Duplex, status: 400 | 401 | 404, message: string): void {
  const body = JSON.stringify({ error: message });
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found' }[status];
  stream.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * A TCP proxy on loopback that the test controls, put between a client and a real server: it can
 * pass traffic, refuse connections (close them at once), blackhole them (accept and never answer),
 * cut the response after the request was forwarded, or answer the next connections itself with a
 * canned HTTP response (a 503 from "a load balancer"). Every connection is counted.
 */
import net from 'node:net';

export type FaultMode = 'pass' | 'refuse' | 'blackhole' | 'cut-response';

export interface FaultProxy {
  /** `http://127.0.0.1:<port>` (or the ws:// form with `wsUrl`). */
  url: string;
  port: number;
  mode: FaultMode;
  /** Connections accepted so far. */
  connections: number;
  /** The next `count` connections are answered with this raw HTTP response (then the mode applies again). */
  respondNext(count: number, status: number, body: string, headers?: Record<string, string>): void;
  /** Closes every open connection (a network cut) without changing the mode. */
  cutAll(): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  const sockets = new Set<net.Socket>();
  const canned: Array<{ status: number; body: string; headers: Record<string, string> }> = [];
  const server = net.createServer((client) => {
    proxy.connections += 1;
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    const answer = canned.shift();
    if (answer) {
      client.once('data', () => {
        const head = [`HTTP/1.1 ${answer.status} Injected`, 'Connection: close', 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(answer.body)}`, ...Object.entries(answer.headers).map(([name, value]) => `${name}: ${value}`)];
        client.end(`${head.join('\r\n')}\r\n\r\n${answer.body}`);
      });
      return;
    }
    if (proxy.mode === 'refuse') {
      client.destroy();
      return;
    }
    if (proxy.mode === 'blackhole') return; // accepted, never answered
    const upstream = net.connect(target.port, target.host);
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    const cut = proxy.mode === 'cut-response';
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      // The request reached the server; its answer is lost on the way back.
      if (cut) client.destroy();
      else client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const proxy: FaultProxy = {
    url: `http://127.0.0.1:${port}`,
    port,
    mode: 'pass',
    connections: 0,
    respondNext(count, status, body, headers = {}) {
      for (let i = 0; i < count; i++) canned.push({ status, body, headers });
    },
    cutAll() {
      for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return proxy;
}

/**
 * A TCP proxy on loopback that the test controls, put between a client and a real server: it can
 * pass traffic, refuse connections (close them at once), blackhole them (accept and never answer),
 * cut the response after the request was forwarded, or answer the next connections itself with a
 * canned HTTP response (a 503 from "a load balancer"). Every connection is counted. The target may
 * be a function, asked once per connection: a load balancer choosing the upstream of each (none:
 * the connection is closed at once, like a balancer with no healthy backend).
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
  /** HTTP requests seen so far (a kept-alive connection carries several). */
  requests: number;
  /** The next `count` connections are answered with this raw HTTP response (then the mode applies again). */
  respondNext(count: number, status: number, body: string, headers?: Record<string, string>): void;
  /** Forwards the next `count` requests as the mode says, then switches to `mode` (from the request after them). */
  switchAfter(count: number, mode: FaultMode): void;
  /** Closes every open connection (a network cut) without changing the mode. */
  cutAll(): void;
  close(): Promise<void>;
}

export interface ProxyTarget {
  host: string;
  port: number;
}

export async function startFaultProxy(target: ProxyTarget | (() => ProxyTarget | undefined)): Promise<FaultProxy> {
  const sockets = new Set<net.Socket>();
  const canned: Array<{ status: number; body: string; headers: Record<string, string> }> = [];
  let switching: { left: number; mode: FaultMode } | undefined;
  const server = net.createServer((client) => {
    proxy.connections += 1;
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (proxy.mode === 'refuse' && canned.length === 0) {
      client.destroy();
      return;
    }
    if (proxy.mode === 'blackhole' && canned.length === 0) return; // accepted, never answered
    let upstream: net.Socket | undefined;
    const connectUpstream = () => {
      if (upstream) return upstream;
      const to = typeof target === 'function' ? target() : target;
      if (!to) {
        client.destroy();
        return undefined;
      }
      upstream = net.connect(to.port, to.host);
      const opened = upstream;
      sockets.add(opened);
      opened.on('close', () => {
        sockets.delete(opened);
        client.destroy();
      });
      opened.on('error', () => client.destroy());
      opened.on('data', (chunk) => {
        // The request reached the server; its answer is lost on the way back.
        if (proxy.mode === 'cut-response') client.destroy();
        else client.write(chunk);
      });
      return opened;
    };
    client.on('close', () => upstream?.destroy());
    client.on('data', (chunk) => {
      if (/^[A-Z]+ \S+ HTTP\/1/.test(chunk.toString('latin1', 0, 64))) {
        proxy.requests += 1;
        if (switching && switching.left-- <= 0) {
          proxy.mode = switching.mode;
          switching = undefined;
        }
      }
      // A canned answer takes the next request, on whatever connection it comes (kept-alive ones too).
      const answer = canned.shift();
      if (answer) {
        const head = [`HTTP/1.1 ${answer.status} Injected`, 'Connection: close', 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(answer.body)}`, ...Object.entries(answer.headers).map(([name, value]) => `${name}: ${value}`)];
        client.end(`${head.join('\r\n')}\r\n\r\n${answer.body}`);
        upstream?.destroy();
        return;
      }
      if (proxy.mode === 'blackhole') return;
      connectUpstream()?.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const proxy: FaultProxy = {
    url: `http://127.0.0.1:${port}`,
    port,
    mode: 'pass',
    connections: 0,
    requests: 0,
    respondNext(count, status, body, headers = {}) {
      for (let i = 0; i < count; i++) canned.push({ status, body, headers });
    },
    switchAfter(count, mode) {
      switching = { left: count, mode };
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

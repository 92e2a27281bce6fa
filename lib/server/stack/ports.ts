import net from 'node:net';
import { StackError } from './errors.js';

/** Every process of the stack listens on loopback only. */
export const HOST = '127.0.0.1';

/**
 * A port that is free right now. PostgreSQL cannot bind port 0 and PostgREST 12 does not report the
 * port it got, so we ask the kernel for one and release it; callers retry on the rare collision.
 */
export async function findFreePort(): Promise<number> {
  // A browser page can't reach a server on a port it refuses: never pick one (the kernel's range
  // rarely holds one, but a system's may).
  for (let attempt = 0; ; attempt++) {
    const port = await kernelPort();
    if (!isBrowserRestrictedPort(port) || attempt >= 20) return port;
  }
}

/**
 * Ports Chromium (net/base/port_util.cc) and Firefox (the network.security.ports list) refuse to
 * connect to: a page's fetch or WebSocket to a server on one fails before it is sent.
 */
export const BROWSER_RESTRICTED_PORTS: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119,
  123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990,
  993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/** True for a port browsers refuse (BROWSER_RESTRICTED_PORTS). */
export function isBrowserRestrictedPort(port: number): boolean {
  return BROWSER_RESTRICTED_PORTS.has(port);
}

function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: HOST, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not read the port the kernel assigned'))));
    });
  });
}

/** True when nothing listens on `port` at the loopback address. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES') resolve(false);
      else reject(error);
    });
    server.listen({ port, host: HOST, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Fails with PORT_IN_USE before anything starts when a port the user asked for is taken. */
export async function assertPortFree(port: number, option: string): Promise<void> {
  if (!(await isPortFree(port))) throw portInUse(port, option);
}

/** The PORT_IN_USE error for `port`, naming the option that chose it. */
export function portInUse(port: number, option: string): StackError {
  return new StackError('PORT_IN_USE', `port ${port} (${option}) is already in use on ${HOST}; choose another or stop what is listening there`, { port });
}

/** True when a process log says it could not bind its port. */
export function logSaysAddressInUse(lines: readonly string[]): boolean {
  return lines.some((line) => /address already in use/i.test(line));
}

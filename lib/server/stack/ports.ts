import net from 'node:net';
import { StackError } from './errors.js';

/** Every process of the stack listens on loopback only. */
export const HOST = '127.0.0.1';

/**
 * A port that is free right now. PostgreSQL cannot bind port 0 and PostgREST 12 does not report the
 * port it got, so we ask the kernel for one and release it; callers retry on the rare collision.
 */
export function findFreePort(): Promise<number> {
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

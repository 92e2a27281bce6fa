/**
 * What the browser tests run against, started once by globalSetup.ts: a built Storybook served
 * over HTTP with the test stack's config put on the page, the stack (demo/schema.sql), and a
 * realtime server of its own in a child process that a test can kill and start again
 * (`POST /__e2e/realtime/kill` and `/__e2e/realtime/start` on the same server).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import type { Stack } from '../../lib/server/index.js';
import { findFreePort } from '../../lib/server/stack/ports.js';
import { RUNTIME_CONFIG, type DemoConfig } from '../../storybook/demoConfig.js';
import { demoConfig, root, startDemoStack } from '../../scripts/demoStack.js';

/** What the tests get (through the RTK_E2E variable). */
export interface E2eInfo {
  /** The built Storybook: `${storybookUrl}/iframe.html?id=…`. */
  storybookUrl: string;
  databaseUrl: string;
  config: DemoConfig;
}

export interface Harness {
  info: E2eInfo;
  stop(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

/** Starts the stack, the killable realtime server and the Storybook server over `staticDir`. */
export async function startHarness(staticDir: string): Promise<Harness> {
  const stack: Stack = await startDemoStack();
  let realtime: ChildProcess | undefined;
  let server: Server | undefined;
  try {
    const realtimePort = await findFreePort();
    const startRealtime = async () => {
      realtime = await startRealtimeProcess(stack, realtimePort);
    };
    await startRealtime();
    const config = await demoConfig(stack, `ws://127.0.0.1:${realtimePort}/realtime/v1`);
    const inject = `<script>window[${JSON.stringify(RUNTIME_CONFIG)}] = ${JSON.stringify(config)};</script>`;

    server = createServer((request, response) => {
      void (async () => {
        const url = new URL(request.url ?? '/', 'http://localhost');
        if (request.method === 'POST' && url.pathname === '/__e2e/realtime/kill') {
          await killProcess(realtime);
          realtime = undefined;
          response.end('killed');
          return;
        }
        if (request.method === 'POST' && url.pathname === '/__e2e/realtime/start') {
          if (!realtime) await startRealtime();
          response.end('started');
          return;
        }
        const file = path.join(staticDir, path.normalize(decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname)));
        if (!file.startsWith(staticDir) || !(await stat(file).catch(() => null))?.isFile()) {
          response.writeHead(404).end('not found');
          return;
        }
        response.setHeader('Content-Type', TYPES[path.extname(file)] ?? 'application/octet-stream');
        if (path.basename(file) === 'iframe.html') {
          response.end((await readFile(file, 'utf8')).replace('<head>', `<head>${inject}`));
          return;
        }
        createReadStream(file).pipe(response);
      })().catch((error: unknown) => {
        response.writeHead(500).end(String(error));
      });
    });
    const port = await findFreePort();
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, '127.0.0.1', resolve);
    });
    return {
      info: { storybookUrl: `http://127.0.0.1:${port}`, databaseUrl: stack.databaseUrl, config },
      async stop() {
        await new Promise((resolve) => server!.close(resolve));
        server!.closeAllConnections();
        await killProcess(realtime);
        await stack.stop();
      },
    };
  } catch (error) {
    server?.close();
    await killProcess(realtime);
    await stack.stop();
    throw error;
  }
}

/** `rtk-postgrest realtime` on `port`, resolved once it listens. */
async function startRealtimeProcess(stack: Stack, port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'lib/server/cli/main.ts'), 'realtime', '--database-url', stack.databaseUrl, '--jwt-secret', stack.jwtSecret, '--port', String(port), '--host', '127.0.0.1'],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the realtime server did not start in 20 s:\n${output}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk;
      if (output.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the realtime server exited (${code}):\n${output}`));
    });
  });
  return child;
}

/** SIGKILL, as a crash would end it; resolves once it is gone. */
async function killProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/**
 * `npm start` (also `npm run storybook`): starts the dev stack with demo/schema.sql, hands its
 * PostgREST and realtime URLs, the anon key and a token per demo author to Storybook through
 * STORYBOOK_* variables (Vite exposes those as `import.meta.env`), runs `storybook dev`, prints the
 * URL to open and the stack's URLs and keys, and stops everything when Storybook exits or on Ctrl-C.
 * Extra arguments go to `storybook dev` (`npm start -- --port 7007`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Stack } from '../lib/server/index.js';
import { findFreePort, isPortFree } from '../lib/server/stack/ports.js';
import { ENV } from '../storybook/demoConfig.js';
import { demoConfig, root, startDemoStack, storybookBin } from './demoStack.js';

const PREFERRED_PORT = 6006;

async function main(): Promise<number> {
  let signal: NodeJS.Signals | undefined;
  let child: ChildProcess | undefined;
  // Ctrl-C reaches Storybook too (same process group); we only forward a signal sent to us alone.
  const onSignal = (received: NodeJS.Signals) => {
    signal ??= received;
    if (child && child.exitCode === null && child.signalCode === null) child.kill(received);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let stack: Stack | undefined;
  try {
    console.log('Starting PostgreSQL, PostgREST and the realtime server with demo/schema.sql…');
    stack = await startDemoStack();
    if (signal) return 130;
    const config = await demoConfig(stack);
    const args = process.argv.slice(2);
    const port = args.includes('--port') ? Number(args[args.indexOf('--port') + 1]) : (await isPortFree(PREFERRED_PORT)) ? PREFERRED_PORT : await findFreePort();
    const portArgs = args.includes('--port') ? [] : ['--port', String(port)];
    console.log(
      [
        '',
        `  Demos:      http://localhost:${port}   (open this; Storybook is ready when it prints its own box)`,
        `  PostgREST:  ${stack.postgrestUrl}`,
        `  Realtime:   ${stack.realtimeUrl}`,
        `  Database:   ${stack.databaseUrl}`,
        `  Anon key:   ${stack.anonKey}`,
        `  Service key (server-side only, bypasses RLS): ${stack.serviceKey}`,
        `  Demo users: ${config.users.map((user) => user.name).join(', ') || 'none'} (tokens valid 7 days)`,
        '  Ctrl-C stops Storybook and the stack.',
        '',
      ].join('\n'),
    );

    child = spawn(process.execPath, [storybookBin(), 'dev', ...portArgs, '--ci', ...args], {
      cwd: root,
      stdio: 'inherit',
      env: {
        ...process.env,
        [ENV.url]: config.postgrestUrl,
        [ENV.realtimeUrl]: config.realtimeUrl,
        [ENV.anonKey]: config.anonKey,
        [ENV.users]: JSON.stringify(config.users),
      },
    });
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child!.once('error', reject);
      child!.once('exit', (code, exitSignal) => resolve({ code, signal: exitSignal }));
    });
    if (signal || exit.signal) return 130;
    return exit.code ?? 1;
  } catch (error) {
    console.error(`npm start: ${(error as Error).message}`);
    return 1;
  } finally {
    if (stack) {
      console.log('Stopping the realtime server, PostgREST and PostgreSQL…');
      await stack.stop();
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

// Exit explicitly (idle keep-alive sockets must not hold the process), once output is flushed.
const code = await main();
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));

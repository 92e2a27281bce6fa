/**
 * `npm run storybook`: starts the dev stack with demo/schema.sql, hands its PostgREST and realtime
 * URLs, the anon key and a token per demo author to Storybook through STORYBOOK_* variables (Vite
 * exposes those as `import.meta.env`), runs `storybook dev` and stops the stack when Storybook exits or on Ctrl-C.
 * Extra arguments go to `storybook dev` (`npm run storybook -- --port 7007 --ci`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack, type Stack } from '../lib/server/index.js';
import { ENV, type DemoUser } from '../storybook/demoConfig.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const schemaFile = path.join(root, 'demo/schema.sql');
// User tokens outlive a long Storybook session; the stack's secret changes on every start anyway.
const TOKEN_LIFETIME = '7d';

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
    stack = await startStack({ sql: await readFile(schemaFile, 'utf8'), sqlName: 'demo/schema.sql' });
    if (signal) return 130;
    const users = await demoUsers(stack);
    console.log(`PostgREST ${stack.postgrestUrl}; realtime ${stack.realtimeUrl}; demo users: ${users.map((u) => u.name).join(', ') || 'none'}`);

    child = spawn(process.execPath, [storybookBin(), 'dev', '--port', '6006', ...process.argv.slice(2)], {
      cwd: root,
      stdio: 'inherit',
      env: {
        ...process.env,
        [ENV.url]: stack.postgrestUrl,
        [ENV.realtimeUrl]: stack.realtimeUrl,
        [ENV.anonKey]: stack.anonKey,
        [ENV.users]: JSON.stringify(users),
      },
    });
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child!.once('error', reject);
      child!.once('exit', (code, exitSignal) => resolve({ code, signal: exitSignal }));
    });
    if (signal || exit.signal) return 130;
    return exit.code ?? 1;
  } catch (error) {
    console.error(`storybook: ${(error as Error).message}`);
    return 1;
  } finally {
    if (stack) {
      console.log('Stopping PostgreSQL and PostgREST…');
      await stack.stop();
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Every author in the demo schema, with a token whose `sub` is the author's id (read through PostgREST as anon). */
async function demoUsers(stack: Stack): Promise<DemoUser[]> {
  const response = await fetch(`${stack.postgrestUrl}/authors?select=id,name&order=name`, {
    headers: { apikey: stack.anonKey, Authorization: `Bearer ${stack.anonKey}` },
  });
  if (!response.ok) throw new Error(`reading the demo authors failed: ${response.status} ${await response.text()}`);
  const authors = (await response.json()) as Array<{ id: string; name: string }>;
  return authors.map(({ id, name }) => ({ id, name, token: stack.signToken({ sub: id }, { expiresIn: TOKEN_LIFETIME }) }));
}

function storybookBin(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('storybook/package.json');
  const { bin } = require(manifest) as { bin: string | Record<string, string> };
  return path.join(path.dirname(manifest), typeof bin === 'string' ? bin : bin.storybook!);
}

// Exit explicitly (idle keep-alive sockets must not hold the process), once output is flushed.
const code = await main();
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));

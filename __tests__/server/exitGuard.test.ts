/**
 * A stack whose application never calls stop() must still not outlive the Node process: killed
 * synchronously on process.exit(), stopped gracefully on a signal nobody else handles.
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { canListen, eventually, isRunning, portOf } from './processes';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const APP = '__tests__/server/fixtures/forgetfulApp.ts';

interface Started {
  pids: { postgres: number; postgrest: number };
  dataDir: string;
  databaseUrl: string;
  postgrestUrl: string;
}

function runApp(mode: 'exit' | 'wait') {
  const child = spawn(process.execPath, ['--import', 'tsx', APP, mode], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const started = new Promise<Started>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('\n')) resolve(JSON.parse(stdout.split('\n')[0]!) as Started);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', () => reject(new Error(`the app exited before starting its stack: ${stderr}`)));
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, started, exit };
}

// If a check fails, do not leave the stack behind for the rest of the run.
const leftovers: Started[] = [];
afterAll(() => {
  for (const stack of leftovers) {
    for (const pid of [stack.pids.postgrest, stack.pids.postgres]) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    rmSync(stack.dataDir, { recursive: true, force: true });
  }
});

async function expectGone(stack: Started): Promise<void> {
  expect(await eventually(() => !isRunning(stack.pids.postgres) && !isRunning(stack.pids.postgrest))).toBe(true);
  expect(await eventually(() => !existsSync(stack.dataDir))).toBe(true);
  expect(await canListen(portOf(stack.databaseUrl))).toBe(true);
  expect(await canListen(portOf(stack.postgrestUrl))).toBe(true);
}

describe('a stack the application forgets to stop', () => {
  it('is killed, and its temp dir removed, when the process calls process.exit()', async () => {
    const app = runApp('exit');
    const stack = await app.started;
    leftovers.push(stack);
    expect(await app.exit).toEqual({ code: 0, signal: null });
    await expectGone(stack);
  });

  it('is stopped on SIGINT when the application has no handler, which then still ends the process', async () => {
    const app = runApp('wait');
    const stack = await app.started;
    leftovers.push(stack);
    expect(isRunning(stack.pids.postgres) && isRunning(stack.pids.postgrest)).toBe(true);
    app.child.kill('SIGINT');
    expect(await app.exit).toEqual({ code: null, signal: 'SIGINT' });
    await expectGone(stack);
  });
});

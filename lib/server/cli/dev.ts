import { readFile } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { startStack, type Stack } from '../stack/index.js';
import { isStackError } from '../stack/errors.js';
import type { DevArgs } from './args.js';
import { listRelations, runExample } from './example.js';
import { ENV_KEYS, writeEnvFile } from './envFile.js';

/** Where the CLI writes: stdout for results, stderr for errors and logs. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

/** `rtk-postgrest dev`: starts the stack, prints how to use it, and stops it on SIGINT/SIGTERM. */
export async function runDev(args: DevArgs, io: Io): Promise<number> {
  const fail = (message: string) => {
    io.err(`rtk-postgrest: ${message}`);
    return 1;
  };
  let sql: string | undefined;
  if (args.sql !== undefined) {
    try {
      sql = await readFile(args.sql, 'utf8');
    } catch (error) {
      return fail(`cannot read --sql file ${args.sql}: ${reason(error)}`);
    }
  }
  if (args.migrations !== undefined && !(existsSync(args.migrations) && statSync(args.migrations).isDirectory())) {
    return fail(`--migrations ${args.migrations} is not a folder`);
  }

  // Handle signals from the start: a Ctrl-C during startup stops the stack as soon as it is up.
  const signal = waitForSignal();
  const startedAt = Date.now();
  let stack: Stack;
  try {
    stack = await startStack({
      ...(sql !== undefined && { sql, sqlName: args.sql! }),
      ...(args.migrations !== undefined && { migrations: args.migrations }),
      ...(args.data !== undefined && { dataDir: args.data }),
      ...(args.dbPort !== undefined && { postgresPort: args.dbPort }),
      ...(args.apiPort !== undefined && { postgrestPort: args.apiPort }),
      ...(args.realtimePort !== undefined && { realtimePort: args.realtimePort }),
      ...(args.publication !== undefined && { publication: args.publication }),
      ...(args.schemas !== undefined && { schemas: args.schemas }),
      ...(args.realtimeNodes !== undefined && { realtimeNodes: args.realtimeNodes }),
      ...(args.redis !== undefined && { redis: args.redis === true ? true : { url: args.redis } }),
      ...(args.jwtSecret !== undefined && { jwtSecret: args.jwtSecret }),
      ...(args.verbose && { onLog: (line: string) => io.err(line) }),
    });
  } catch (error) {
    signal.cancel();
    if (isStackError(error, 'PORT_IN_USE')) {
      const flags: Array<[number | undefined, string]> = [[args.dbPort, '--db-port'], [args.apiPort, '--api-port'], [args.realtimePort, '--realtime-port']];
      const flag = flags.find(([port]) => port === error.port)?.[1];
      return fail(`port ${error.port} is already in use${flag ? ` (${flag})` : ''}`);
    }
    return fail(isStackError(error) ? error.message : `unexpected error: ${reason(error)}`);
  }

  printStack(stack, args, Date.now() - startedAt, io);
  if (args.envFile !== undefined) {
    try {
      await writeEnvFile(args.envFile, stack);
      io.out(`\nWrote ${args.envFile}: ${ENV_KEYS.join(', ')}`);
    } catch (error) {
      io.err(`rtk-postgrest: cannot write --env-file ${args.envFile}: ${reason(error)}`);
    }
  }
  if (!signal.received()) await printExample(stack, args.schemas?.[0] ?? 'public', io);
  if (!signal.received()) io.out('\nPress Ctrl-C to stop.');

  const received = await signal.promise;
  io.out(`\n${received}: stopping…`);
  await stack.stop();
  io.out('Stopped.');
  return 0;
}

function printStack(stack: Stack, args: DevArgs, elapsedMs: number, io: Io): void {
  const rows: Array<[string, string]> = [
    ['PostgREST', stack.postgrestUrl],
    ...stack.realtimeUrls.map((url, i): [string, string] => [stack.realtimeUrls.length > 1 ? `Realtime ${i + 1}` : 'Realtime', url]),
    ...(stack.redisUrl !== undefined ? [['Redis', stack.redisUrl] as [string, string]] : []),
    ['Database', stack.databaseUrl],
    ['Schemas', (args.schemas ?? ['public']).join(', ')],
    ['anon key', stack.anonKey],
    ['service key', `${stack.serviceKey}`],
    ['JWT secret', stack.jwtSecret],
    ['Data dir', `${stack.dataDir}${args.data === undefined ? ' (removed on exit)' : ''}`],
  ];
  io.out(`rtk-postgrest dev stack is ready (${(elapsedMs / 1000).toFixed(1)} s)\n`);
  for (const [name, value] of rows) io.out(`  ${name.padEnd(12)} ${value}`);
  io.out('\n  The service key bypasses row level security: keep it out of browsers.');
}

async function printExample(stack: Stack, schema: string, io: Io): Promise<void> {
  try {
    const relations = await listRelations(stack.postgrestUrl, stack.serviceKey);
    if (relations.length === 0) {
      io.out(`\nPostgREST exposes no tables in schema ${schema} yet: create some with --sql or --migrations.`);
      return;
    }
    io.out(`\nTables and views (schema ${schema}): ${relations.join(', ')}`);
    const example = await runExample(stack.postgrestUrl, relations[0]!, stack.anonKey);
    io.out(`\nExample request, with the anon key:\n  ${example.curl}`);
    io.out(`  → ${example.status} ${example.statusText}`);
    for (const line of example.lines) io.out(`    ${line}`);
  } catch (error) {
    io.err(`rtk-postgrest: could not run the example request: ${reason(error)}`);
  }
}

interface SignalWait {
  promise: Promise<NodeJS.Signals>;
  received(): boolean;
  cancel(): void;
}

const DUPLICATE_SIGNAL_MS = 1000;

/**
 * Resolves on the first SIGINT/SIGTERM; another one a second later forces an exit (children are
 * killed on 'exit'). Under a runner such as tsx one Ctrl-C arrives twice (from the terminal and
 * relayed), so repeats within a second are the same request.
 */
export function waitForSignal(): SignalWait {
  let got: NodeJS.Signals | undefined;
  let firstAt = 0;
  let resolve!: (signal: NodeJS.Signals) => void;
  const promise = new Promise<NodeJS.Signals>((done) => (resolve = done));
  const handler = (signal: NodeJS.Signals) => {
    if (got) {
      if (Date.now() - firstAt < DUPLICATE_SIGNAL_MS) return;
      process.stderr.write('rtk-postgrest: second signal, exiting now\n');
      process.exit(130);
    }
    got = signal;
    firstAt = Date.now();
    resolve(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    promise,
    received: () => got !== undefined,
    cancel() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

export function reason(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'no such file';
    if (code === 'EISDIR') return 'it is a folder';
    return error.message;
  }
  return String(error);
}

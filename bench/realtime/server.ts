/**
 * Child process of bench/realtime.ts: starts the stack (PostgreSQL + PostgREST + realtime server) so
 * its CPU and memory can be read from /proc apart from the benchmark clients. Prints one JSON line
 * with the URLs, keys, pids and user tokens, then runs until stdin closes or SIGTERM, and stops the stack.
 */
import { randomUUID } from 'node:crypto';
import { startStack } from '../../lib/server';

const USERS = Number(process.env.USERS ?? 50);

async function main() {
  const stack = await startStack({
    sql: `create table bench (id bigserial primary key, owner uuid, body text, created_at timestamptz default now());
          grant select on bench to anon, authenticated;`,
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await stack.stop().catch((e) => console.error(e));
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  process.stdin.on('end', () => void stop());
  process.stdin.on('close', () => void stop());
  process.stdin.resume();
  const users = Array.from({ length: USERS }, () => randomUUID());
  const tokens = users.map((sub) => stack.signToken({ sub }));
  process.stdout.write(
    JSON.stringify({
      ready: true,
      pid: process.pid,
      pids: stack.pids,
      realtimeUrl: stack.realtimeUrl,
      databaseUrl: stack.databaseUrl,
      anonKey: stack.anonKey,
      users,
      tokens,
    }) + '\n',
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

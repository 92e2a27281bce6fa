/**
 * Child process of bench/realtime.ts: starts the stack (PostgreSQL + PostgREST + realtime server) so
 * its CPU and memory can be read from /proc apart from the benchmark clients. Prints one JSON line
 * with the URLs, keys, pids and user tokens, then runs until stdin closes or SIGTERM, and stops the stack.
 * With REDIS=1 the stack also starts a redis-server and its realtime server is the cluster's first
 * node (`node-1`, which takes the leader lock); bench/realtime/node.ts adds the others.
 */
import { randomUUID } from 'node:crypto';
import { startStack } from '../../lib/server';
import { stopOnSignal } from './proc';

const USERS = Number(process.env.USERS ?? 50);
const REDIS = process.env.REDIS === '1';

async function main() {
  const stack = await startStack({
    sql: `create table bench (id bigserial primary key, owner uuid, body text, created_at timestamptz default now());
          grant select on bench to anon, authenticated;`,
    ...(REDIS && { redis: true }),
  });
  stopOnSignal(() => stack.stop());
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
      ...(REDIS && { redisUrl: stack.redisUrl, jwtSecret: stack.jwtSecret }),
    }) + '\n',
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

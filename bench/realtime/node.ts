/**
 * Child process of bench/realtime.ts (`--nodes N`): one more realtime node of the cluster that the
 * stack child (bench/realtime/server.ts, REDIS=1) started, in its own process so its CPU and memory
 * can be read from /proc. Env: DATABASE_URL, JWT_SECRET, REDIS_URL, NODE_ID. Prints one JSON line
 * ({ pid, url }), then runs until stdin closes or SIGTERM, and closes the node.
 */
import { createRealtimeServer } from '../../lib/server';
import { stopOnSignal } from './proc';

async function main() {
  const server = await createRealtimeServer({
    databaseUrl: process.env.DATABASE_URL!,
    jwtSecret: process.env.JWT_SECRET!,
    redis: { url: process.env.REDIS_URL!, nodeId: process.env.NODE_ID! },
    onError: (error) => console.error(`[${process.env.NODE_ID}] ${(error as Error)?.message ?? String(error)}`),
  });
  stopOnSignal(() => server.close());
  process.stdout.write(JSON.stringify({ pid: process.pid, url: server.url }) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

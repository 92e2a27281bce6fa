/**
 * Child process of bench/limits.ts, run with `--expose-gc`: starts the stack (for its database) and
 * two realtime servers of our own on it, one with the default limits and one with limits out of
 * the way, and answers heap readings after full collections over IPC. Runs until told to exit.
 */
import { startStack } from '../../lib/server';
import { createRealtimeServer } from '../../lib/server/realtime/server.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('bench/limits/server.ts needs node --expose-gc');
const MB = 1024 * 1024;
const round = (bytes: number) => +(bytes / MB).toFixed(1);

/** Heap after full collections (several, with turns between, so weak callbacks and finalizers run). */
async function heap() {
  for (let i = 0; i < 6; i++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const m = process.memoryUsage();
  return { heapUsedMb: round(m.heapUsed), externalMb: round(m.external), arrayBuffersMb: round(m.arrayBuffers), rssMb: round(m.rss) };
}

async function main() {
  const stack = await startStack({ sql: 'create table bench_limits (id bigserial primary key, body text); grant select on bench_limits to anon, authenticated;' });
  const common = { jwtSecret: stack.jwtSecret, onError: () => undefined };
  const limited = await createRealtimeServer({ ...common, databaseUrl: stack.databaseUrl });
  // Limits out of the way: what a flood does without them (broadcast only, no database).
  const unlimited = await createRealtimeServer({
    ...common,
    maxMessagesPerSecond: 1_000_000_000,
    maxJoinsPerSecond: 1_000_000_000,
    maxChannelsPerConnection: 1_000_000,
  });
  const stop = async () => {
    await limited.close().catch(() => undefined);
    await unlimited.close().catch(() => undefined);
    await stack.stop().catch(() => undefined);
    process.exit(0);
  };
  process.on('disconnect', () => void stop());
  process.on('message', (message: { cmd: string }) => {
    if (message.cmd === 'heap') void heap().then((reading) => process.send!({ type: 'heap', reading }));
    else if (message.cmd === 'exit') void stop();
  });
  process.send!({ type: 'ready', limitedUrl: limited.url, unlimitedUrl: unlimited.url, anonKey: stack.anonKey, pids: { server: process.pid, ...stack.pids } });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

/** `rtk-postgrest realtime`: one realtime server node, for production; with --redis, one node of a cluster. */
import { redactUrl } from '../realtime/cluster/redis.js';
import { createRealtimeServer, type RealtimeServer } from '../realtime/server.js';
import type { RealtimeArgs } from './args.js';
import { reason, waitForSignal, type Io } from './dev.js';

/** Starts the node, prints its URL, and closes it on SIGINT/SIGTERM. Exit code 0, or 1 when it can't start. */
export async function runRealtime(args: RealtimeArgs, io: Io): Promise<number> {
  const signal = waitForSignal();
  let server: RealtimeServer;
  try {
    server = await createRealtimeServer({
      jwtSecret: args.jwtSecret!,
      port: args.port,
      host: args.host,
      ...(args.databaseUrl !== undefined && { databaseUrl: args.databaseUrl }),
      ...(args.publication !== undefined && { publication: args.publication }),
      ...(args.redis !== undefined && { redis: { url: args.redis, ...(args.nodeId !== undefined && { nodeId: args.nodeId }) } }),
      onError: (error) => io.err(`rtk-postgrest realtime: ${reason(error)}`),
    });
  } catch (error) {
    signal.cancel();
    io.err(`rtk-postgrest realtime: ${reason(error)}`);
    return 1;
  }
  io.out(`rtk-postgrest realtime node listening on ${server.url}${args.redis !== undefined ? ` (cluster: ${redactUrl(args.redis)})` : ''}${args.databaseUrl === undefined ? ' (no --database-url: broadcast and presence only)' : ''}`);
  const received = await signal.promise;
  io.out(`${received}: closing…`);
  await server.close();
  io.out('Closed.');
  return 0;
}

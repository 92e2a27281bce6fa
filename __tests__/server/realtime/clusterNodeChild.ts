/**
 * One realtime cluster node in a process of its own, so a test can kill it with SIGKILL (a crash:
 * no bye, no leave diffs, its Redis connections simply drop). Options come as JSON in
 * CLUSTER_NODE_OPTIONS; the node's URL is printed as one JSON line.
 */
import { createRealtimeServer, type RealtimeServerOptions } from '../../../lib/server/realtime/server.js';

const options = JSON.parse(process.env.CLUSTER_NODE_OPTIONS ?? '{}') as RealtimeServerOptions;
const server = await createRealtimeServer(options);
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);

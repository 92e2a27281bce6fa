/**
 * One realtime node of a cluster in a process of its own, for tests that kill it (-9): options as
 * JSON in CLUSTER_NODE; prints `{"url":...}` once listening; runs until killed.
 */
import { createRealtimeServer, type RealtimeServerOptions } from '../../../lib/server/realtime/server.js';

const options = JSON.parse(process.env.CLUSTER_NODE ?? '{}') as RealtimeServerOptions;
createRealtimeServer({ ...options, onError: () => undefined }).then(
  (server) => process.stdout.write(`${JSON.stringify({ url: server.url })}\n`),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

/**
 * The cluster's bus: one Redis pub/sub channel (`<keyPrefix>bus`) every node publishes to and reads.
 * Each node publishes on one connection, so what it says reaches every other node in the order it
 * said it (presence relies on this: a node's full state never overtakes its diffs). A node ignores
 * its own messages: it acted on them before publishing.
 */
import type { Redis } from 'ioredis';
import { connectRedis, type RealtimeRedisOptions } from './redis.js';
import { decodeClusterMessage, encodeClusterMessage, type ClusterMessage } from './messages.js';

export interface ClusterBus {
  /** Publishes to every node; resolves with how many nodes listen (this one included). */
  publish(message: ClusterMessage): Promise<number>;
  /** Unsubscribes and closes both connections. */
  close(): Promise<void>;
}

export interface BusHandlers {
  /** A message of another node. */
  onMessage(message: ClusterMessage): void;
  /** The subscription was lost and is back: messages of the gap are gone. */
  onResubscribed(): void;
  onError(error: unknown): void;
}

/** How long a closing node waits for Redis to acknowledge QUIT before dropping the connection. */
const QUIT_TIMEOUT_MS = 1000;

/** Connects (publisher and subscriber) and subscribes; rejects with the reason when Redis can't be reached. */
export async function openClusterBus(redis: Required<RealtimeRedisOptions>, handlers: BusHandlers): Promise<ClusterBus> {
  const channel = `${redis.keyPrefix}bus`;
  const publisher = await connectRedis(redis, 'bus-pub');
  let subscriber: Redis;
  try {
    subscriber = await connectRedis(redis, 'bus-sub');
  } catch (error) {
    publisher.disconnect();
    throw error;
  }
  let closed = false;
  // One report per outage: ioredis emits an error for every reconnect attempt.
  let reported = false;
  const report = (error: unknown) => {
    if (closed || reported) return;
    reported = true;
    handlers.onError(new Error(`realtime cluster: Redis connection lost, retrying: ${(error as Error)?.message ?? String(error)}`));
  };
  publisher.on('error', report);
  subscriber.on('error', report);
  publisher.on('ready', () => (reported = false));

  subscriber.on('message', (from: string, text: string) => {
    if (from !== channel) return;
    const message = decodeClusterMessage(text);
    if (message === null || message.node === redis.nodeId) return;
    try {
      handlers.onMessage(message);
    } catch (error) {
      handlers.onError(error);
    }
  });
  try {
    await subscriber.subscribe(channel);
  } catch (error) {
    closed = true;
    publisher.disconnect();
    subscriber.disconnect();
    throw error;
  }
  // Connected already: every 'ready' from here on is a reconnect.
  subscriber.on('ready', () => {
    if (closed) return;
    reported = false;
    // ioredis resubscribes by itself; subscribing again (idempotent) tells us when it is in effect.
    subscriber.subscribe(channel).then(() => {
      if (!closed) handlers.onResubscribed();
    }, report);
  });

  return {
    publish: (message) => publisher.publish(channel, encodeClusterMessage(message)),
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([quit(subscriber), quit(publisher)]);
    },
  };
}

/** QUIT (what was queued goes out first), or drop the connection if Redis doesn't answer. */
async function quit(client: Redis): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, QUIT_TIMEOUT_MS)));
  await Promise.race([client.quit().then(() => undefined, () => undefined), timeout]);
  clearTimeout(timer);
  client.disconnect();
}

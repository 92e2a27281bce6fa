/**
 * One node of a realtime cluster (`createRealtimeServer({ redis })`): client broadcasts and presence
 * reach the other nodes' clients through the bus (bus.ts). What arrives from the bus is sent to this
 * node's channels only, never published again. Authorization and limits stay where the client is:
 * a broadcast is relayed only after its node accepted it, and each node checks its own receivers.
 * Broadcasts from the database are not relayed: every node gets them from the replication stream.
 */
import { deliverBroadcast, type RoomBroadcast } from '../channels/broadcast.js';
import { roomTopic, type Rooms } from '../channels/rooms.js';
import { sendPresenceDiff, type PresenceMirror } from '../presence/channel.js';
import type { PresenceTracker } from '../presence/tracker.js';
import { openClusterBus, type ClusterBus } from './bus.js';
import { createClusterPresence } from './clusterPresence.js';
import type { ClusterMessage } from './messages.js';
import type { RealtimeRedisOptions } from './redis.js';

export interface ClusterNode {
  readonly nodeId: string;
  /** Carries a broadcast this node accepted to the room's channels on the other nodes. */
  relayBroadcast(broadcast: RoomBroadcast): void;
  /** The other nodes' presence, for this node's presence channels. */
  readonly presence: PresenceMirror;
  /** Says bye, stops the heartbeat, closes the Redis connections. */
  close(): Promise<void>;
}

export interface ClusterNodeOptions {
  redis: Required<RealtimeRedisOptions>;
  rooms: Rooms;
  /** This node's presence tracker (its rooms are answered to nodes saying hello). */
  tracker: PresenceTracker;
  onError(error: unknown): void;
}

/** Joins the cluster: connects to Redis and has every other node's presence before it resolves. */
export async function startClusterNode(options: ClusterNodeOptions): Promise<ClusterNode> {
  const { redis, rooms, tracker, onError } = options;
  const nodeId = redis.nodeId;
  let bus: ClusterBus | undefined;
  // Messages that arrive while the bus is being opened wait for it (a hello must be answered).
  const early: ClusterMessage[] = [];
  const presence = createClusterPresence({
    nodeId,
    heartbeatMs: redis.heartbeatMs,
    nodeTimeoutMs: redis.nodeTimeoutMs,
    localState: () => tracker.topics().map((room) => [room, tracker.state(room)]),
    deliver: (room, diff) => sendPresenceDiff(rooms, room, roomTopic(room), diff),
    publish: (message) => bus!.publish(message),
    onError,
  });
  const receive = (message: ClusterMessage) => {
    if (message.kind === 'broadcast') {
      deliverBroadcast(rooms, { topic: message.topic, private: message.private, event: message.event, payload: message.payload });
    } else {
      presence.receive(message);
    }
  };
  bus = await openClusterBus(redis, {
    onMessage: (message) => (bus ? receive(message) : early.push(message)),
    onResubscribed: () => void presence.join().catch(onError),
    onError,
  });
  for (const message of early.splice(0)) receive(message);
  try {
    await presence.join();
  } catch (error) {
    await presence.leave();
    await bus.close();
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    nodeId,
    relayBroadcast(broadcast) {
      bus!.publish({ kind: 'broadcast', node: nodeId, ...broadcast }).catch(onError);
    },
    presence,
    close: () =>
      (closing ??= (async () => {
        await presence.leave();
        await bus!.close();
      })()),
  };
}

/**
 * Presence across the nodes of a cluster (Phoenix.Tracker's model over the bus): each node owns its
 * sockets' metas and publishes their diffs; every node mirrors the others' (remotePresence.ts), so a
 * joiner's `presence_state` is complete at once. A node starting (or subscribing again after a lost
 * connection) says hello with its state and every node answers with its own; because one node's
 * messages arrive in order, a full state replaces what its earlier diffs built. A node that stops
 * heartbeating for `nodeTimeoutMs` is dropped: its metas leave, with `presence_diff`s to local
 * clients. If it speaks again (it was cut off, not dead), it is asked for its state.
 */
import type { PresenceMirror } from '../presence/channel.js';
import type { PresenceDiff } from '../presence/tracker.js';
import type { ClusterMessage, RoomPresence } from './messages.js';
import { createRemotePresence } from './remotePresence.js';

export interface ClusterPresenceOptions {
  nodeId: string;
  /** How often this node says it is alive. */
  heartbeatMs: number;
  /** A node not heard from for this long is dropped. */
  nodeTimeoutMs: number;
  /** Everything this node's clients track, per room. */
  localState(): RoomPresence[];
  /** Sends `diff` to this node's channels of `room`. */
  deliver(room: string, diff: PresenceDiff): void;
  /** Publishes on the bus; resolves with how many nodes listen (this one included). */
  publish(message: ClusterMessage): Promise<number>;
  onError(error: unknown): void;
  /** A monotonic clock in ms. Default: performance.now. */
  now?: () => number;
}

export interface ClusterPresence extends PresenceMirror {
  /** A presence message of another node (diff, state, hello, want, heartbeat, bye). */
  receive(message: ClusterMessage): void;
  /**
   * Says hello and waits until every node listening has answered with its state (at most
   * `nodeTimeoutMs`); starts the heartbeat. Called again after a lost subscription.
   */
  join(): Promise<void>;
  /** Says bye (the others drop this node's metas at once) and stops the heartbeat. */
  leave(): Promise<void>;
}

/** Creates the presence side of one cluster node. */
export function createClusterPresence(options: ClusterPresenceOptions): ClusterPresence {
  const { nodeId, heartbeatMs, nodeTimeoutMs, publish, onError } = options;
  const now = options.now ?? (() => performance.now());
  const remote = createRemotePresence();
  const lastSeen = new Map<string, number>();
  let heartbeat: NodeJS.Timeout | undefined;
  let left = false;
  /** The nodes that answered the latest hello, and who to tell when all did. */
  let waiting: { answered: Set<string>; check(): void } | undefined;

  const send = (message: ClusterMessage) => {
    if (!left) publish(message).catch(onError);
  };
  const deliverAll = (diffs: { room: string; diff: PresenceDiff }[]) => {
    for (const { room, diff } of diffs) options.deliver(room, diff);
  };

  function expire(): void {
    const deadline = now() - nodeTimeoutMs;
    for (const [node, seen] of lastSeen) {
      if (seen >= deadline) continue;
      lastSeen.delete(node);
      deliverAll(remote.drop(node));
    }
  }

  return {
    published(room, diff) {
      send({ kind: 'diff', node: nodeId, room, diff });
    },

    addRemote(room, state) {
      remote.addTo(room, state);
    },

    receive(message) {
      const { node } = message;
      if (left) return;
      const known = lastSeen.has(node);
      lastSeen.set(node, now());
      switch (message.kind) {
        case 'hello':
          deliverAll(remote.replace(node, message.rooms));
          send({ kind: 'state', node: nodeId, rooms: options.localState(), answers: node });
          return;
        case 'state':
          deliverAll(remote.replace(node, message.rooms));
          if (message.answers === nodeId && waiting) {
            waiting.answered.add(node);
            waiting.check();
          }
          return;
        case 'want':
          if (message.of === nodeId) send({ kind: 'state', node: nodeId, rooms: options.localState(), answers: node });
          break;
        case 'diff': {
          const changed = remote.apply(node, message.room, message.diff);
          if (changed) options.deliver(message.room, changed);
          break;
        }
        case 'bye':
          lastSeen.delete(node);
          deliverAll(remote.drop(node));
          return;
        default:
          break;
      }
      // A node we had dropped (or never heard say hello) speaks: what it holds now is unknown here.
      if (!known) send({ kind: 'want', node: nodeId, of: node });
    },

    async join() {
      if (heartbeat === undefined) {
        heartbeat = setInterval(() => {
          send({ kind: 'heartbeat', node: nodeId });
          expire();
        }, heartbeatMs);
        heartbeat.unref();
      }
      let done!: () => void;
      const allAnswered = new Promise<void>((resolve) => (done = resolve));
      let expected = Infinity;
      const current = { answered: new Set<string>(), check: () => current.answered.size >= expected && done() };
      waiting = current;
      const timer = setTimeout(done, nodeTimeoutMs);
      try {
        // PUBLISH counts the subscribers that got it: every node but this one answers.
        expected = (await publish({ kind: 'hello', node: nodeId, rooms: options.localState() })) - 1;
        current.check();
        await allAnswered;
      } finally {
        clearTimeout(timer);
        if (waiting === current) waiting = undefined;
      }
    },

    async leave() {
      if (left) return;
      left = true;
      clearInterval(heartbeat);
      heartbeat = undefined;
      await publish({ kind: 'bye', node: nodeId }).catch(onError);
    },
  };
}

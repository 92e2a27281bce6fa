/**
 * Cluster presence between nodes over an in-memory bus (ordered per sender, as Redis pub/sub is):
 * the mirror of other nodes' metas, a node cut off long enough to be dropped, and its return.
 */
import { createClusterPresence, type ClusterPresence } from '../../../lib/server/realtime/cluster/clusterPresence';
import { createRemotePresence } from '../../../lib/server/realtime/cluster/remotePresence';
import { decodeClusterMessage, encodeClusterMessage, type ClusterMessage } from '../../../lib/server/realtime/cluster/messages';
import { createPresenceTracker, applyDiff, type PresenceDiff, type PresenceState } from '../../../lib/server/realtime/presence/tracker';
import { waitFor } from './realtimeHarness';

interface TestNode {
  id: string;
  presence: ClusterPresence;
  tracker: ReturnType<typeof createPresenceTracker>;
  /** What this node's clients of `room` were told, folded: their view of the room. */
  seen: PresenceState;
  track(key: string, payload: Record<string, unknown>): void;
}

const ROOM = 'public|realtime:lobby';

/** Nodes on one bus; `cut` holds the ids whose messages are lost (a partition). */
function bus() {
  const nodes: TestNode[] = [];
  const cut = new Set<string>();
  const publish = (from: string) => async (message: ClusterMessage) => {
    // Through JSON, as on Redis.
    const text = encodeClusterMessage(message);
    if (cut.has(from)) return nodes.length;
    for (const node of nodes) if (node.id !== from) queueMicrotask(() => node.presence.receive(decodeClusterMessage(text)!));
    return nodes.length;
  };
  function add(id: string): TestNode {
    const tracker = createPresenceTracker();
    const node: TestNode = {
      id,
      tracker,
      seen: {},
      presence: createClusterPresence({
        nodeId: id,
        heartbeatMs: 10,
        nodeTimeoutMs: 80,
        localState: () => tracker.topics().map((room) => [room, tracker.state(room)]),
        deliver: (room, diff: PresenceDiff) => {
          if (room === ROOM) node.seen = applyDiff(node.seen, diff);
        },
        publish: publish(id),
        onError: (error) => {
          throw error;
        },
      }),
      track(key, payload) {
        const diff = tracker.track(ROOM, `${id}-conn`, key, payload)!;
        node.seen = applyDiff(node.seen, diff);
        node.presence.published(ROOM, diff);
      },
    };
    nodes.push(node);
    return node;
  }
  return { add, cut, nodes };
}

const view = (node: TestNode) => Object.keys(node.seen).sort().join();


test('a node cut off past the timeout is dropped with leaves; once it speaks again the others ask for its state and it joins again', async () => {
  const cluster = bus();
  const a = cluster.add('a');
  const b = cluster.add('b');
  try {
    await Promise.all([a.presence.join(), b.presence.join()]);
    a.track('ana', { n: 1 });
    b.track('bob', { n: 2 });
    await waitFor(() => (view(a) === 'ana,bob' && view(b) === 'ana,bob' ? true : undefined));

    cluster.cut.add('a');
    await waitFor(() => (view(b) === 'bob' ? true : undefined));
    // While cut off, a's client changes its presence: b learns it only from a's state.
    a.track('ana', { n: 3 });
    cluster.cut.delete('a');
    await waitFor(() => (view(b) === 'ana,bob' ? true : undefined));
    const state = b.tracker.state(ROOM);
    b.presence.addRemote(ROOM, state);
    expect(state.ana?.metas).toEqual([expect.objectContaining({ n: 3 })]);
    expect(b.seen.ana?.metas).toEqual([expect.objectContaining({ n: 3 })]);
  } finally {
    await Promise.all([a.presence.leave(), b.presence.leave()]);
  }
});

test('the mirror applies a node\'s diffs once, replaces its state with the difference as a diff, and drops it with leaves', () => {
  const remote = createRemotePresence();
  const m1 = { phx_ref: 'r1', n: 1 };
  const m2 = { phx_ref: 'r2', n: 2 };
  expect(remote.apply('x', ROOM, { joins: { k: { metas: [m1] } }, leaves: {} })).toEqual({ joins: { k: { metas: [m1] } }, leaves: {} });
  // The same join again (a state that overtook nothing, or a repeat) changes nothing.
  expect(remote.apply('x', ROOM, { joins: { k: { metas: [m1] } }, leaves: {} })).toBeNull();
  expect(remote.replace('x', [[ROOM, { k: { metas: [m1, m2] } }]])).toEqual([{ room: ROOM, diff: { joins: { k: { metas: [m2] } }, leaves: {} } }]);
  expect(remote.replace('x', [[ROOM, { k: { metas: [m2] } }]])).toEqual([{ room: ROOM, diff: { joins: {}, leaves: { k: { metas: [m1] } } } }]);
  const state: PresenceState = { k: { metas: [{ phx_ref: 'local' }] } };
  remote.addTo(ROOM, state);
  expect(state.k!.metas.map((meta) => meta.phx_ref)).toEqual(['local', 'r2']);
  expect(remote.drop('x')).toEqual([{ room: ROOM, diff: { joins: {}, leaves: { k: { metas: [m2] } } } }]);
  expect(remote.drop('x')).toEqual([]);
  const empty: PresenceState = {};
  remote.addTo(ROOM, empty);
  expect(empty).toEqual({});
});

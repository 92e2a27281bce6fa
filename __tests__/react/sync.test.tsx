/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
/**
 * The sync hooks against the real stack's realtime server: useRealtime hears rows written with SQL
 * and leaves its channel on unmount, usePresence and useBroadcast between two stores, useSyncStatus
 * following the connection, and clear errors without a provider. (The Node export conditions let
 * `ws` load its Node build under jsdom.) RTL's serializability check is on in every store.
 */
import { configureStore, findNonSerializableValue, type UnknownAction } from '@reduxjs/toolkit';
import { act, render, waitFor } from '@testing-library/react';
import { Component, StrictMode, type ReactNode } from 'react';
import { Provider } from 'react-redux';
import { WebSocket } from 'ws';
import type { SyncMiddleware } from '../../lib/sync/index.js';
import {
  createSyncHooks,
  SyncProvider,
  useBroadcast,
  usePresence,
  useRealtime,
  useSyncStatus,
  type PushResult,
  type RealtimePostgresChangesPayload,
  type UseBroadcastResult,
} from '../../lib/react/index.js';
import { closeSql, sql } from '../support/stack.js';
import { makeSyncTestStore } from '../support/store.js';

type TestStore = ReturnType<typeof makeStore>;
const stores: Array<{ sync: SyncMiddleware; store: { dispatch(action: UnknownAction): unknown } }> = [];
let roomCounter = 0;
let nextId = 0;

afterAll(async () => {
  for (const { sync, store } of stores) store.dispatch(sync.actions.disconnect());
  await closeSql();
});

function makeStore() {
  const { sync, store, recorded } = makeSyncTestStore({ WebSocket });
  const made = {
    sync,
    store,
    recorded,
    channel: (name: string) => sync.selectors.selectChannel(store.getState(), name),
    /** Recorded commands of one type for one channel. */
    commands: (type: string, name: string) =>
      recorded.filter((a) => a.type === `${sync.reducerPath}/${type}` && (a.payload as { channel?: string }).channel === name),
  };
  stores.push(made);
  return made;
}

function withSync(made: { sync: SyncMiddleware; store: TestStore['store'] }, children: ReactNode) {
  return (
    <Provider store={made.store}>
      <SyncProvider sync={made.sync}>{children}</SyncProvider>
    </Provider>
  );
}

function expectSerializable(...made: TestStore[]) {
  for (const { store, recorded } of made) {
    expect(findNonSerializableValue(store.getState())).toBe(false);
    for (const action of recorded) expect(findNonSerializableValue(action)).toBe(false);
  }
}

const room = () => `react-sync-${process.pid}-${++roomCounter}`;
const freshId = () => 900_000_000 + process.pid * 100 + ++nextId;
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const long = { timeout: 10_000 };

describe('useRealtime', () => {
  it('hands each inserted row to the latest handler in order, resubscribes when the binding changes, and leaves the channel on unmount', async () => {
    const a = makeStore();
    const name = room();
    const [roomA, roomB] = [`${name}-a`, `${name}-b`];
    const heard: Array<[string, RealtimePostgresChangesPayload]> = [];
    function Notes({ filterRoom, tag }: { filterRoom: string; tag: string }) {
      useRealtime(name, { event: 'INSERT', schema: 'public', table: 'sync_notes', filter: `room=eq.${filterRoom}` }, (payload) => heard.push([tag, payload]));
      return null;
    }
    const view = render(withSync(a, <Notes filterRoom={roomA} tag="first" />));
    await waitFor(() => expect(a.channel(name)?.changesLive).toBe(true), long);

    const ids = [freshId(), freshId()];
    await sql('insert into sync_notes (id, room, body, rank) select unnest($1::int4[]), $2, $3, 7', [ids, roomA, 'hello']);
    await waitFor(() => expect(heard).toHaveLength(2), long);
    expect(heard.map(([tag, payload]) => [tag, payload.new.id])).toEqual([['first', ids[0]], ['first', ids[1]]]);
    expect(heard[0]![1]).toMatchObject({ eventType: 'INSERT', schema: 'public', table: 'sync_notes', old: {}, new: { id: ids[0], room: roomA, body: 'hello', rank: 7 } });
    expect(typeof heard[0]![1].commit_timestamp).toBe('string');

    // A new handler (new closure every render anyway) is used without resubscribing.
    view.rerender(withSync(a, <Notes filterRoom={roomA} tag="second" />));
    const third = freshId();
    await sql('insert into sync_notes (id, room) values ($1, $2)', [third, roomA]);
    await waitFor(() => expect(heard).toHaveLength(3), long);
    expect(heard[2]![0]).toBe('second');
    expect(a.commands('subscribe', name)).toHaveLength(1);

    // A new filter resubscribes: the channel now hears room B only.
    view.rerender(withSync(a, <Notes filterRoom={roomB} tag="third" />));
    expect(a.commands('unsubscribe', name)).toHaveLength(1);
    expect(a.channel(name)?.config.postgresChanges?.[0]?.filter).toBe(`room=eq.${roomB}`);
    await waitFor(() => expect(a.channel(name)?.changesLive).toBe(true), long);
    const [inA, inB] = [freshId(), freshId()];
    await sql('insert into sync_notes (id, room) values ($1, $2), ($3, $4)', [inA, roomA, inB, roomB]);
    await waitFor(() => expect(heard).toHaveLength(4), long);
    expect(heard[3]![1].new).toMatchObject({ id: inB, room: roomB });

    view.unmount();
    expect(a.channel(name)).toBeUndefined();
    await sql('insert into sync_notes (id, room) values ($1, $2)', [freshId(), roomB]);
    await wait(300);
    expect(heard).toHaveLength(4);
    expectSerializable(a);
  });

  it("keeps its subscription while another component still holds the channel (StrictMode's double effects included)", async () => {
    const a = makeStore();
    const name = room();
    const binding = { event: '*' as const, schema: 'public', table: 'sync_notes', filter: `room=eq.${name}` };
    function Listener() {
      useRealtime(name, binding, () => undefined);
      return null;
    }
    const first = render(<StrictMode>{withSync(a, <Listener />)}</StrictMode>);
    const second = render(<StrictMode>{withSync(a, <Listener />)}</StrictMode>);
    await waitFor(() => expect(a.channel(name)?.status).toBe('joined'), long);
    expect(a.channel(name)?.subscribers).toBe(2);
    first.unmount();
    expect(a.channel(name)?.subscribers).toBe(1);
    second.unmount();
    expect(a.channel(name)).toBeUndefined();
  });

  it("a handler sharing a channel configured by another hook hears only its own binding's events", async () => {
    const a = makeStore();
    const name = room();
    const all: string[] = [];
    const inserts: string[] = [];
    function All() {
      useRealtime(name, { event: '*', schema: 'public', table: 'sync_notes', filter: `room=eq.${name}` }, (p) => all.push(p.eventType));
      return null;
    }
    function InsertsOnly() {
      useRealtime(name, { event: 'INSERT', schema: 'public', table: 'sync_notes', filter: `room=eq.${name}` }, (p) => inserts.push(p.eventType));
      return null;
    }
    const original = console.warn;
    console.warn = () => undefined; // the mismatch warning, pinned in the next test
    try {
      render(withSync(a, <><All /><InsertsOnly /></>));
    } finally {
      console.warn = original;
    }
    await waitFor(() => expect(a.channel(name)?.changesLive).toBe(true), long);
    const id = freshId();
    await sql('insert into sync_notes (id, room) values ($1, $2)', [id, name]);
    await sql('update sync_notes set rank = 1 where id = $1', [id]);
    await waitFor(() => expect(all).toEqual(['INSERT', 'UPDATE']), long);
    expect(inserts).toEqual(['INSERT']);
  });

  it('warns when a channel already has another presence key, not when hooks add other bindings', () => {
    const a = makeStore();
    const name = room();
    function Listener({ filter }: { filter: string }) {
      useRealtime(name, { schema: 'public', table: 'sync_notes', filter }, () => undefined);
      return null;
    }
    function Member({ who }: { who: string }) {
      usePresence(name, { key: who });
      return null;
    }
    const warnings: string[] = [];
    const original = console.warn;
    console.warn = (message: string) => warnings.push(message);
    try {
      const view = render(withSync(a, <><Listener filter="room=eq.x" /><Listener filter="room=eq.x" /><Listener filter="room=eq.y" /><Member who="p" /><Member who="q" /></>));
      expect(a.channel(name)?.config.postgresChanges?.map((b) => b.filter)).toEqual(['room=eq.x', 'room=eq.y']);
      expect(a.channel(name)?.config.presenceKey).toBe('p');
      view.unmount();
    } finally {
      console.warn = original;
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`usePresence: channel "${name}" is already subscribed with \\{"presenceKey":"p"\\}; this hook asked for \\{"presenceKey":"q"\\}.*ignored`));
  });
});

describe('useRealtime: hooks sharing a channel name', () => {
  type Heard = Array<[string, number]>;
  /** Renders one useRealtime per binding on channel `name`; `heard` gets [tag, new.id] per change. */
  function Hook({ name, tag, binding, heard }: { name: string; tag: string; binding: Parameters<typeof useRealtime>[1]; heard: Heard }) {
    useRealtime(name, binding, (payload) => heard.push([tag, (payload.new.id ?? payload.old.id) as number]));
    return null;
  }
  const byTag = (heard: Heard, tag: string) => heard.filter(([t]) => t === tag).map(([, id]) => id);
  const insertItem = (id: number, roomValue: string, tag: string) => sql('insert into rt_bindings_items (id, room, tag) values ($1, $2, $3)', [id, roomValue, tag]);

  it('each hook gets exactly the changes of its own table and filter (rows matching one, the other, both, neither)', async () => {
    const a = makeStore();
    const name = room();
    const [r, t] = [`${name}-r`, `${name}-t`];
    const heard: Heard = [];
    render(
      withSync(
        a,
        <>
          <Hook name={name} tag="room" heard={heard} binding={{ table: 'rt_bindings_items', filter: `room=eq.${r}` }} />
          <Hook name={name} tag="tag" heard={heard} binding={{ table: 'rt_bindings_items', filter: `tag=eq.${t}` }} />
          <Hook name={name} tag="notes" heard={heard} binding={{ event: 'INSERT', table: 'sync_notes', filter: `room=eq.${r}` }} />
        </>,
      ),
    );
    await waitFor(() => expect(a.channel(name)?.changesLive).toBe(true), long);
    // All three bindings reached the server in one join, and its reply's ids are mirrored.
    expect(a.channel(name)?.config.postgresChanges).toHaveLength(3);
    expect(a.channel(name)?.serverBindings.map((b) => [b.table, b.filter, typeof b.id, b.live])).toEqual([
      ['rt_bindings_items', `room=eq.${r}`, 'number', true],
      ['rt_bindings_items', `tag=eq.${t}`, 'number', true],
      ['sync_notes', `room=eq.${r}`, 'number', true],
    ]);
    expect(a.commands('subscribe', name)).toHaveLength(3);

    const [onlyRoom, onlyTag, both, neither, note] = [freshId(), freshId(), freshId(), freshId(), freshId()];
    await insertItem(onlyRoom, r, 'other');
    await insertItem(onlyTag, `${name}-other`, t);
    await insertItem(both, r, t);
    await insertItem(neither, `${name}-other`, 'other');
    await sql('insert into sync_notes (id, room) values ($1, $2)', [note, r]);
    await sql('update sync_notes set rank = 2 where id = $1', [note]); // an UPDATE: not for the INSERT-only hook
    await sql('update rt_bindings_items set tag = $2 where id = $1', [onlyRoom, 'still-other']); // an UPDATE still in room r
    await waitFor(() => expect(heard).toHaveLength(6), long);
    await act(() => wait(300)); // nothing more arrives
    expect(byTag(heard, 'room')).toEqual([onlyRoom, both, onlyRoom]);
    expect(byTag(heard, 'tag')).toEqual([onlyTag, both]);
    expect(byTag(heard, 'notes')).toEqual([note]);
    expect(heard).toHaveLength(6);
    expectSerializable(a);
  });

  it('unmounting one hook keeps the other working; a binding added after the join is live after a rejoin that loses none of the existing binding\'s changes', async () => {
    const a = makeStore();
    const name = room();
    const [r, t] = [`${name}-r`, `${name}-t`];
    const heard: Heard = [];
    const roomHook = <Hook key="room" name={name} tag="room" heard={heard} binding={{ table: 'rt_bindings_items', filter: `room=eq.${r}` }} />;
    const tagHook = <Hook key="tag" name={name} tag="tag" heard={heard} binding={{ table: 'rt_bindings_items', filter: `tag=eq.${t}` }} />;
    const view = render(withSync(a, <>{roomHook}</>));
    await waitFor(() => expect(a.channel(name)?.changesLive).toBe(true), long);
    const before = freshId();
    await insertItem(before, r, t); // matches both bindings, but the tag binding does not exist yet
    await waitFor(() => expect(byTag(heard, 'room')).toEqual([before]), long);
    // Matches only the binding to come: the rejoin resumes after `before`, so the server replays it,
    // but it happened before that hook subscribed.
    const early = freshId();
    await insertItem(early, `${name}-other`, t);

    // Mount the second hook while rows keep being written: the channel rejoins with both bindings.
    const joinsBefore = a.recorded.filter((x) => x.type === 'sync/channelChanged' && (x.payload as { status: string }).status === 'joining').length;
    const during: number[] = [];
    const writer = (async () => {
      for (let i = 0; i < 15; i += 1) {
        const id = freshId();
        during.push(id);
        await insertItem(id, r, 'other');
        await wait(10);
      }
    })();
    view.rerender(withSync(a, <>{roomHook}{tagHook}</>));
    expect(a.channel(name)?.config.postgresChanges).toHaveLength(2);
    await writer;
    await waitFor(() => expect(a.channel(name)?.serverBindings.map((b) => b.live)).toEqual([true, true]), long);
    const joinsAfter = a.recorded.filter((x) => x.type === 'sync/channelChanged' && (x.payload as { status: string }).status === 'joining').length;
    expect(joinsAfter).toBe(joinsBefore + 1); // one rejoin, not a new channel
    expect(a.commands('unsubscribe', name)).toHaveLength(0);
    await waitFor(() => expect(byTag(heard, 'room')).toEqual([before, ...during]), long);
    // The rows written before the tag hook mounted are not handed to it.
    expect(byTag(heard, 'tag')).toEqual([]);

    const tagged = freshId();
    await insertItem(tagged, `${name}-other`, t);
    await waitFor(() => expect(byTag(heard, 'tag')).toEqual([tagged]), long);

    // Unmount the room hook: its binding leaves the union; the tag hook still hears its rows.
    view.rerender(withSync(a, <>{tagHook}</>));
    expect(a.channel(name)?.subscribers).toBe(1);
    expect(a.channel(name)?.config.postgresChanges?.map((b) => b.filter)).toEqual([`tag=eq.${t}`]);
    expect(a.channel(name)?.bindingSubscribers).toEqual({ [JSON.stringify(['*', 'public', 'rt_bindings_items', `tag=eq.${t}`])]: 1 });
    const [afterRoom, afterTag, afterBoth] = [freshId(), freshId(), freshId()];
    await insertItem(afterRoom, r, 'other');
    await insertItem(afterTag, `${name}-other`, t);
    await insertItem(afterBoth, r, t);
    await waitFor(() => expect(byTag(heard, 'tag')).toEqual([tagged, afterTag, afterBoth]), long);
    await act(() => wait(200));
    expect(byTag(heard, 'room')).toEqual([before, ...during]);
    view.unmount();
    expect(a.channel(name)).toBeUndefined();
    expectSerializable(a);
  });
});

describe('hooks of different kinds sharing a channel name', () => {
  it('usePresence on a channel opened by useRealtime rejoins it with presence; the binding keeps its changes; useBroadcast options stay the first hook\'s', async () => {
    const a = makeStore();
    const b = makeStore();
    const name = room();
    const heard: number[] = [];
    function Feed() {
      useRealtime(name, { event: 'INSERT', table: 'rt_bindings_items', filter: `room=eq.${name}` }, (payload) => heard.push(payload.new.id as number));
      return null;
    }
    function Member({ who }: { who: string }) {
      const { onlineUsers } = usePresence(name, { key: who, state: { here: true } });
      return <p>{onlineUsers.join(',')}</p>;
    }
    function Shout({ self }: { self: boolean }) {
      useBroadcast(name, 'shout', () => undefined, { self });
      return null;
    }
    const view = render(withSync(a, <Feed />));
    await waitFor(() => expect(a.channel(name)?.changesLive).toBe(true), long);
    const first = freshId();
    await sql('insert into rt_bindings_items (id, room) values ($1, $2)', [first, name]);
    await waitFor(() => expect(heard).toEqual([first]), long);

    const warnings: string[] = [];
    const original = console.warn;
    console.warn = (message: string) => warnings.push(message);
    try {
      view.rerender(withSync(a, <><Feed /><Member who="alice" /><Shout self={false} /><Shout self /></>));
    } finally {
      console.warn = original;
    }
    expect(a.channel(name)?.config).toMatchObject({ presenceKey: 'alice', broadcast: { self: false, ack: false } });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/useBroadcast: .*"self":false.*"self":true.*ignored/);
    // Alice's rejoin waits for the server to authorize its postgres_changes role; bob joins after it.
    await waitFor(() => expect(view.container.textContent).toBe('alice'), long);
    const other = render(withSync(b, <Member who="bob" />));
    await waitFor(() => expect(other.container.textContent).toBe('alice,bob'), long);
    await waitFor(() => expect(view.container.textContent).toBe('alice,bob'), long);
    await waitFor(() => expect(a.channel(name)?.changesLive).toBe(true), long);
    const second = freshId();
    await sql('insert into rt_bindings_items (id, room) values ($1, $2)', [second, name]);
    await waitFor(() => expect(heard).toEqual([first, second]), long);
    expectSerializable(a, b);
  });
});

describe('usePresence', () => {
  it("shows the other store's users and count, re-tracks a changed state, and the other side sees the leave on unmount", async () => {
    const a = makeStore();
    const b = makeStore();
    const name = room();
    function Member({ who, state }: { who: string; state: Record<string, unknown> }) {
      const { presenceState, onlineUsers, onlineCount } = usePresence(name, { key: who, state });
      const metas = onlineUsers.map((key) => `${key}:${String(presenceState[key]?.[0]?.status)}`).join(',');
      return <p>{`${onlineCount} ${metas}`}</p>;
    }
    const alice = render(withSync(a, <Member who="alice" state={{ status: 'online' }} />));
    const bob = render(withSync(b, <Member who="bob" state={{ status: 'here' }} />));
    const bobSees = () => bob.container.textContent;
    await waitFor(() => expect(bobSees()).toBe('2 alice:online,bob:here'), long);
    await waitFor(() => expect(alice.container.textContent).toBe('2 alice:online,bob:here'), long);
    expect(a.channel(name)?.config.presenceKey).toBe('alice');

    // An equal state in a new object is not re-tracked; a different one is.
    const tracks = () => a.commands('track', name).length;
    expect(tracks()).toBe(1);
    alice.rerender(withSync(a, <Member who="alice" state={{ status: 'online' }} />));
    await act(() => wait(50));
    expect(tracks()).toBe(1);
    alice.rerender(withSync(a, <Member who="alice" state={{ status: 'away' }} />));
    await waitFor(() => expect(bobSees()).toBe('2 alice:away,bob:here'), long);
    expect(tracks()).toBe(2);
    expect(a.channel(name)?.tracked).toEqual({ status: 'away' });

    alice.unmount();
    expect(a.commands('untrack', name)).toHaveLength(1);
    expect(a.channel(name)).toBeUndefined();
    await waitFor(() => expect(bobSees()).toBe('1 bob:here'), long);
    expectSerializable(a, b);
  });

  it('after a rejoin the middleware alone tracks again: the hook dispatches no second track, and the other side still sees the user', async () => {
    const a = makeStore();
    const b = makeStore();
    const name = room();
    function Member({ who, state }: { who: string; state: Record<string, unknown> }) {
      const { onlineUsers } = usePresence(name, { key: who, state });
      return <p>{onlineUsers.join(',')}</p>;
    }
    render(withSync(a, <Member who="alice" state={{ status: 'online' }} />));
    const bob = render(withSync(b, <Member who="bob" state={{ status: 'here' }} />));
    await waitFor(() => expect(bob.container.textContent).toBe('alice,bob'), long);
    const joinsBefore = a.recorded.filter((action) => action.type === `${a.sync.reducerPath}/channelChanged` && (action.payload as { status?: string }).status === 'joined').length;
    // A binding added to the channel makes the middleware rejoin it; the server drops alice's old presence.
    act(() => {
      a.store.dispatch(a.sync.actions.subscribe({ channel: name, config: { postgresChanges: [{ event: 'INSERT', schema: 'public', table: 'sync_notes', filter: `room=eq.${name}` }] } }));
    });
    await waitFor(() => expect(a.recorded.filter((action) => action.type === `${a.sync.reducerPath}/channelChanged` && (action.payload as { status?: string }).status === 'joined').length).toBe(joinsBefore + 1), long);
    // Alice left with the old join and came back (after bob, in the order presence keeps keys).
    await waitFor(() => expect(bob.container.textContent).toBe('bob,alice'), long);
    expect(a.commands('track', name)).toHaveLength(1);
    expectSerializable(a, b);
  });

  it('without a state tracks nothing until track() is called, then under a key the server chose', async () => {
    const a = makeStore();
    const b = makeStore();
    const name = room();
    let tracker: ReturnType<typeof usePresence> | undefined;
    function Lurker() {
      tracker = usePresence(name);
      return <p>{tracker.onlineCount}</p>;
    }
    function Watcher() {
      const { onlineUsers } = usePresence(name, { key: 'watcher', state: { watching: true } });
      return <p>{onlineUsers.join(',')}</p>;
    }
    render(withSync(a, <Lurker />));
    const watcher = render(withSync(b, <Watcher />));
    await waitFor(() => expect(a.channel(name)?.status).toBe('joined'), long);
    await waitFor(() => expect(watcher.container.textContent).toBe('watcher'), long);
    expect(a.commands('track', name)).toHaveLength(0);
    const reply = await act(() => tracker!.track({ manual: true }));
    expect(reply.status).toBe('ok');
    await waitFor(() => expect(watcher.container.textContent?.split(',')).toHaveLength(2), long);
  });
});

describe('useBroadcast', () => {
  it("delivers a send to the other store's handler and not back to the sender", async () => {
    const a = makeStore();
    const b = makeStore();
    const name = room();
    const heardByA: unknown[] = [];
    const heardByB: unknown[] = [];
    let sender: UseBroadcastResult | undefined;
    function Sender() {
      sender = useBroadcast(name, 'cursor', (payload) => heardByA.push(payload), { ack: true });
      return null;
    }
    function Receiver() {
      useBroadcast(name, 'cursor', (payload) => heardByB.push(payload));
      useBroadcast(name, 'other', () => heardByB.push('wrong event'));
      return null;
    }
    render(withSync(a, <Sender />));
    render(withSync(b, <Receiver />));
    await waitFor(() => expect(a.channel(name)?.status).toBe('joined'), long);
    await waitFor(() => expect(b.channel(name)?.status).toBe('joined'), long);
    let reply: PushResult | undefined;
    await act(async () => {
      reply = await sender!.send({ x: 1 });
    });
    expect(reply!.status).toBe('ok');
    await waitFor(() => expect(heardByB).toEqual([{ x: 1 }]), long);
    await wait(100);
    expect(heardByA).toEqual([]);
    expect(heardByB).toEqual([{ x: 1 }]);
    expectSerializable(a, b);
  });
});

describe('useSyncStatus', () => {
  it('follows the connection from idle to open and the environment going offline', async () => {
    const a = makeStore();
    const hooks = createSyncHooks(a.sync);
    function Status() {
      const { isOnline, status, lastSyncTime } = hooks.useSyncStatus();
      return <p>{`${status} ${isOnline} ${lastSyncTime === null ? 'never' : 'synced'}`}</p>;
    }
    const view = render(<Provider store={a.store}><Status /></Provider>);
    expect(view.container.textContent).toBe('idle false never');
    act(() => {
      a.store.dispatch(a.sync.actions.connect());
    });
    await waitFor(() => expect(view.container.textContent).toBe('open true never'), long);
    act(() => {
      a.store.dispatch(a.sync.actions.environmentChanged({ online: false }));
    });
    expect(view.container.textContent).toBe('open false never');
  });
});

describe('errors', () => {
  class Catch extends Component<{ children: ReactNode }, { error: Error | null }> {
    override state = { error: null as Error | null };
    static getDerivedStateFromError(error: Error) {
      return { error };
    }
    override render() {
      return this.state.error ? <p>{this.state.error.message}</p> : this.props.children;
    }
  }
  function Status() {
    useSyncStatus();
    return <p>rendered</p>;
  }
  const quietly = <T,>(run: () => T): T => {
    // React logs caught render errors; the boundary's output is what is asserted.
    const original = console.error;
    console.error = () => undefined;
    try {
      return run();
    } finally {
      console.error = original;
    }
  };

  it('a context hook without <SyncProvider> throws an error naming the hook and the provider', () => {
    const a = makeStore();
    const view = quietly(() => render(<Provider store={a.store}><Catch><Status /></Catch></Provider>));
    expect(view.container.textContent).toBe(
      'useSyncStatus: no sync middleware in context: render this component inside <SyncProvider sync={sync}>, or use the hooks returned by createSyncHooks(sync)',
    );
  });

  it('a store without the sync mirror, a bad instance and a bad channel name are named', () => {
    const a = makeStore();
    const bare = configureStore({ reducer: { other: () => 0 } });
    const view = quietly(() => render(<Provider store={bare}><SyncProvider sync={a.sync}><Catch><Status /></Catch></SyncProvider></Provider>));
    expect(view.container.textContent).toMatch(/^useSyncStatus: the react-redux store has no sync mirror at "sync"/);
    expect(() => createSyncHooks({} as never)).toThrow('createSyncHooks: expected the object createSyncMiddleware returns, got an object');
    function Unnamed() {
      useBroadcast('', 'x');
      return null;
    }
    const unnamed = quietly(() => render(withSync(a, <Catch><Unnamed /></Catch>)));
    expect(unnamed.container.textContent).toBe('useBroadcast: the channel name must be a non-empty string, got ""');
  });
});

/**
 * Client benchmark: 20 live list entries of 10,000 rows each on one table, then 10,000 mixed change
 * events (50 % updates, 25 % inserts, 25 % deletes). Compares, in one run, events applied per second
 * and heap growth for:
 *   - ours: the sync middleware patching live entries (frames arrive in bursts of 100 per tick);
 *   - (a) one `updateQueryData` per event that maps over the array (the server-state-sync guide's pattern),
 *     on the one entry the row belongs to (its most favourable form), sorting to stay correct,
 *     measured on the first EVENTS_A events (it is too slow for all of them) and checked on them;
 *   - (b) invalidate-and-refetch per event (measured on the first EVENTS_B events; 20 refetches each).
 * The network is simulated on purpose (this measures the client): PostgREST answers through an
 * in-memory `fetchFn` evaluating the request against the table, and the realtime server is a fake
 * WebSocket speaking the protocol. Stores run without RTK's dev-only checks, as in production.
 * After applying, every live entry is checked against the table (a wrong result fails the bench).
 *
 *   npm run bench:client      (env: ROWS_PER_ENTRY=10000 ENTRIES=20 EVENTS=10000 EVENTS_B=50)
 */
import { configureStore } from '@reduxjs/toolkit';
import { createPostgrestApi } from '../lib/api/index.js';
import { compileRequest, from } from '../lib/postgrest/index.js';
import { createSyncMiddleware } from '../lib/sync/index.js';
import { FakeRealtime, tick } from './support/fakeRealtime.js';
import { machine, run, writeResult } from './support/results.js';
import { groupedTable, type Row } from './support/table.js';

const ROWS_PER_ENTRY = Number(process.env.ROWS_PER_ENTRY ?? 10_000);
const ENTRIES = Number(process.env.ENTRIES ?? 20);
const EVENTS = Number(process.env.EVENTS ?? 10_000);
const EVENTS_B = Number(process.env.EVENTS_B ?? 20);
const EVENTS_A = Number(process.env.EVENTS_A ?? 1000);
const BURST = 100;
const COLUMNS = [
  { name: 'id', type: 'int4' },
  { name: 'grp', type: 'int4' },
  { name: 'score', type: 'int4' },
  { name: 'title', type: 'text' },
];

type Event = { type: 'INSERT' | 'UPDATE' | 'DELETE'; row: Row; old: { id: number } };

// ---------- a deterministic table and event list ----------
let seed = 42;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
const seeded = groupedTable(ENTRIES, ROWS_PER_ENTRY, random);
const table = seeded.table;
let nextId = seeded.nextId;
const initial = new Map(table);
const events: Event[] = [];
{
  const live = new Map(table);
  const ids = [...live.keys()];
  for (let i = 0; i < EVENTS; i++) {
    const dice = random();
    if (dice < 0.25) {
      const id = nextId++;
      const row = { id, grp: Math.floor(random() * ENTRIES), score: Math.floor(random() * 1_000_000), title: `new ${id}` };
      live.set(id, row);
      ids.push(id);
      events.push({ type: 'INSERT', row, old: { id } });
    } else {
      let id = ids[Math.floor(random() * ids.length)]!;
      while (!live.has(id)) id = ids[Math.floor(random() * ids.length)]!;
      if (dice < 0.5) {
        events.push({ type: 'DELETE', row: live.get(id)!, old: { id } });
        live.delete(id);
      } else {
        const row = { ...live.get(id)!, score: Math.floor(random() * 1_000_000) };
        live.set(id, row);
        events.push({ type: 'UPDATE', row, old: { id } });
      }
    }
  }
  for (const [id, row] of live) table.set(id, row);
  for (const id of [...table.keys()]) if (!live.has(id)) table.delete(id);
}

const requests = Array.from({ length: ENTRIES }, (_, group) => from('items').select('id,grp,score,title').eq('grp', group).order('score').order('id'));

/** PostgREST over a snapshot of rows: the request evaluated by the same rules PostgREST follows. */
function fakeFetch(rows: () => Iterable<Row>, counter: { requests: number }): typeof fetch {
  return (async (input: string | URL) => {
    counter.requests++;
    const url = new URL(String(input));
    const group = Number(url.searchParams.get('grp')?.slice(3));
    const query = compileRequest(requests[group]!.toRequest(), Object.fromEntries(COLUMNS.map((column) => [column.name, column.type])));
    const result = [...rows()].filter(query.matches).sort((a, b) => query.compare(a, b) || a.id - b.id).map(query.project);
    return new Response(JSON.stringify(result), { status: 200, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
}

const gc = () => (globalThis as { gc?: () => void }).gc?.();
const heapMb = () => {
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};

function expectedRows(group: number): Row[] {
  return [...table.values()].filter((row) => row.grp === group).sort((a, b) => a.score - b.score || a.id - b.id);
}

function check(name: string, dataOf: (group: number) => unknown): void {
  for (let group = 0; group < ENTRIES; group++) {
    if (JSON.stringify(dataOf(group)) !== JSON.stringify(expectedRows(group))) throw new Error(`${name}: live entry ${group} differs from the table after the events`);
  }
}

function makeStore(withSync: boolean, rows: () => Iterable<Row>) {
  const counter = { requests: 0 };
  const api = createPostgrestApi({ url: 'http://postgrest.invalid', fetchFn: fakeFetch(rows, counter) });
  const sync = createSyncMiddleware({ api, url: 'ws://realtime.invalid/realtime/v1', WebSocket: FakeRealtime as never, vsn: '1.0.0', heartbeatIntervalMs: 60_000, environment: false, onWarning: (message) => console.error(message) });
  const store = configureStore({
    reducer: { [api.reducerPath]: api.reducer, [sync.reducerPath]: sync.reducer },
    middleware: (getDefault) => {
      const base = getDefault({ serializableCheck: false, immutableCheck: false }).concat(api.middleware);
      return withSync ? base.concat(sync.middleware) : base;
    },
  });
  const dataOf = (group: number) => (api.endpoints.live.select(requests[group]!.toRequest() as never)(store.getState() as never) as { data?: unknown }).data;
  return { api, sync, store, counter, dataOf };
}

async function loadEntries(made: ReturnType<typeof makeStore>): Promise<void> {
  const started = requests.map((request) => made.store.dispatch(made.api.endpoints.live.initiate(request as never)));
  await Promise.all(started.map((promise) => promise as unknown as Promise<unknown>));
}

async function runOurs() {
  const snapshot = () => initial.values();
  const made = makeStore(true, snapshot);
  await loadEntries(made);
  // The channel is live only after the first fetches started, so they are refetched once; wait for that.
  for (let i = 0; i < 200 && made.sync.selectors.selectChannel(made.store.getState(), 'live:public.items')?.changesLive !== true; i++) await tick();
  for (let i = 0; i < 50; i++) await tick();
  while (Object.values((made.store.getState() as { postgrestApi: { queries: Record<string, { status: string }> } }).postgrestApi.queries).some((query) => query.status === 'pending')) await tick();
  const before = heapMb();
  const requestsBefore = made.counter.requests;
  const server = FakeRealtime.last!;
  const start = performance.now();
  for (let i = 0; i < events.length; i += BURST) {
    for (const event of events.slice(i, i + BURST)) server.push({ table: 'items', columns: COLUMNS, ...event });
    await tick();
  }
  await tick();
  const ms = performance.now() - start;
  const heap = heapMb() - before;
  check('ours', made.dataOf);
  made.store.dispatch(made.sync.actions.disconnect());
  return { eventsPerSecond: Math.round((events.length / ms) * 1000), ms: Math.round(ms), heapGrowthMb: round(heap), refetchRequests: made.counter.requests - requestsBefore };
}

async function runUpdatePerEvent() {
  const made = makeStore(false, () => initial.values());
  await loadEntries(made);
  const before = heapMb();
  const start = performance.now();
  const measured = events.slice(0, EVENTS_A);
  for (const [index, event] of measured.entries()) {
    // The guide's pattern, at its most favourable: one updateQueryData per event, on the one entry
    // the row belongs to (its group), mapping over the array (and sorting, to stay correct).
    const group = event.row.grp;
    const request = requests[group]!.toRequest() as never;
    made.store.dispatch(
      made.api.util.updateQueryData('live', request, (draft) => {
        const rows = draft as Row[];
        if (event.type === 'DELETE') return rows.filter((row) => row.id !== event.old.id);
        if (event.type === 'INSERT') return [...rows, event.row].sort((a, b) => a.score - b.score || a.id - b.id);
        return rows.map((row) => (row.id === event.row.id ? event.row : row)).sort((a, b) => a.score - b.score || a.id - b.id);
      }) as never,
    );
    if (index % 100 === 99) await tick();
  }
  const ms = performance.now() - start;
  const heap = heapMb() - before;
  return { eventsMeasured: measured.length, eventsPerSecond: round((measured.length / ms) * 1000), ms: Math.round(ms), heapGrowthMb: round(heap) };
}

async function runRefetchPerEvent() {
  // Only the first EVENTS_B events: each one refetches every entry (20 × 10,000 rows).
  const live = new Map(initial);
  const made = makeStore(false, () => live.values());
  await loadEntries(made);
  const before = heapMb();
  const requestsBefore = made.counter.requests;
  const start = performance.now();
  for (const event of events.slice(0, EVENTS_B)) {
    if (event.type === 'DELETE') live.delete(event.old.id);
    else live.set(event.row.id, event.row);
    made.store.dispatch(made.api.util.invalidateTags([{ type: 'items', id: 'LIST' }]));
    await tick();
    while (Object.values((made.store.getState() as { postgrestApi: { queries: Record<string, { status: string }> } }).postgrestApi.queries).some((query) => query.status === 'pending')) await tick();
  }
  const ms = performance.now() - start;
  const heap = heapMb() - before;
  return { eventsMeasured: EVENTS_B, eventsPerSecond: round((EVENTS_B / ms) * 1000), ms: Math.round(ms), heapGrowthMb: round(heap), refetchRequests: made.counter.requests - requestsBefore };
}

const round = (value: number) => Math.round(value * 10) / 10;

async function main(): Promise<void> {
  const ours = await runOurs();
  console.error(`[bench:client] ours: ${JSON.stringify(ours)}`);
  const updatePerEvent = await runUpdatePerEvent();
  console.error(`[bench:client] updateQueryData per event: ${JSON.stringify(updatePerEvent)}`);
  const refetchPerEvent = await runRefetchPerEvent();
  const result = {
    benchmark: 'client',
    date: new Date().toISOString(),
    machine: machine(),
    setup: {
      entries: ENTRIES,
      rowsPerEntry: ROWS_PER_ENTRY,
      events: EVENTS,
      mix: '50% UPDATE (score changes, so rows move), 25% INSERT, 25% DELETE, random groups',
      entryRequest: "from('items').select('id,grp,score,title').eq('grp', g).order('score').order('id')",
      delivery: `bursts of ${BURST} change frames per event-loop turn through a fake WebSocket (vsn 1.0.0); PostgREST simulated by an in-memory fetchFn`,
      store: 'configureStore without RTK dev checks (serializableCheck and immutableCheck off), as in production',
      heap: 'heapUsed growth after GC, before vs after the events (entries loaded before)',
    },
    ours,
    updateQueryDataPerEvent: updatePerEvent,
    invalidateAndRefetchPerEvent: refetchPerEvent,
    ratios: {
      oursVsUpdateQueryDataPerEvent: round(ours.eventsPerSecond / updatePerEvent.eventsPerSecond),
      oursVsRefetchPerEvent: round(ours.eventsPerSecond / refetchPerEvent.eventsPerSecond),
    },
    targets: { vsUpdateQueryDataPerEvent: 30, refetchRequestsForEvaluableEntries: 0 },
  };
  writeResult('client', result);
}

run(main);


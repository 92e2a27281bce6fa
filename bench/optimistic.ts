/**
 * Optimistic writes benchmark, on 20 live entries of 10,000 rows each (one table, `eq('grp', g)`
 * ordered by score): how long an optimistic write takes from `dispatch` until the selector shows it
 * (it is synchronous: the time `dispatch` takes), for updates that move a row and for inserts; and
 * the rebase cost: a burst of server changes landing under 100 pending writes (each change's entry
 * shows server state with the writes re-applied), per change, against the same burst with none.
 *
 * The network is simulated (this measures the client): PostgREST is an in-memory fetchFn over the
 * table (writes answer with the written rows, or are held for the rebase part) and the realtime
 * server is a fake WebSocket. Stores run without RTK's dev-only checks, as in production. Every
 * measured write is checked in the selector, and every entry against the table at the end.
 *
 *   npm run bench:optimistic      (env: ROWS_PER_ENTRY=10000 ENTRIES=20 WRITES=300 PENDING=100 BURST_CHANGES=1000)
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
const WRITES = Number(process.env.WRITES ?? 300);
const PENDING = Number(process.env.PENDING ?? 100);
const BURST_CHANGES = Number(process.env.BURST_CHANGES ?? 1000);
const COLUMNS = [
  { name: 'id', type: 'int4' },
  { name: 'grp', type: 'int4' },
  { name: 'score', type: 'int4' },
  { name: 'title', type: 'text' },
];
const TYPES = Object.fromEntries(COLUMNS.map((column) => [column.name, column.type]));


let seed = 7;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
const requests = Array.from({ length: ENTRIES }, (_, group) => from('items').select('id,grp,score,title').eq('grp', group).order('score').order('id'));
const round = (value: number) => Math.round(value * 1000) / 1000;
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

/** A fresh table and a store over it, its entries loaded and live. `hold`: writes are not answered until released. */
async function makeStore(hold: boolean) {
  const seeded = groupedTable(ENTRIES, ROWS_PER_ENTRY, random);
  const table = seeded.table;
  let nextId = seeded.nextId;
  const held: Array<() => void> = [];
  const respond = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const fetchFn = (async (input: string | URL, init?: { method?: string; body?: string }) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    if (method === 'GET') {
      const group = Number(url.searchParams.get('grp')?.slice(3));
      const query = compileRequest(requests[group]!.toRequest(), TYPES);
      return respond([...table.values()].filter(query.matches).sort((a, b) => query.compare(a, b) || a.id - b.id).map(query.project));
    }
    let rows: Row[];
    if (method === 'POST') {
      const body = JSON.parse(init!.body!) as Omit<Row, 'id'>;
      const row: Row = { id: nextId++, grp: body.grp, score: body.score, title: body.title }; // columns in table order, as PostgREST answers
      table.set(row.id, row);
      rows = [row];
    } else {
      const id = Number(url.searchParams.get('id')?.slice(3));
      const row = { ...table.get(id)!, ...(JSON.parse(init!.body!) as Partial<Row>) };
      table.set(id, row);
      rows = [row];
    }
    if (!hold) return respond(rows, method === 'POST' ? 201 : 200);
    return new Promise<Response>((resolve) => held.push(() => resolve(respond(rows, method === 'POST' ? 201 : 200))));
  }) as typeof fetch;
  const api = createPostgrestApi({ url: 'http://postgrest.invalid', fetchFn });
  const sync = createSyncMiddleware({ api, url: 'ws://realtime.invalid/realtime/v1', WebSocket: FakeRealtime as never, vsn: '1.0.0', heartbeatIntervalMs: 60_000, environment: false, onWarning: (message) => console.error(message) });
  const store = configureStore({
    reducer: { [api.reducerPath]: api.reducer, [sync.reducerPath]: sync.reducer },
    middleware: (getDefault) => getDefault({ serializableCheck: false, immutableCheck: false }).concat(api.middleware, sync.middleware),
  });
  for (const request of requests) store.dispatch(api.endpoints.live.initiate(request as never));
  for (let i = 0; i < 400 && sync.selectors.selectChannel(store.getState(), 'live:public.items')?.changesLive !== true; i++) await tick();
  const queries = () => Object.values((store.getState() as { postgrestApi: { queries: Record<string, { status: string }> } }).postgrestApi.queries);
  for (let i = 0; i < 50; i++) await tick();
  while (queries().some((query) => query.status === 'pending')) await tick();
  const dataOf = (group: number) => api.endpoints.live.select(requests[group]!.toRequest() as never)(store.getState() as never).data as Row[];
  return { api, sync, store, table, held, dataOf, server: FakeRealtime.last!, nextId: () => nextId };
}

/** Every entry equals the table (the layer gone, the server rows in). */
function check(made: Awaited<ReturnType<typeof makeStore>>, name: string): void {
  for (let group = 0; group < ENTRIES; group++) {
    const expected = [...made.table.values()].filter((row) => row.grp === group).sort((a, b) => a.score - b.score || a.id - b.id);
    if (JSON.stringify(made.dataOf(group)) !== JSON.stringify(expected)) {
      throw new Error(`${name}: entry ${group} differs from the table`);
    }
  }
}

/** Dispatch → visible, for updates that move a row and for inserts; each committed before the next. */
async function writeToVisible() {
  const made = await makeStore(false);
  const update: number[] = [];
  const insert: number[] = [];
  for (let i = 0; i < WRITES; i++) {
    const group = Math.floor(random() * ENTRIES);
    const rows = made.dataOf(group);
    if (i % 2 === 0) {
      const target = rows[Math.floor(random() * rows.length)]!;
      const score = Math.floor(random() * 1_000_000);
      const started = performance.now();
      const write = made.store.dispatch(made.api.endpoints.write.initiate(from('items').update({ score }).eq('id', target.id).optimistic() as never));
      const shown = made.dataOf(group).some((row) => row.id === target.id && row.score === score);
      update.push(performance.now() - started);
      if (!shown) throw new Error('an optimistic update was not visible after dispatch');
      await (write as unknown as { unwrap(): Promise<unknown> }).unwrap();
    } else {
      const title = `optimistic ${i}`;
      const started = performance.now();
      const write = made.store.dispatch(made.api.endpoints.write.initiate(from('items').insert({ grp: group, score: Math.floor(random() * 1_000_000), title }).optimistic() as never));
      const shown = made.dataOf(group).some((row) => row.title === title);
      insert.push(performance.now() - started);
      if (!shown) throw new Error('an optimistic insert was not visible after dispatch');
      await (write as unknown as { unwrap(): Promise<unknown> }).unwrap();
    }
  }
  await tick();
  check(made, 'write → visible');
  made.store.dispatch(made.sync.actions.disconnect());
  const stats = (values: number[]) => ({ writes: values.length, p50Ms: round(percentile(values, 50)), p99Ms: round(percentile(values, 99)), maxMs: round(Math.max(...values)) });
  return { update: stats(update), insert: stats(insert) };
}

/** A burst of server changes (updates that move rows) with `pending` writes held, per change. */
async function rebase(pending: number) {
  const made = await makeStore(true);
  const writes: Array<{ unwrap(): Promise<unknown> }> = [];
  for (let i = 0; i < pending; i++) {
    const group = Math.floor(random() * ENTRIES);
    const rows = made.dataOf(group);
    const target = rows[Math.floor(random() * rows.length)]!;
    writes.push(made.store.dispatch(made.api.endpoints.write.initiate(from('items').update({ score: Math.floor(random() * 1_000_000) }).eq('id', target.id).optimistic() as never)) as never);
  }
  const pendingNow = made.sync.selectors.selectWrites(made.store.getState()).filter((write) => write.status === 'pending').length;
  if (pendingNow !== pending) throw new Error(`expected ${pending} pending writes, found ${pendingNow}`);
  // Server changes by someone else: rows of every group change score (they move).
  const ids = [...made.table.keys()];
  const changes: Row[] = [];
  for (let i = 0; i < BURST_CHANGES; i++) {
    const id = ids[Math.floor(random() * ids.length)]!;
    const row = { ...made.table.get(id)!, score: Math.floor(random() * 1_000_000) };
    made.table.set(id, row);
    changes.push(row);
  }
  const started = performance.now();
  for (let i = 0; i < changes.length; i += 100) {
    for (const row of changes.slice(i, i + 100)) made.server.push({ table: 'items', columns: COLUMNS, type: 'UPDATE', row, old: { id: row.id } });
    await tick();
  }
  await tick();
  const ms = performance.now() - started;
  // Release the writes (the outbox sends them one at a time, each after the answer to the one
  // before): every entry ends equal to the table.
  let settled = false;
  const all = Promise.all(writes.map((write) => write.unwrap())).then(() => (settled = true));
  while (!settled) {
    for (const release of made.held.splice(0)) release();
    await tick();
  }
  await all;
  for (let i = 0; i < 5; i++) await tick();
  check(made, `rebase with ${pending} pending`);
  made.store.dispatch(made.sync.actions.disconnect());
  return { pendingWrites: pending, changes: BURST_CHANGES, ms: Math.round(ms), msPerChange: round(ms / BURST_CHANGES) };
}

async function main(): Promise<void> {
  const visible = await writeToVisible();
  console.error(`[bench:optimistic] write → visible: ${JSON.stringify(visible)}`);
  const without = await rebase(0);
  const withPending = await rebase(PENDING);
  console.error(`[bench:optimistic] rebase: none ${JSON.stringify(without)}, ${PENDING} pending ${JSON.stringify(withPending)}`);
  const result = {
    benchmark: 'optimistic',
    date: new Date().toISOString(),
    machine: machine(),
    setup: {
      entries: ENTRIES,
      rowsPerEntry: ROWS_PER_ENTRY,
      entryRequest: "from('items').select('id,grp,score,title').eq('grp', g).order('score').order('id'), live",
      writes: `${WRITES} optimistic writes, alternately an update of a random row's score (it moves) and an insert into a random group; each answered (in memory) and committed before the next`,
      writeToVisible: 'performance.now() around dispatch(initiate(...)); the selector is checked to show the write right after',
      rebase: `${BURST_CHANGES} server changes (score updates of random rows, bursts of 100 per event-loop turn) with 0 and with ${PENDING} pending optimistic updates held`,
      store: 'configureStore without RTK dev checks, as in production',
    },
    writeToVisible: visible,
    rebase: { withoutPendingWrites: without, withPendingWrites: withPending, ratio: round(withPending.msPerChange / Math.max(without.msPerChange, 0.001)) },
    targets: { writeToVisibleP99Ms: 1 },
  };
  writeResult('optimistic', result);
}

run(main);

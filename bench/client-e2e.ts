/**
 * End-to-end client benchmark: the same kind of workload as bench/client.ts, but through the REAL
 * stack (startStack: PostgreSQL with wal_level logical, PostgREST 12 and our realtime server) instead
 * of a fake socket and an in-memory PostgREST. A Node store (createPostgrestApi + createSyncMiddleware,
 * `ws` as WebSocket, no RTK dev-only checks) holds ENTRIES live entries on one table; a writer then
 * issues EVENTS mixed changes (50 % updates of `score`, 25 % inserts, 25 % deletes, random groups)
 * through SQL from WRITERS connections, TX_SIZE changes per transaction, each transaction one round
 * trip, at full speed (statements in key order, so concurrent writers cannot deadlock). The stack
 * runs in a child process (so the realtime server has its own event loop, as in production); the
 * store and the writers share this one. Everything shares the machine's cores.
 *
 * Entries (ENTRIES=20 by default, entry i on group i, shapes in the proportions SHAPE_MIX=full:range:topN):
 *   - full:  from('items').select('*').eq('grp', g).order('score').order('id')               (every row of the group)
 *   - range: from('items').select('*').eq('grp', g).gte('score', 500000).order('score', desc).order('id')
 *            (rows move in and out as their score changes)
 *   - top-N: from('items').select('*').eq('grp', g).order('score').order('id').limit(TOP_N)
 *            (patched, but refetched when a row leaves a full window: refetches are expected there)
 *
 * Measured:
 *   - convergence: time from the first write until every live entry deep-equals a fresh PostgREST
 *     query of the same request (checked once the channel's stream position reached the writer's
 *     last transaction and no live fetch is pending; the cache is snapshotted, the fresh queries run,
 *     and the snapshot counts only if the cache did not change meanwhile). Fails after CONVERGE_TIMEOUT_MS;
 *   - end-to-end events/s = EVENTS / convergence time; the writer's own rate alongside;
 *   - refetch requests the live entries made during the events (a wrapped fetchFn), per entry shape;
 *   - change-to-cache latency (p50/p90/p99/max): from sending a change's transaction to the first
 *     store notification whose cache reflects it, for changes to the full entries (every row of the
 *     group is in them, so presence and a per-row version in `title` decide it; every SAMPLE-th change);
 *   - heap growth (heapUsed after GC, entries loaded before vs converged after);
 *   - CPU seconds per process (this one, the realtime server, PostgreSQL, PostgREST) until convergence;
 *   - baseline in the same run: a store without the sync middleware whose entries are invalidated
 *     (tag `{ type: 'items', id: 'LIST' }`) and refetched after each change, over EVENTS_B changes.
 *
 *   npm run bench:client:e2e   (env: GROUPS=20 ROWS_PER_GROUP=4000 ENTRIES=20 EVENTS=5000 TX_SIZE=5 WRITERS=4
 *                               TOP_N=2000 SAMPLE=1 EVENTS_B=50 CONVERGE_TIMEOUT_MS=60000 SHAPE_MIX=14:3:3
 *                               PROFILE_DIR=dir for a CPU profile of the events phase)
 */
import { configureStore } from '@reduxjs/toolkit';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { WebSocket } from 'ws';
import { createPostgrestApi } from '../lib/api/index.js';
import { postgrestBaseQuery } from '../lib/postgrest/http/baseQuery.js';
import { from } from '../lib/postgrest/index.js';
import type { PostgrestRequest } from '../lib/postgrest/request/types.js';
import { startStack } from '../lib/server/index.js';
import { createSyncMiddleware } from '../lib/sync/index.js';

const GROUPS = Number(process.env.GROUPS ?? 20);
const ROWS_PER_GROUP = Number(process.env.ROWS_PER_GROUP ?? 4000);
const ENTRIES = Number(process.env.ENTRIES ?? 20);
const EVENTS = Number(process.env.EVENTS ?? 5000);
const TX_SIZE = Number(process.env.TX_SIZE ?? 5);
const WRITERS = Number(process.env.WRITERS ?? 4);
const TOP_N = Number(process.env.TOP_N ?? 2000);
const SAMPLE = Math.max(1, Number(process.env.SAMPLE ?? 1));
const EVENTS_B = Number(process.env.EVENTS_B ?? 50);
const CONVERGE_TIMEOUT_MS = Number(process.env.CONVERGE_TIMEOUT_MS ?? 60_000);
const N_ROWS = GROUPS * ROWS_PER_GROUP;
const TABLE = 'items';
const CHANNEL = `live:public.${TABLE}`;

type Row = { id: number; grp: number; score: number; title: string };
type Shape = 'full' | 'range' | 'topN';
type Change = { seq: number; type: 'INSERT' | 'UPDATE' | 'DELETE'; id: number; grp: number; score: number };
type Built = { toRequest(): PostgrestRequest };

// ---------- entries: shapes cycle full : range : top-N as SHAPE_MIX says (default 14:3:3) ----------
const [MIX_FULL, MIX_RANGE, MIX_TOPN] = (process.env.SHAPE_MIX ?? '14:3:3').split(':').map(Number) as [number, number, number];
function shapeOf(index: number): Shape {
  const slot = index % (MIX_FULL + MIX_RANGE + MIX_TOPN);
  return slot < MIX_FULL ? 'full' : slot < MIX_FULL + MIX_RANGE ? 'range' : 'topN';
}
const entries = Array.from({ length: ENTRIES }, (_, index) => {
  const group = index % GROUPS;
  const shape = shapeOf(index);
  const base = from(TABLE).select('*').eq('grp', group);
  const request: Built =
    shape === 'full'
      ? base.order('score').order('id')
      : shape === 'range'
        ? base.gte('score', 500_000).order('score', { ascending: false }).order('id')
        : base.order('score').order('id').limit(TOP_N);
  return { index, group, shape, request, arg: request.toRequest() };
});

// ---------- deterministic writer model ----------
let seed = 42;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);

class Writer {
  /** Live row ids and their group (the model picks update / delete targets from it). */
  private ids: number[] = [];
  private groupOf = new Map<number, number>();
  private position = new Map<number, number>();
  nextId = N_ROWS + 1;
  seq = 0;
  /** id → seq of the change that deleted it. */
  deletedAt = new Map<number, number>();

  constructor(rows: Array<{ id: number; grp: number }>) {
    for (const row of rows) this.add(row.id, row.grp);
  }
  private add(id: number, grp: number): void {
    this.position.set(id, this.ids.length);
    this.ids.push(id);
    this.groupOf.set(id, grp);
  }
  private remove(id: number): void {
    const at = this.position.get(id)!;
    const last = this.ids.pop()!;
    if (last !== id) {
      this.ids[at] = last;
      this.position.set(last, at);
    }
    this.position.delete(id);
    this.groupOf.delete(id);
  }
  next(): Change {
    const seq = ++this.seq;
    const dice = random();
    const score = Math.floor(random() * 1_000_000);
    if (dice < 0.25) {
      const id = this.nextId++;
      const grp = Math.floor(random() * GROUPS);
      this.add(id, grp);
      return { seq, type: 'INSERT', id, grp, score };
    }
    const id = this.ids[Math.floor(random() * this.ids.length)]!;
    const grp = this.groupOf.get(id)!;
    if (dice < 0.5) {
      this.remove(id);
      this.deletedAt.set(id, seq);
      return { seq, type: 'DELETE', id, grp, score };
    }
    return { seq, type: 'UPDATE', id, grp, score };
  }
}

/** The SQL of one change; `title` carries the change's seq so the cache can tell which version it holds. */
function changeSql(change: Change): string {
  if (change.type === 'INSERT') return `insert into ${TABLE} (id, grp, score, title) values (${change.id}, ${change.grp}, ${change.score}, 't${change.seq}')`;
  if (change.type === 'UPDATE') return `update ${TABLE} set score = ${change.score}, title = 't${change.seq}' where id = ${change.id}`;
  return `delete from ${TABLE} where id = ${change.id}`;
}
const versionOf = (row: Row) => (row.title.charCodeAt(0) === 116 /* t */ ? Number(row.title.slice(1)) : 0);

// ---------- helpers ----------
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const gc = () => (globalThis as { gc?: () => void }).gc?.();
const heapMb = () => {
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};
const round = (value: number) => Math.round(value * 10) / 10;
const percentile = (sorted: number[], p: number) => (sorted.length === 0 ? null : round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!));
const lsnToBigInt = (lsn: string) => {
  const [high, low] = lsn.split('/');
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
};

async function waitFor(probe: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

// ---------- the stack, in a child process (its realtime server gets its own event loop, as in production) ----------
interface StackInfo {
  databaseUrl: string;
  postgrestUrl: string;
  realtimeUrl: string;
  anonKey: string;
  pid: number;
  pids: { postgres: number; postgrest: number };
}

/** Child mode: starts the stack, prints its StackInfo as one JSON line, stops it when stdin closes or on SIGTERM. */
async function stackChild(): Promise<void> {
  const stack = await startStack({
    sql: `create table ${TABLE} (id int primary key, grp int not null, score int not null, title text not null);
          create index on ${TABLE} (grp, score);
          grant select on ${TABLE} to anon, authenticated;`,
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void stack.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
  const info: StackInfo = { databaseUrl: stack.databaseUrl, postgrestUrl: stack.postgrestUrl, realtimeUrl: stack.realtimeUrl, anonKey: stack.anonKey, pid: process.pid, pids: stack.pids };
  process.stdout.write(`${JSON.stringify(info)}\n`);
}

function startStackChild(): { child: ChildProcess; ready: Promise<StackInfo> } {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, RTK_E2E_STACK_CHILD: '1' } });
  const ready = new Promise<StackInfo>((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line.startsWith('{')) resolve(JSON.parse(line) as StackInfo);
        else if (line) process.stderr.write(`[stack] ${line}\n`);
      }
    });
    child.once('exit', (code) => reject(new Error(`the stack child exited with ${code}`)));
  });
  return { child, ready };
}

async function stopStackChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

// ---------- CPU per process, from /proc ----------
const CLK_TCK = 100;
function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}
function childrenOf(parent: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}
/** CPU seconds so far of this process and of the stack's parts (PostgreSQL counts its backends too). */
function cpuSnapshot(info: StackInfo): Record<string, Map<number, number>> {
  const ticks = (pids: number[]) => new Map(pids.map((pid) => [pid, cpuTicks(pid)]));
  const self = process.cpuUsage();
  return {
    client: new Map([[0, ((self.user + self.system) / 1e6) * CLK_TCK]]),
    realtimeServer: ticks([info.pid]),
    postgres: ticks([info.pids.postgres, ...childrenOf(info.pids.postgres)]),
    postgrest: ticks([info.pids.postgrest]),
  };
}
function cpuSeconds(before: Record<string, Map<number, number>>, after: Record<string, Map<number, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pids] of Object.entries(after)) {
    let sum = 0;
    for (const [pid, ticks] of pids) sum += ticks - (before[name]?.get(pid) ?? 0);
    out[name] = round(sum / CLK_TCK);
  }
  return out;
}

type Counter = { full: number; range: number; topN: number; other: number };
/** A fetch that counts the live entries' requests by entry shape. */
function countingFetch(counter: Counter): typeof fetch {
  return ((input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? String(input) : input.url);
    if (url.pathname.endsWith(`/${TABLE}`)) {
      if (url.searchParams.has('limit')) counter.topN++;
      else if (url.searchParams.has('score')) counter.range++;
      else counter.full++;
    } else counter.other++;
    return fetch(input, init);
  }) as typeof fetch;
}
const total = (counter: Counter) => counter.full + counter.range + counter.topN + counter.other;

function makeStore(stack: StackInfo, withSync: boolean) {
  const counter: Counter = { full: 0, range: 0, topN: 0, other: 0 };
  const api = createPostgrestApi({ url: stack.postgrestUrl, apiKey: stack.anonKey, fetchFn: countingFetch(counter) });
  const sync = createSyncMiddleware({ api, url: stack.realtimeUrl, apiKey: stack.anonKey, WebSocket: WebSocket as never, environment: false, onWarning: (message) => console.error(`[sync warning] ${message}`) });
  const store = configureStore({
    reducer: { [api.reducerPath]: api.reducer, [sync.reducerPath]: sync.reducer },
    middleware: (getDefault) => {
      const base = getDefault({ serializableCheck: false, immutableCheck: false }).concat(api.middleware);
      return withSync ? base.concat(sync.middleware) : base;
    },
  });
  const readers = entries.map((entry) => api.endpoints.live.select(entry.arg as never));
  const dataOf = (index: number) => (readers[index]!(store.getState() as never) as { data?: unknown }).data;
  const pending = () => Object.values((store.getState() as { postgrestApi: { queries: Record<string, { status: string } | undefined> } }).postgrestApi.queries).some((query) => query?.status === 'pending');
  const subscriptions = entries.map((entry) => store.dispatch(api.endpoints.live.initiate(entry.arg as never)) as unknown as Promise<unknown> & { unsubscribe(): void });
  const close = () => {
    for (const subscription of subscriptions) subscription.unsubscribe();
    if (withSync) store.dispatch(sync.actions.disconnect());
  };
  return { api, sync, store, counter, dataOf, pending, subscriptions, close };
}

/** A fresh read of `request` through PostgREST (not counted: it goes around the stores' fetchFn). */
function freshReader(stack: StackInfo) {
  const query = postgrestBaseQuery({ url: stack.postgrestUrl, apiKey: stack.anonKey });
  return async (request: Built) => {
    const result = (await query(request.toRequest(), { signal: new AbortController().signal } as never, {})) as { data?: unknown; error?: unknown };
    if (result.error) throw new Error(`fresh query failed: ${JSON.stringify(result.error)}`);
    return result.data;
  };
}

// ---------- main ----------
async function main(): Promise<void> {
  let stackChildProcess: ChildProcess | undefined;
  const writerClient = { current: undefined as pg.Client | undefined };
  const writers: pg.Client[] = [];
  let closeStore: (() => void) | undefined;
  const stopAll = async () => {
    try {
      closeStore?.();
    } catch {
      /* best effort */
    }
    await writerClient.current?.end().catch(() => undefined);
    await Promise.all(writers.map((connection) => connection.end().catch(() => undefined)));
    if (stackChildProcess) await stopStackChild(stackChildProcess);
  };
  const onSignal = () => void stopAll().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // A throw inside the store's or socket's callbacks does not reach the try below: stop the stack too.
  process.once('uncaughtException', (error) => {
    console.error(error);
    void stopAll().then(() => process.exit(1));
  });

  try {
    const setupStart = performance.now();
    const loadAtStart = os.loadavg()[0] ?? 0;
    const started = startStackChild();
    stackChildProcess = started.child;
    const stack = await started.ready;
    const client = new pg.Client({ connectionString: stack.databaseUrl });
    writerClient.current = client;
    await client.connect();
    await client.query('select setseed(0.42)');
    await client.query(
      `insert into ${TABLE} (id, grp, score, title)
       select i, (i - 1) % ${GROUPS}, floor(random() * 1000000)::int, 'row ' || i from generate_series(1, ${N_ROWS}) i`,
    );
    await client.query(`vacuum analyze ${TABLE}`);
    for (let i = 0; i < WRITERS; i++) {
      const connection = new pg.Client({ connectionString: stack.databaseUrl });
      writers.push(connection);
      await connection.connect();
    }
    const writer = new Writer((await client.query<{ id: number; grp: number }>(`select id, grp from ${TABLE} order by id`)).rows);
    const fresh = freshReader(stack);
    console.error(`[bench:client:e2e] stack up and ${N_ROWS} rows loaded in ${Math.round(performance.now() - setupStart)} ms`);

    // ----- ours: live entries kept by the sync middleware -----
    const made = makeStore(stack, true);
    closeStore = made.close;
    const loadStart = performance.now();
    await Promise.all(made.subscriptions);
    await waitFor(() => made.sync.selectors.selectChannel(made.store.getState(), CHANNEL)?.changesLive === true, 15_000, 'the live channel');
    await sleep(200);
    await waitFor(() => !made.pending(), 30_000, 'the initial fetches');
    const loadMs = performance.now() - loadStart;
    const initialRequests = total(made.counter);
    const rowsPerEntry = entries.map((_, index) => (made.dataOf(index) as unknown[] | undefined)?.length ?? 0);
    console.error(`[bench:client:e2e] ${ENTRIES} entries loaded in ${Math.round(loadMs)} ms (${initialRequests} requests), rows per entry ${Math.min(...rowsPerEntry)}–${Math.max(...rowsPerEntry)}`);

    // Latency tracking on the full entries: per entry the pending changes; one pass over an entry's
    // rows per store notification in which its data changed.
    const fullByGroup = new Map<number, number>();
    for (const entry of entries) if (entry.shape === 'full' && !fullByGroup.has(entry.group)) fullByGroup.set(entry.group, entry.index);
    const tracked = new Map<number, Array<{ change: Change; sentAt: number }>>();
    const lastSeen = new Map<number, unknown>();
    const latencies: number[] = [];
    let listenerMs = 0;
    let notifications = 0;
    const unsubscribeListener = made.store.subscribe(() => {
      notifications++;
      if (tracked.size === 0) return;
      const started = performance.now();
      for (const [index, waiting] of tracked) {
        const data = made.dataOf(index) as Row[] | undefined;
        if (!data || data === lastSeen.get(index)) continue;
        lastSeen.set(index, data);
        const want = new Map<number, Row | undefined>();
        for (const item of waiting) want.set(item.change.id, undefined);
        for (const row of data) if (want.has(row.id)) want.set(row.id, row);
        const still = waiting.filter(({ change, sentAt }) => {
          const row = want.get(change.id);
          // Present: it holds this change's version or a later one. Absent: the row's delete (this
          // change or a later one) is applied (ids are never reused).
          const deletedAt = writer.deletedAt.get(change.id);
          const reflected = row ? change.type !== 'DELETE' && versionOf(row) >= change.seq : deletedAt !== undefined && deletedAt >= change.seq;
          if (reflected) latencies.push(started - sentAt);
          return !reflected;
        });
        if (still.length === 0) tracked.delete(index);
        else tracked.set(index, still);
      }
      listenerMs += performance.now() - started;
    });

    const heapBefore = heapMb();
    const cpuBefore = cpuSnapshot(stack);
    // PROFILE_DIR=…: a CPU profile of this process from the first write to convergence.
    const profiler = process.env.PROFILE_DIR ? new Session() : undefined;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    const requestsBefore = { ...made.counter };
    let trackedCount = 0;
    const firstWrite = performance.now();
    let lastLsn = 0n;
    let generated = 0;
    /** One writer connection: takes the next TX_SIZE changes and commits them, until EVENTS are written. */
    const writeLoop = async (connection: pg.Client) => {
      while (generated < EVENTS) {
        const batch: Change[] = [];
        for (let i = 0; i < TX_SIZE && generated < EVENTS; i++, generated++) batch.push(writer.next());
        // Statements in key order (stable, so one row's changes keep their order): concurrent
        // writers then lock rows in the same order and cannot deadlock.
        const statements = [...batch].sort((a, b) => a.id - b.id).map(changeSql);
        // One round trip per transaction (simple query protocol, several statements). Each writer's
        // last one reports the WAL insert position before its commit, which its commit LSN is beyond.
        const text = `begin; ${statements.join('; ')}; select pg_current_wal_insert_lsn()::text as lsn; commit;`;
        const sentAt = performance.now();
        for (const change of batch) {
          const index = fullByGroup.get(change.grp);
          if (index !== undefined && change.seq % SAMPLE === 0) {
            trackedCount++;
            const waiting = tracked.get(index);
            if (waiting) waiting.push({ change, sentAt });
            else tracked.set(index, [{ change, sentAt }]);
          }
        }
        const results = (await connection.query(text)) as unknown as pg.QueryResult[];
        if (generated >= EVENTS) {
          const lsnResult = results.find((result) => result.command === 'SELECT');
          const lsn = lsnToBigInt(String((lsnResult!.rows[0] as { lsn: string }).lsn));
          if (lsn > lastLsn) lastLsn = lsn;
        }
      }
    };
    await Promise.all(writers.map(writeLoop));
    const writerMs = performance.now() - firstWrite;
    console.error(`[bench:client:e2e] writer: ${EVENTS} changes in ${Math.round(writerMs)} ms (${Math.round((EVENTS / writerMs) * 1000)}/s)`);

    // Convergence: the stream reached the last transaction, nothing pending, then a verified snapshot.
    const target = lastLsn.toString(16).toUpperCase().padStart(16, '0');
    const positionReached = () => {
      const position = made.sync.selectors.selectChannel(made.store.getState(), CHANNEL)?.position;
      return typeof position === 'string' && position.slice(0, 16) >= target;
    };
    const deadline = Date.now() + CONVERGE_TIMEOUT_MS;
    let streamCaughtUpMs: number | undefined;
    let convergedMs: number | undefined;
    let verifications = 0;
    let mismatches: string[] = [];
    while (Date.now() < deadline) {
      if (!positionReached() || made.pending()) {
        await sleep(2);
        continue;
      }
      streamCaughtUpMs ??= performance.now() - firstWrite;
      const at = performance.now() - firstWrite;
      const snapshot = entries.map((_, index) => made.dataOf(index));
      verifications++;
      const expected = await Promise.all(entries.map((entry) => fresh(entry.request)));
      const unchanged = snapshot.every((data, index) => data === made.dataOf(index));
      mismatches = entries.filter((_, index) => JSON.stringify(snapshot[index]) !== JSON.stringify(expected[index])).map((entry) => `#${entry.index} ${entry.shape} grp ${entry.group}`);
      if (unchanged && mismatches.length === 0) {
        convergedMs = at;
        break;
      }
      await sleep(50);
    }
    unsubscribeListener();
    if (convergedMs === undefined) {
      const why =
        streamCaughtUpMs === undefined
          ? `the channel's position never reached the last transaction (${target}), or a live fetch stayed pending`
          : mismatches.length > 0
            ? `differing from a fresh query: ${mismatches.join(', ')}`
            : 'the cache kept changing during every verification';
      throw new Error(`live entries did not converge within ${CONVERGE_TIMEOUT_MS} ms after the writes: ${why}`);
    }
    const cpu = cpuSeconds(cpuBefore, cpuSnapshot(stack));
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      mkdirSync(process.env.PROFILE_DIR!, { recursive: true });
      writeFileSync(path.join(process.env.PROFILE_DIR!, `client-e2e-${Date.now()}.cpuprofile`), JSON.stringify(profile));
      profiler.disconnect();
    }
    const heapGrowth = heapMb() - heapBefore;
    const refetches = {
      full: made.counter.full - requestsBefore.full,
      range: made.counter.range - requestsBefore.range,
      topN: made.counter.topN - requestsBefore.topN,
      other: made.counter.other - requestsBefore.other,
    };
    const sorted = latencies.sort((a, b) => a - b);
    const ours = {
      events: EVENTS,
      writerMs: Math.round(writerMs),
      writerChangesPerSecond: Math.round((EVENTS / writerMs) * 1000),
      streamCaughtUpMs: Math.round(streamCaughtUpMs!),
      convergedMs: Math.round(convergedMs),
      eventsPerSecond: Math.round((EVENTS / convergedMs) * 1000),
      verifications,
      refetchRequests: refetches.full + refetches.range + refetches.topN + refetches.other,
      refetchRequestsByShape: refetches,
      changeToCacheLatencyMs: {
        measured: sorted.length,
        tracked: trackedCount,
        p50: percentile(sorted, 50),
        p90: percentile(sorted, 90),
        p99: percentile(sorted, 99),
        max: sorted.length ? round(sorted[sorted.length - 1]!) : null,
        mean: sorted.length ? round(sorted.reduce((sum, value) => sum + value, 0) / sorted.length) : null,
      },
      heapGrowthMb: round(heapGrowth),
      cpuSecondsUntilConverged: cpu,
      storeNotifications: notifications,
      latencyListenerMs: Math.round(listenerMs),
    };
    console.error(`[bench:client:e2e] ours: ${JSON.stringify(ours)}`);
    made.close();
    closeStore = undefined;
    await sleep(200);

    // ----- baseline: invalidate and refetch per change -----
    const base = makeStore(stack, false);
    closeStore = base.close;
    await Promise.all(base.subscriptions);
    await waitFor(() => !base.pending(), 30_000, 'the baseline fetches');
    const baseRequestsBefore = total(base.counter);
    const baseHeapBefore = heapMb();
    const perEvent: number[] = [];
    const baseStart = performance.now();
    for (let i = 0; i < EVENTS_B; i++) {
      const eventStart = performance.now();
      const change = writer.next();
      await client.query(`begin; ${changeSql(change)}; commit;`);
      base.store.dispatch(base.api.util.invalidateTags([{ type: TABLE, id: 'LIST' }]));
      await sleep(0);
      await waitFor(() => !base.pending(), 60_000, 'baseline refetches');
      perEvent.push(performance.now() - eventStart);
    }
    const baseMs = performance.now() - baseStart;
    const baseHeap = heapMb() - baseHeapBefore;
    // The baseline must be right too.
    const baseExpected = await Promise.all(entries.map((entry) => fresh(entry.request)));
    const baseWrong = entries.filter((_, index) => JSON.stringify(base.dataOf(index)) !== JSON.stringify(baseExpected[index]));
    if (baseWrong.length > 0) throw new Error(`baseline: ${baseWrong.length} entries differ from a fresh query`);
    const perEventSorted = perEvent.sort((a, b) => a - b);
    const baseline = {
      eventsMeasured: EVENTS_B,
      eventsPerSecond: round((EVENTS_B / baseMs) * 1000),
      ms: Math.round(baseMs),
      refetchRequests: total(base.counter) - baseRequestsBefore,
      changeToCacheLatencyMs: { p50: percentile(perEventSorted, 50), p99: percentile(perEventSorted, 99) },
      heapGrowthMb: round(baseHeap),
    };
    console.error(`[bench:client:e2e] refetch per event: ${JSON.stringify(baseline)}`);
    base.close();
    closeStore = undefined;

    const result = {
      benchmark: 'client-e2e',
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model.split(' ').slice(0, 2).join(' '), node: process.version, loadAverage1mAtStart: round(loadAtStart) },
      setup: {
        rows: N_ROWS,
        groups: GROUPS,
        entries: ENTRIES,
        shapeMix: `${MIX_FULL}:${MIX_RANGE}:${MIX_TOPN}`,
        entryShapes: {
          full: entries.filter((entry) => entry.shape === 'full').length,
          range: entries.filter((entry) => entry.shape === 'range').length,
          topN: entries.filter((entry) => entry.shape === 'topN').length,
        },
        entryRequests: {
          full: `from('${TABLE}').select('*').eq('grp', g).order('score').order('id')`,
          range: `from('${TABLE}').select('*').eq('grp', g).gte('score', 500000).order('score', { ascending: false }).order('id')`,
          topN: `from('${TABLE}').select('*').eq('grp', g).order('score').order('id').limit(${TOP_N})`,
        },
        rowsPerEntry: { min: Math.min(...rowsPerEntry), max: Math.max(...rowsPerEntry), total: rowsPerEntry.reduce((sum, value) => sum + value, 0) },
        events: EVENTS,
        mix: '50% UPDATE (score and title change, so rows move), 25% INSERT, 25% DELETE, random groups',
        writer: `${WRITERS} pg connections in this process, each committing ${TX_SIZE} changes per transaction back to back, each transaction one round trip (BEGIN; …; COMMIT; synchronous_commit on)`,
        stack: 'startStack in a child process: embedded PostgreSQL (wal_level logical) + PostgREST 12 + our realtime server (the child), all on this machine; the store and the writers in this process',
        client: 'configureStore without RTK dev checks; createPostgrestApi + createSyncMiddleware with ws',
        latency: `send of the change's transaction → first store notification whose cache reflects it (full entries only; every ${SAMPLE}. change)`,
        convergence: "first write → the cache state that a fresh PostgREST query of every entry's request confirmed",
        heap: 'heapUsed growth after GC: entries loaded vs converged',
        cpu: 'CPU seconds from the first write to convergence: client = this process (store, sync middleware, writers, latency listener), realtimeServer = the stack child, postgres = postmaster and its backends (incl. the walsender), postgrest',
        baseline: `no sync middleware; per change: write, invalidateTags([{ type: '${TABLE}', id: 'LIST' }]), wait for every entry's refetch; first ${EVENTS_B} changes after ours`,
      },
      load: { ms: Math.round(loadMs), requests: initialRequests },
      ours,
      invalidateAndRefetchPerEvent: baseline,
      ratios: { oursVsRefetchPerEvent: round(ours.eventsPerSecond / baseline.eventsPerSecond) },
    };
    const text = JSON.stringify(result, null, 2);
    console.log(text);
    const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'client-e2e.json'), `${text}\n`);
    console.error(
      `[bench:client:e2e] ${EVENTS} changes converged in ${ours.convergedMs} ms → ${ours.eventsPerSecond} events/s end to end (writer ${ours.writerChangesPerSecond}/s); ` +
        `latency p50 ${ours.changeToCacheLatencyMs.p50} ms, p99 ${ours.changeToCacheLatencyMs.p99} ms; refetches ${ours.refetchRequests} (${JSON.stringify(refetches)}); heap +${ours.heapGrowthMb} MB; ` +
        `refetch-per-event baseline ${baseline.eventsPerSecond} events/s (${baseline.refetchRequests} requests for ${EVENTS_B} changes) → ratio ${result.ratios.oursVsRefetchPerEvent}×`,
    );
  } finally {
    await stopAll();
  }
}

(process.env.RTK_E2E_STACK_CHILD === '1' ? stackChild() : main()).then(
  () => {
    if (process.env.RTK_E2E_STACK_CHILD !== '1') process.exit(0);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

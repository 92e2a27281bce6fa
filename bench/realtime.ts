/**
 * Realtime benchmark: N WebSocket clients subscribed to INSERTs of one table, a writer at a set rate,
 * with RLS off and with RLS on (50 distinct users). Reports delivered messages/s, commit-to-client
 * latency (client receive time − the payload's commit_timestamp, which is truncated to the ms, so
 * latencies read up to 1 ms high) and the server's memory and CPU. Prints JSON and writes it to
 * bench/results/realtime.json.
 *
 * Processes: the stack (PostgreSQL, PostgREST, realtime server) runs in a child Node process
 * (bench/realtime/server.ts) so its RSS/CPU can be read from /proc; the clients run in another child
 * (bench/realtime/clients.ts, raw `ws`, no JSON.parse per frame); this process only writes rows.
 * All of them share the machine's cores, so client and writer CPU is reported alongside.
 *
 *   npm run bench:realtime          (env: CLIENTS=500 DURATION_S=10 RATES_OFF=50,100,150,200,400 RATES_RLS=250,500,750,1000,2000 USERS=50 BATCH=rows per transaction (default rate/100 within 10..50) SCENARIOS=off,on)
 *
 * Cluster (issue 15): `npm run bench:realtime -- --nodes 1,3` (or `--nodes 3`, or env NODES=1,3) runs
 * the same scenarios once per node count, one fresh stack each, and writes
 * bench/results/realtime-cluster.json instead. `1` is the embedded server (no Redis); `N` > 1 is a
 * redis-server and N nodes, each in its own process (node-1 in the stack child, the leader; the
 * others from bench/realtime/node.ts); `1r` is one node with Redis. Client i connects to node
 * i % N. Adds each node's CPU, RSS and deliveries, and Redis' CPU, memory (INFO used_memory, the
 * stream's MEMORY USAGE) and traffic per 10,000 changes, and commit → readable in the stream (the
 * bench reads the stream as one more reader). Defaults there: CLIENTS=1500
 * RATES_OFF=20,40,80,160 RATES_RLS=500,1000,2000,4000 (rows/s).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { CLK_TCK, ask, childrenOf, cmdline, cpuDelta, cpuOf, cpuTicks, percentile, readyLine, rssMb, sleep, waitOrKill } from './realtime/proc';

const here = path.dirname(fileURLToPath(import.meta.url));
/** `--nodes 1,3`, `--nodes=3` or NODES=1,3: the cluster benchmark; else the single-node one. */
function nodeRuns(): { nodes: number; redis: boolean }[] | undefined {
  const at = process.argv.findIndex((a) => a === '--nodes' || a.startsWith('--nodes='));
  const spec = at === -1 ? process.env.NODES : process.argv[at]!.includes('=') ? process.argv[at]!.slice(8) : process.argv[at + 1];
  if (spec === undefined) return undefined;
  return spec.split(/[,|]/).map((item) => {
    const m = /^\s*(\d+)(r?)\s*$/.exec(item);
    if (!m || Number(m[1]) < 1) throw new Error(`--nodes: ${JSON.stringify(item)} is not a node count (1, 3, or 1r for one node with Redis)`);
    return { nodes: Number(m[1]), redis: Number(m[1]) > 1 || m[2] === 'r' };
  });
}
const RUNS = nodeRuns();
const CLUSTER = RUNS !== undefined;
const CLIENTS = Number(process.env.CLIENTS ?? (CLUSTER ? 1500 : 500));
const USERS = Number(process.env.USERS ?? 50);
const DURATION_S = Number(process.env.DURATION_S ?? 10);
const RATES_OFF = (process.env.RATES_OFF ?? (CLUSTER ? '20,40,80,160' : '50,100,150,200,400')).split(',').map(Number);
const RATES_RLS = (process.env.RATES_RLS ?? (CLUSTER ? '500,1000,2000,4000' : '250,500,750,1000,2000')).split(',').map(Number);
const BODY = 'x'.repeat(Number(process.env.BODY_BYTES ?? 64));
const MAX_DRAIN_MS = 10_000;
const BATCH = process.env.BATCH ? Number(process.env.BATCH) : undefined;
const SCENARIOS = (process.env.SCENARIOS ?? 'off,on').split(',').map((s) => s.trim() === 'on');

// ---------- children ----------
interface ServerInfo {
  pid: number;
  pids: { postgres: number; postgrest: number; redis?: number };
  realtimeUrl: string;
  databaseUrl: string;
  anonKey: string;
  users: string[];
  tokens: string[];
  redisUrl?: string;
  jwtSecret?: string;
}

function startServer(redis: boolean): Promise<{ child: ChildProcess; info: ServerInfo }> {
  const profile = process.env.PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROFILE_DIR}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', path.join(here, 'realtime/server.ts')], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, USERS: String(USERS), REDIS: redis ? '1' : '' },
  });
  return readyLine<ServerInfo>(child, 'server').then((info) => ({ child, info }));
}

/** Another realtime node of the stack's cluster, in its own process. */
function startNode(info: ServerInfo, nodeId: string): Promise<{ child: ChildProcess; pid: number; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'realtime/node.ts')], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, DATABASE_URL: info.databaseUrl, JWT_SECRET: info.jwtSecret, REDIS_URL: info.redisUrl, NODE_ID: nodeId },
  });
  return readyLine<{ pid: number; url: string }>(child, nodeId).then((node) => ({ child, ...node }));
}

function startClients(): ChildProcess {
  return fork(path.join(here, 'realtime/clients.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

// ---------- Redis (cluster runs) ----------
const STREAM_KEY = 'rtk-realtime:changes:log';
const LEADER_KEY = 'rtk-realtime:changes:leader';

async function redisSample(redis: Redis, pid: number) {
  const field = (info: string, name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
  const [memory, stats, entries, streamBytes] = await Promise.all([
    redis.info('memory'),
    redis.info('stats'),
    redis.xlen(STREAM_KEY),
    redis.call('MEMORY', 'USAGE', STREAM_KEY, 'SAMPLES', '0') as Promise<number | null>,
  ]);
  return {
    ticks: cpuTicks(pid),
    usedMemory: field(memory, 'used_memory'),
    netIn: field(stats, 'total_net_input_bytes'),
    netOut: field(stats, 'total_net_output_bytes'),
    commands: field(stats, 'total_commands_processed'),
    entries,
    streamBytes: Number(streamBytes ?? 0),
  };
}

/**
 * Reads the change stream as one more reader while a step writes: commit → readable in Redis, per
 * change (this process's receive time − the change's commitTimestamp), to tell the Redis hop from a
 * node's own work.
 */
function tapStream(url: string) {
  const tap = new Redis(url, { maxRetriesPerRequest: 1 });
  const lags: number[] = [];
  let running = true;
  const done = (async () => {
    let cursor = '$';
    while (running) {
      const reply = (await tap.xread('COUNT', 100, 'BLOCK', 200, 'STREAMS', STREAM_KEY, cursor)) as [string, [string, string[]][]][] | null;
      const at = Date.now();
      for (const [id, fields] of reply?.[0]?.[1] ?? []) {
        cursor = id;
        for (const m of (fields[fields.indexOf('d') + 1] ?? '').matchAll(/"commitTimestamp":"([^"]+)"/g)) lags.push(at - Date.parse(m[1]!));
      }
    }
  })();
  return async () => {
    running = false;
    await done.catch(() => undefined);
    tap.disconnect();
    lags.sort((a, b) => a - b);
    return { samples: lags.length, p50: percentile(lags, 50), p95: percentile(lags, 95), p99: percentile(lags, 99) };
  };
}

// ---------- benchmark ----------
/** One stack (and, for a cluster, its other nodes): every scenario's steps. */
async function runStack(run: { nodes: number; redis: boolean }): Promise<object[]> {
  const { child: server, info } = await startServer(run.redis);
  const extra: { child: ChildProcess; pid: number; url: string }[] = [];
  const clients = startClients();
  clients.on('message', (m: any) => m.type === 'log' && process.stderr.write(`[clients] ${m.message}\n`));
  const db = new pg.Client({ connectionString: info.databaseUrl });
  let redis: Redis | undefined;
  const scenarios: object[] = [];

  try {
    // One node after another: node-1 (the stack's) holds the leader lock before the others start.
    for (let k = 2; k <= run.nodes; k++) extra.push(await startNode(info, `node-${k}`));
    if (run.redis) redis = new Redis(info.redisUrl!, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis?.connect();
    await db.connect();
    const nodePids = [info.pid, ...extra.map((node) => node.pid)];
    const urls = [info.realtimeUrl, ...extra.map((node) => node.url)];
    const postgresPids = () => [info.pids.postgres, ...childrenOf(info.pids.postgres)];
    const walsenders = () => childrenOf(info.pids.postgres).filter((pid) => cmdline(pid).includes('walsender'));

    for (const rls of SCENARIOS) {
      await db.query('truncate bench');
      await db.query('drop policy if exists bench_owner on bench');
      if (rls) {
        await db.query('alter table bench enable row level security');
        await db.query(`create policy bench_owner on bench for select using (owner = (current_setting('request.jwt.claims', true)::jsonb->>'sub')::uuid)`);
      } else await db.query('alter table bench disable row level security');
      // No wait needed: the realtime server drops kept catalog facts on the DDL's message, which the
      // stream delivers before the rows below (messagesToWrongClients checks it).
      if (rls) await sleep(Number(process.env.RLS_SETTLE_MS ?? 0));

      // Clients: RLS off → all on the anon key; RLS on → client i is user i % USERS (and on node i % nodes).
      const tokens = Array.from({ length: CLIENTS }, (_, i) => (rls ? info.tokens[i % USERS] : info.anonKey));
      const clientsOf = Array.from({ length: USERS }, (_, u) => tokens.filter((_, i) => rls && i % USERS === u).length);
      const t0 = Date.now();
      const { joined, subscribed } = await ask(clients, { cmd: 'connect', urls, apikey: info.anonKey, tokens, table: 'bench' }, 'connected');
      const connectMs = Date.now() - t0;

      let ownerOffset = 0;
      const insert = async (n: number, rowsPerOwner: number[]) => {
        await db.query(
          `insert into bench (owner, body) select ($1::uuid[])[1 + ((g + $2) % ${USERS})], $3 from generate_series(1, $4::int) g`,
          [info.users, ownerOffset, BODY, n],
        );
        for (let g = 1; g <= n; g++) rowsPerOwner[(g + ownerOffset) % USERS]! += 1;
        ownerOffset += n;
      };
      const expectedFor = (rowsPerOwner: number[]) =>
        rls ? rowsPerOwner.reduce((sum, rows, u) => sum + rows * clientsOf[u]!, 0) : rowsPerOwner.reduce((a, b) => a + b, 0) * CLIENTS;

      // Readiness: one row per user; wait until every client has received what it should.
      {
        await ask(clients, { cmd: 'reset' }, 'reset');
        const probe = new Array(USERS).fill(0);
        await insert(USERS, probe);
        const want = expectedFor(probe);
        const deadline = Date.now() + 15_000;
        let got = 0;
        while (Date.now() < deadline) {
          got = (await ask(clients, { cmd: 'stats' }, 'stats')).frames;
          if (got >= want) break;
          await sleep(100);
        }
        if (got < want) process.stderr.write(`[bench] readiness probe: ${got}/${want} frames (RLS ${rls ? 'on' : 'off'})\n`);
        await sleep(300);
      }

      const steps: object[] = [];
      for (const rate of rls ? RATES_RLS : RATES_OFF) {
        await ask(clients, { cmd: 'reset' }, 'reset');
        const rowsPerOwner = new Array(USERS).fill(0);
        const batch = BATCH ?? Math.max(10, Math.min(50, Math.round(rate / 100)));
        const redis0 = redis && (await redisSample(redis, info.pids.redis!));
        const cpu0 = { nodes: cpuOf(nodePids), postgres: cpuOf(postgresPids()), walsender: cpuOf(walsenders()), clients: cpuTicks(clients.pid!), writer: process.cpuUsage() };
        const rssBefore = nodePids.map(rssMb);
        const peakRss = [...rssBefore];
        const stopTap = redis && tapStream(info.redisUrl!);
        const rssTimer = setInterval(() => nodePids.forEach((pid, k) => (peakRss[k] = Math.max(peakRss[k]!, rssMb(pid)))), 250);

        // Writer: `batch` rows per transaction on a fixed schedule; catches up when behind.
        const start = performance.now();
        const end = start + DURATION_S * 1000;
        let rows = 0;
        let txns = 0;
        for (let k = 0; ; k++) {
          const due = start + (k * batch * 1000) / rate;
          if (due >= end) break;
          const wait = due - performance.now();
          if (wait > 1) await sleep(wait);
          await insert(batch, rowsPerOwner);
          rows += batch;
          txns++;
        }
        const writeEnd = performance.now();
        const writeSeconds = (writeEnd - start) / 1000;
        const atWriteEnd = await ask(clients, { cmd: 'stats' }, 'stats');
        const cpuAtWriteEnd = { nodes: cpuOf(nodePids), postgres: cpuOf(postgresPids()), walsender: cpuOf(walsenders()), clients: cpuTicks(clients.pid!), writer: process.cpuUsage(cpu0.writer) };
        const redisAtWriteEnd = redis && (await redisSample(redis, info.pids.redis!));
        const commitToStreamMs = await stopTap?.();

        // Drain: until everything expected arrived, or nothing new for 2 s, or MAX_DRAIN_MS.
        const expected = expectedFor(rowsPerOwner);
        const drainStart = Date.now();
        let last = atWriteEnd.frames;
        let lastChange = Date.now();
        let final = atWriteEnd;
        while (Date.now() - drainStart < MAX_DRAIN_MS) {
          final = await ask(clients, { cmd: 'stats' }, 'stats');
          if (final.frames >= expected) {
            await sleep(300); // catch anything beyond the expected count
            break;
          }
          if (final.frames !== last) (last = final.frames), (lastChange = Date.now());
          else if (Date.now() - lastChange > 2000) break;
          await sleep(50);
        }
        final = await ask(clients, { cmd: 'stats', latencies: true, perClient: true }, 'stats');
        clearInterval(rssTimer);
        const rssAfter = nodePids.map(rssMb);
        const redisAfter = redis && (await redisSample(redis, info.pids.redis!));
        const leader = redis && (await redis.get(LEADER_KEY))?.replace(/:[0-9a-f]+$/, '');
        const drainMs = Math.max(0, Math.round(final.lastFrameAt - (performance.timeOrigin + writeEnd)));
        const lat = (final.latencies as number[]).sort((a, b) => a - b);
        const perClient = final.perClient as number[];
        let misdelivered = 0;
        if (rls) for (let i = 0; i < perClient.length; i++) misdelivered += Math.max(0, perClient[i]! - rowsPerOwner[i % USERS]!);
        const cpuPct = (ticks: number) => Math.round((ticks / CLK_TCK / writeSeconds) * 100);
        /** CPU ms per 10,000 changes (rows written), from ticks over the writes. */
        const msPer10k = (ticks: number) => Math.round(((ticks * 1000) / CLK_TCK / rows) * 10_000);
        const per10k = (amount: number) => Math.round((amount / rows) * 10_000);
        const nodeTicks = nodePids.map((pid) => cpuAtWriteEnd.nodes.get(pid)! - cpu0.nodes.get(pid)!);
        const deliverySeconds = (final.lastFrameAt - (performance.timeOrigin + start)) / 1000;
        const step = {
          targetRowsPerSecond: rate,
          targetMessagesPerSecond: Math.round((expected / rows) * rate),
          rowsPerTransaction: batch,
          achievedRowsPerSecond: Math.round(rows / writeSeconds),
          transactions: txns,
          rows,
          expectedMessages: expected,
          deliveredMessages: final.frames,
          deliveredRatio: +(final.frames / expected).toFixed(4),
          ...(rls ? { messagesToWrongClients: misdelivered } : {}),
          messagesPerSecondDuringWrites: Math.round(atWriteEnd.frames / writeSeconds),
          messagesPerSecondFirstWriteToLastDelivery: Math.round(final.frames / deliverySeconds),
          backlogAtWriteEnd: expected - atWriteEnd.frames,
          drainMsAfterWritesStopped: drainMs,
          latencyMs: { samples: lat.length, p50: percentile(lat, 50), p95: percentile(lat, 95), p99: percentile(lat, 99), max: lat.length ? +lat[lat.length - 1]!.toFixed(1) : null },
          perClientMessages: { min: Math.min(...perClient), max: Math.max(...perClient) },
          ...(!CLUSTER && { serverRssMb: { before: rssBefore[0], peak: Math.max(peakRss[0]!, rssAfter[0]!), after: rssAfter[0] } }),
          cpuPercentOfOneCoreDuringWrites: {
            ...(CLUSTER ? { realtimeNodesTotal: cpuPct(nodeTicks.reduce((a, b) => a + b, 0)), ...(redis0 && { redis: cpuPct(redisAtWriteEnd!.ticks - redis0.ticks) }) } : { realtimeServerNode: cpuPct(nodeTicks[0]!) }),
            postgresAll: cpuPct(cpuDelta(cpu0.postgres, cpuAtWriteEnd.postgres)),
            postgresWalsender: cpuPct(cpuDelta(cpu0.walsender, cpuAtWriteEnd.walsender)),
            benchClients: cpuPct(cpuAtWriteEnd.clients - cpu0.clients),
            benchWriter: Math.round(((cpuAtWriteEnd.writer.user + cpuAtWriteEnd.writer.system) / 1e6 / writeSeconds) * 100),
          },
          wireBytesPerMessage: final.frames ? Math.round(final.bytes / final.frames) : null,
          ...(CLUSTER && {
            nodes: nodePids.map((pid, k) => {
              const mine = perClient.filter((_, i) => i % run.nodes === k);
              return {
                node: `node-${k + 1}`,
                ...(leader !== undefined && { leader: leader === `node-${k + 1}` }),
                clients: mine.length,
                deliveredMessages: mine.reduce((a, b) => a + b, 0),
                cpuPercentOfOneCore: cpuPct(nodeTicks[k]!),
                cpuMsPer10kChanges: msPer10k(nodeTicks[k]!),
                rssMb: { before: rssBefore[k], peak: Math.max(peakRss[k]!, rssAfter[k]!), after: rssAfter[k] },
              };
            }),
            postgresCpuMsPer10kChanges: msPer10k(cpuDelta(cpu0.postgres, cpuAtWriteEnd.postgres)),
          }),
          ...(redis0 && {
            redis: {
              commitToStreamMs,
              cpuPercentOfOneCore: cpuPct(redisAtWriteEnd!.ticks - redis0.ticks),
              cpuMsPer10kChanges: msPer10k(redisAtWriteEnd!.ticks - redis0.ticks),
              usedMemoryMb: { before: +(redis0.usedMemory / 2 ** 20).toFixed(1), after: +(redisAfter!.usedMemory / 2 ** 20).toFixed(1) },
              usedMemoryGrowthBytesPer10kChanges: per10k(redisAfter!.usedMemory - redis0.usedMemory),
              stream: {
                entriesAdded: redisAfter!.entries - redis0.entries,
                entries: redisAfter!.entries,
                bytes: redisAfter!.streamBytes,
                bytesPer10kChanges: per10k(redisAfter!.streamBytes - redis0.streamBytes),
              },
              commandsPer10kChanges: per10k(redisAfter!.commands - redis0.commands),
              networkInBytesPer10kChanges: per10k(redisAfter!.netIn - redis0.netIn),
              networkOutBytesPer10kChanges: per10k(redisAfter!.netOut - redis0.netOut),
            },
          }),
        };
        steps.push(step);
        process.stderr.write(`[bench] ${CLUSTER ? `${run.nodes} node(s)${run.redis ? ' + Redis' : ''}, ` : ''}RLS ${rls ? 'on ' : 'off'} ${rate} rows/s: ${JSON.stringify({ d: step.deliveredRatio, mps: step.messagesPerSecondDuringWrites, lat: step.latencyMs, drainMs, cpu: step.cpuPercentOfOneCoreDuringWrites })}\n`);
        await db.query('truncate bench');
        // Past saturation: further steps only measure the backlog; stop stepping.
        if (drainMs > 5000 || (step.latencyMs.p99 ?? 0) > 2000 || step.deliveredRatio < 0.9) break;
        await sleep(500);
      }
      await ask(clients, { cmd: 'close' }, 'closed');
      scenarios.push({
        rls,
        clients: CLIENTS,
        clientsJoined: joined,
        clientsSubscribed: subscribed,
        connectAndJoinMs: connectMs,
        ...(rls ? { users: USERS, policy: "owner = (current_setting('request.jwt.claims', true)::jsonb->>'sub')::uuid", rowOwners: `round-robin over ${USERS} users` } : {}),
        steps,
      });
    }
    return scenarios;
  } finally {
    await db.end().catch(() => undefined);
    redis?.disconnect();
    clients.send({ cmd: 'exit' });
    // The other nodes first (they hold Redis connections), then the stack (its node, Redis, PostgREST, PostgreSQL).
    for (const node of extra) {
      node.child.stdin!.end();
      node.child.kill('SIGTERM');
    }
    await waitOrKill(extra.map((node) => node.pid));
    server.stdin!.end();
    server.kill('SIGTERM');
    await waitOrKill([info.pid, info.pids.postgres, info.pids.postgrest, ...(info.pids.redis ? [info.pids.redis] : [])]);
    if (clients.exitCode === null) clients.kill();
  }
}

const machine = () => ({ cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version });
const setup = {
  durationSecondsPerStep: DURATION_S,
  bodyBytes: BODY.length,
  processes: 'stack (PostgreSQL + PostgREST + realtime server) in a child Node process; raw ws clients (vsn 2.0.0) in a second child; writer (pg) in the parent; all on the same cores',
  latency: 'client receive time (performance.timeOrigin + now) − commit_timestamp; commit_timestamp is truncated to the ms, so figures read 0–1 ms high; every 7th frame sampled',
  messagesPerSecondDuringWrites: 'postgres_changes frames received by all clients while the writer ran / writer wall time',
  rlsSettleMs: `waited ${Number(process.env.RLS_SETTLE_MS ?? 0)} ms after enabling RLS (the server drops kept catalog facts on DDL announced in the replication stream, so no wait is needed; messagesToWrongClients checks it)`,
  stepping: 'rates are stepped up; stepping stops after a step whose p99 > 2 s, drain > 5 s or delivery < 90%',
};

function write(file: string, result: object) {
  mkdirSync(path.join(here, 'results'), { recursive: true });
  writeFileSync(path.join(here, 'results', file), JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
}

async function main() {
  const started = Date.now();
  if (!RUNS) {
    const scenarios = await runStack({ nodes: 1, redis: false });
    return write('realtime.json', {
      benchmark: 'realtime',
      date: new Date().toISOString(),
      machine: machine(),
      setup,
      targets: { rlsOffMessagesPerSecond: 100_000, rlsOnMessagesPerSecond: 30_000, p99Ms: 50 },
      supabasePublished: { rlsOff: '≈32,000 msgs/s at 500 clients, p95 184 ms', rlsOn: '≈3,000 msgs/s' },
      scenarios,
      totalSeconds: Math.round((Date.now() - started) / 1000),
    });
  }
  const runs: { nodes: number; redis: boolean; loadAverageAtStart: number[]; scenarios: any[] }[] = [];
  for (const run of RUNS) {
    process.stderr.write(`[bench] ${run.nodes} node(s)${run.redis ? ' + Redis' : ' (embedded, no Redis)'}, ${CLIENTS} clients\n`);
    const loadAverageAtStart = os.loadavg().map((load) => +load.toFixed(2));
    runs.push({ ...run, loadAverageAtStart, scenarios: await runStack(run) });
  }
  // The scale factor: each run's delivered msgs/s and p99 against the first run's, step by step.
  const base = runs[0]!;
  const comparison = runs.slice(1).flatMap((run) =>
    run.scenarios.flatMap((scenario) =>
      scenario.steps.flatMap((step: any) => {
        const other = base.scenarios.find((s) => s.rls === scenario.rls)?.steps.find((s: any) => s.targetRowsPerSecond === step.targetRowsPerSecond);
        if (!other) return [];
        return [{
          rls: scenario.rls,
          targetMessagesPerSecond: step.targetMessagesPerSecond,
          [`messagesPerSecond_${base.nodes}${base.redis ? 'r' : ''}`]: other.messagesPerSecondDuringWrites,
          [`messagesPerSecond_${run.nodes}${run.redis && run.nodes === 1 ? 'r' : ''}`]: step.messagesPerSecondDuringWrites,
          deliveredRatio: +(step.messagesPerSecondDuringWrites / other.messagesPerSecondDuringWrites).toFixed(3),
          p99Ms: [other.latencyMs.p99, step.latencyMs.p99],
          realtimeCpuPercent: [other.cpuPercentOfOneCoreDuringWrites.realtimeNodesTotal, step.cpuPercentOfOneCoreDuringWrites.realtimeNodesTotal],
        }];
      }),
    ),
  );
  write('realtime-cluster.json', {
    benchmark: 'realtime-cluster',
    date: new Date().toISOString(),
    machine: machine(),
    setup: {
      ...setup,
      processes: 'stack (PostgreSQL + PostgREST + realtime node-1, which takes the leader lock; with Redis a redis-server) in a child Node process; nodes 2..N each in its own child Node process (bench/realtime/node.ts); raw ws clients (vsn 2.0.0) in one child; writer (pg) in the parent; all on the same cores',
      clients: CLIENTS,
      clientPlacement: 'client i connects to node i % nodes (RLS on: client i is user i % users, so every node serves every user)',
      runs: "nodes 1 without Redis = the embedded server; nodes > 1 (or '1r') = redis-server + nodes, node-1 leads",
      per10kChanges: 'a change is one inserted row; CPU ms = /proc utime+stime over the writes; Redis memory = INFO memory used_memory and MEMORY USAGE of the change stream (bounded at 10,000 entries, one per replication batch), before and after each step; Redis network out counts the bench’s own tap (redis.commitToStreamMs: one more stream reader, so readers = nodes + 1)',
    },
    runs,
    comparison,
    totalSeconds: Math.round((Date.now() - started) / 1000),
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

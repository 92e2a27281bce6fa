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
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLIENTS = Number(process.env.CLIENTS ?? 500);
const USERS = Number(process.env.USERS ?? 50);
const DURATION_S = Number(process.env.DURATION_S ?? 10);
const RATES_OFF = (process.env.RATES_OFF ?? '50,100,150,200,400').split(',').map(Number);
const RATES_RLS = (process.env.RATES_RLS ?? '250,500,750,1000,2000').split(',').map(Number);
const BODY = 'x'.repeat(Number(process.env.BODY_BYTES ?? 64));
const MAX_DRAIN_MS = 10_000;
const BATCH = process.env.BATCH ? Number(process.env.BATCH) : undefined;
const SCENARIOS = (process.env.SCENARIOS ?? 'off,on').split(',').map((s) => s.trim() === 'on');
const CLK_TCK = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------- /proc helpers ----------
function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return 0;
  }
}
function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}
function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}
function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}
function cpuOf(pids: number[]): Map<number, number> {
  return new Map(pids.map((pid) => [pid, cpuTicks(pid)]));
}
function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, ticks] of after) if (before.has(pid)) sum += ticks - before.get(pid)!;
  return sum;
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

// ---------- children ----------
interface ServerInfo {
  pid: number;
  pids: { postgres: number; postgrest: number };
  realtimeUrl: string;
  databaseUrl: string;
  anonKey: string;
  users: string[];
  tokens: string[];
}

function startServer(): Promise<{ child: ChildProcess; info: ServerInfo }> {
  const profile = process.env.PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROFILE_DIR}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', path.join(here, 'realtime/server.ts')], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, USERS: String(USERS) },
  });
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const nl = buffer.indexOf('\n');
      if (nl !== -1 && buffer.startsWith('{')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          resolve({ child, info: JSON.parse(line) });
        } catch (e) {
          reject(e);
        }
      } else if (nl !== -1) {
        process.stderr.write(`[server] ${buffer.slice(0, nl)}\n`);
        buffer = buffer.slice(nl + 1);
      }
    });
    child.once('exit', (code) => reject(new Error(`server child exited with ${code}`)));
  });
}

function startClients(): ChildProcess {
  return fork(path.join(here, 'realtime/clients.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function ask<T = any>(child: ChildProcess, msg: object, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: any) => {
      if (m.type === 'log') return void process.stderr.write(`[clients] ${m.message}\n`);
      if (m.type === 'error') return done(() => reject(new Error(m.message)));
      if (m.type === type) done(() => resolve(m));
    };
    const done = (f: () => void) => {
      child.off('message', onMessage);
      f();
    };
    child.on('message', onMessage);
    child.send(msg);
  });
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return +sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(1);
}

// ---------- benchmark ----------
async function main() {
  const started = Date.now();
  const { child: server, info } = await startServer();
  const clients = startClients();
  clients.on('message', (m: any) => m.type === 'log' && process.stderr.write(`[clients] ${m.message}\n`));
  const db = new pg.Client({ connectionString: info.databaseUrl });
  await db.connect();
  const postgresPids = () => [info.pids.postgres, ...childrenOf(info.pids.postgres)];
  const walsenders = () => childrenOf(info.pids.postgres).filter((pid) => cmdline(pid).includes('walsender'));
  const scenarios: object[] = [];

  try {
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

      // Clients: RLS off → all on the anon key; RLS on → client i is user i % USERS.
      const tokens = Array.from({ length: CLIENTS }, (_, i) => (rls ? info.tokens[i % USERS] : info.anonKey));
      const clientsOf = Array.from({ length: USERS }, (_, u) => tokens.filter((_, i) => rls && i % USERS === u).length);
      const t0 = Date.now();
      const { joined, subscribed } = await ask(clients, { cmd: 'connect', url: info.realtimeUrl, apikey: info.anonKey, tokens, table: 'bench' }, 'connected');
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
        const cpu0 = { server: cpuTicks(info.pid), postgres: cpuOf(postgresPids()), walsender: cpuOf(walsenders()), clients: cpuTicks(clients.pid!), writer: process.cpuUsage() };
        let peakRss = 0;
        const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, rssMb(info.pid))), 250);
        const rssBefore = rssMb(info.pid);

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
        const cpuAtWriteEnd = { server: cpuTicks(info.pid), postgres: cpuOf(postgresPids()), walsender: cpuOf(walsenders()), clients: cpuTicks(clients.pid!), writer: process.cpuUsage(cpu0.writer) };

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
        const rssAfter = rssMb(info.pid);
        const drainMs = Math.max(0, Math.round(final.lastFrameAt - (performance.timeOrigin + writeEnd)));
        const lat = (final.latencies as number[]).sort((a, b) => a - b);
        const perClient = final.perClient as number[];
        let misdelivered = 0;
        if (rls) for (let i = 0; i < perClient.length; i++) misdelivered += Math.max(0, perClient[i]! - rowsPerOwner[i % USERS]!);
        const cpuPct = (ticks: number) => Math.round((ticks / CLK_TCK / writeSeconds) * 100);
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
          serverRssMb: { before: rssBefore, peak: Math.max(peakRss, rssAfter), after: rssAfter },
          cpuPercentOfOneCoreDuringWrites: {
            realtimeServerNode: cpuPct(cpuAtWriteEnd.server - cpu0.server),
            postgresAll: cpuPct(cpuDelta(cpu0.postgres, cpuAtWriteEnd.postgres)),
            postgresWalsender: cpuPct(cpuDelta(cpu0.walsender, cpuAtWriteEnd.walsender)),
            benchClients: cpuPct(cpuAtWriteEnd.clients - cpu0.clients),
            benchWriter: Math.round(((cpuAtWriteEnd.writer.user + cpuAtWriteEnd.writer.system) / 1e6 / writeSeconds) * 100),
          },
          wireBytesPerMessage: final.frames ? Math.round(final.bytes / final.frames) : null,
        };
        steps.push(step);
        process.stderr.write(`[bench] RLS ${rls ? 'on ' : 'off'} ${rate} rows/s: ${JSON.stringify({ d: step.deliveredRatio, mps: step.messagesPerSecondDuringWrites, lat: step.latencyMs, drainMs, cpu: step.cpuPercentOfOneCoreDuringWrites })}\n`);
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

    const result = {
      benchmark: 'realtime',
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
      setup: {
        durationSecondsPerStep: DURATION_S,
        bodyBytes: BODY.length,
        processes: 'stack (PostgreSQL + PostgREST + realtime server) in a child Node process; raw ws clients (vsn 2.0.0) in a second child; writer (pg) in the parent; all on the same cores',
        latency: 'client receive time (performance.timeOrigin + now) − commit_timestamp; commit_timestamp is truncated to the ms, so figures read 0–1 ms high; every 7th frame sampled',
        messagesPerSecondDuringWrites: 'postgres_changes frames received by all clients while the writer ran / writer wall time',
        rlsSettleMs: `waited ${Number(process.env.RLS_SETTLE_MS ?? 0)} ms after enabling RLS (the server drops kept catalog facts on DDL announced in the replication stream, so no wait is needed; messagesToWrongClients checks it)`,
        stepping: 'rates are stepped up; stepping stops after a step whose p99 > 2 s, drain > 5 s or delivery < 90%',
      },
      targets: { rlsOffMessagesPerSecond: 100_000, rlsOnMessagesPerSecond: 30_000, p99Ms: 50 },
      supabasePublished: { rlsOff: '≈32,000 msgs/s at 500 clients, p95 184 ms', rlsOn: '≈3,000 msgs/s' },
      scenarios,
      totalSeconds: Math.round((Date.now() - started) / 1000),
    };
    mkdirSync(path.join(here, 'results'), { recursive: true });
    writeFileSync(path.join(here, 'results/realtime.json'), JSON.stringify(result, null, 2) + '\n');
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await db.end().catch(() => undefined);
    clients.send({ cmd: 'exit' });
    const pids = [info.pid, info.pids.postgres, info.pids.postgrest];
    server.stdin!.end();
    server.kill('SIGTERM');
    const deadline = Date.now() + 15_000;
    while (pids.some(alive) && Date.now() < deadline) await sleep(100);
    const left = pids.filter(alive);
    if (left.length) {
      process.stderr.write(`[bench] still running after stop: ${left.join(', ')}; killing\n`);
      for (const pid of left) process.kill(pid, 'SIGKILL');
    }
    if (clients.exitCode === null) clients.kill();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

/**
 * Limits benchmark (issue 10 §4). Prints JSON and writes it to bench/results/limits.json.
 *
 * (a) Memory after close: on the realtime server with the default limits (in a child started with
 *     `--expose-gc`, on the stack's database), one socket joins as many channels as it may (each
 *     with a postgres_changes binding), and one more join shows the refusal; then SOCKETS sockets
 *     join CHANNELS channels each, likewise. Heap after full collections: baseline, while held, and
 *     after every socket closed.
 * (b) A flooder's effect on everyone else: ROOMS rooms of one talker and LISTENERS listeners
 *     exchanging broadcasts at RATE per talker (latency = listener receive − talker send, one
 *     process, one clock), without and with a flooder (another process, sending as fast as its
 *     socket drains into a room of FLOOD_RECEIVERS, reconnecting whenever it is closed), on the
 *     server with the default limits and on one with limits out of the way; ratios within this run.
 *
 *   npm run bench:limits   (env: SOCKETS=100 CHANNELS=100 ROOMS=10 LISTENERS=4 RATE=20 SECONDS=8 FLOOD_RECEIVERS=10)
 */
import { execSync, fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const here = path.dirname(fileURLToPath(import.meta.url));
const SOCKETS = Number(process.env.SOCKETS ?? 100);
const CHANNELS = Number(process.env.CHANNELS ?? 100);
const ROOMS = Number(process.env.ROOMS ?? 10);
const LISTENERS = Number(process.env.LISTENERS ?? 4);
const RATE = Number(process.env.RATE ?? 20);
const SECONDS = Number(process.env.SECONDS ?? 8);
const FLOOD_RECEIVERS = Number(process.env.FLOOD_RECEIVERS ?? 10);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Ready {
  limitedUrl: string;
  unlimitedUrl: string;
  anonKey: string;
  pids: Record<string, number>;
}
interface Heap {
  heapUsedMb: number;
  externalMb: number;
  arrayBuffersMb: number;
  rssMb: number;
}

function ask<T>(child: ChildProcess, message: object, type: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (m: { type: string }) => {
      if (m.type !== type) return;
      child.off('message', onMessage);
      resolve(m as T);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

/** The machine's load when a phase starts: this benchmark shares 2 cores with whatever else runs. */
function load(): { loadavg: number[]; topProcesses: string[] } {
  let top: string[] = [];
  try {
    top = execSync('ps aux --sort=-%cpu | head -6', { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((line) => line.replace(/\s+/g, ' ').slice(0, 160));
  } catch {
    // ps missing: the load average still says something.
  }
  return { loadavg: os.loadavg().map((n) => +n.toFixed(2)), topProcesses: top };
}

/** A raw vsn 1.0.0 socket that hands every parsed frame to `onFrame`. */
function connect(url: string, apikey: string, onFrame: (frame: { topic: string; event: string; ref: string | null; payload: any }) => void): Promise<WebSocket> {
  const socket = new WebSocket(`${url}/websocket?apikey=${encodeURIComponent(apikey)}&vsn=1.0.0`);
  socket.on('message', (data) => onFrame(JSON.parse(String(data))));
  return new Promise((resolve, reject) => socket.once('open', () => resolve(socket)).once('error', reject));
}

const frame = (topic: string, event: string, ref: string, payload: object) => JSON.stringify({ topic, event, ref, join_ref: ref, payload });

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return +sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(2);
}

// ---------- (a) memory ----------

/**
 * Joins `count` channels on `socket`, each with a postgres_changes binding; resolves with the join
 * replies' reasons (null: ok) and how many channels said "Subscribed to PostgreSQL".
 */
async function joinMany(url: string, apikey: string, prefix: string, count: number, extra = 0) {
  const replies = new Map<string, string | null>();
  let subscribed = 0;
  const socket = await connect(url, apikey, (f) => {
    if (f.event === 'phx_reply' && f.ref?.startsWith(prefix)) replies.set(f.ref, f.payload.status === 'ok' ? null : String(f.payload.response?.reason));
    else if (f.event === 'system' && f.payload.message === 'Subscribed to PostgreSQL') subscribed++;
  });
  const send = (i: number) => {
    const binding = { event: '*', schema: 'public', table: 'bench_limits', filter: `id=eq.${i}` };
    socket.send(frame(`realtime:${prefix}${i}`, 'phx_join', `${prefix}${i}`, { config: { postgres_changes: [binding] } }));
  };
  const settle = async (replyCount: number) => {
    const deadline = Date.now() + 120_000;
    while ((replies.size < replyCount || subscribed < count) && Date.now() < deadline) await sleep(50);
  };
  for (let i = 0; i < count; i++) send(i);
  await settle(count);
  if (extra > 0) {
    // Past the join burst too, so the refusals are for the channel cap (the join rate refills meanwhile).
    await sleep(1100);
    for (let i = count; i < count + extra; i++) send(i);
    await settle(count + extra);
  }
  return { socket, replies: [...replies.values()], subscribed };
}

async function memory(server: ChildProcess, ready: Ready) {
  const heap = () => ask<{ reading: Heap }>(server, { cmd: 'heap' }, 'heap').then((m) => m.reading);
  const closeAll = async (sockets: WebSocket[]) => {
    await Promise.all(sockets.map((socket) => new Promise((resolve) => (socket.once('close', resolve), socket.close()))));
  };
  // Warm-up: code paths compiled and the database's catalog facts cached before the baseline.
  const warm = await joinMany(ready.limitedUrl, ready.anonKey, 'warm-', 20);
  await closeAll([warm.socket]);
  await sleep(1000);
  const baseline = await heap();

  const t0 = performance.now();
  const one = await joinMany(ready.limitedUrl, ready.anonKey, 'one-', CHANNELS, 1);
  const oneMs = Math.round(performance.now() - t0);
  const refusals = one.replies.filter((r) => r !== null);
  const afterOne = await heap();

  const t1 = performance.now();
  const many = await Promise.all(Array.from({ length: SOCKETS }, (_, s) => joinMany(ready.limitedUrl, ready.anonKey, `m${s}-`, CHANNELS)));
  const manyMs = Math.round(performance.now() - t1);
  const held = await heap();

  const sockets = [one.socket, ...many.map((m) => m.socket)];
  await closeAll(sockets);
  await sleep(1000);
  const afterClose = await heap();
  await sleep(5000);
  const afterCloseSettled = await heap();
  return {
    oneSocket: {
      channelsAsked: CHANNELS + 1,
      joined: one.replies.length - refusals.length,
      subscribedToPostgres: one.subscribed,
      refusals,
      joinMs: oneMs,
    },
    manySockets: {
      sockets: SOCKETS,
      channelsEach: CHANNELS,
      joined: many.reduce((sum, m) => sum + m.replies.filter((r) => r === null).length, 0),
      subscribedToPostgres: many.reduce((sum, m) => sum + m.subscribed, 0),
      joinMs: manyMs,
    },
    heapMb: {
      baseline: baseline.heapUsedMb,
      afterOneSocket: afterOne.heapUsedMb,
      whileHeld: held.heapUsedMb,
      oneSecondAfterClose: afterClose.heapUsedMb,
      sixSecondsAfterClose: afterCloseSettled.heapUsedMb,
      retainedAfterClose: +(afterCloseSettled.heapUsedMb - baseline.heapUsedMb).toFixed(1),
    },
    rssMb: { baseline: baseline.rssMb, whileHeld: held.rssMb, afterClose: afterCloseSettled.rssMb },
  };
}

// ---------- (b) flood impact ----------

async function latencies(url: string, apikey: string, flooder: ChildProcess | null, seconds = SECONDS) {
  const samples: number[] = [];
  let measuring = false;
  const sockets: WebSocket[] = [];
  const talkers: Array<{ socket: WebSocket; topic: string }> = [];
  let expected = 0;
  let delivered = 0;
  for (let r = 0; r < ROOMS; r++) {
    const topic = `realtime:calm-${r}-${Math.random().toString(36).slice(2)}`;
    for (let l = 0; l < LISTENERS; l++) {
      const socket = await connect(url, apikey, (f) => {
        if (f.event !== 'broadcast' || !measuring) return;
        delivered++;
        samples.push(performance.now() - (f.payload.payload as { t: number }).t);
      });
      socket.send(frame(topic, 'phx_join', 'j', { config: {} }));
      sockets.push(socket);
    }
    const talker = await connect(url, apikey, () => undefined);
    talker.send(frame(topic, 'phx_join', 'j', { config: {} }));
    sockets.push(talker);
    talkers.push({ socket: talker, topic });
  }
  await sleep(500);
  let flood: Record<string, unknown> | undefined;
  if (flooder) {
    await ask(flooder, { cmd: 'start', url, apikey, topic: `realtime:flood-${Math.random().toString(36).slice(2)}`, receivers: FLOOD_RECEIVERS }, 'started');
    await sleep(1000);
  }
  // Talkers on a fixed schedule (catching up when late), rooms staggered over the interval.
  measuring = true;
  const start = performance.now();
  const end = start + seconds * 1000;
  const interval = 1000 / RATE;
  let tick = 0;
  while (performance.now() < end) {
    const due = start + tick * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    for (const { socket, topic } of talkers) {
      if (socket.readyState !== WebSocket.OPEN) continue;
      socket.send(frame(topic, 'broadcast', 'b', { type: 'broadcast', event: 'tick', payload: { t: performance.now() } }));
      expected += LISTENERS;
    }
    tick++;
  }
  await sleep(1000);
  measuring = false;
  if (flooder) flood = await ask<Record<string, unknown>>(flooder, { cmd: 'stop' }, 'stopped');
  for (const socket of sockets) socket.terminate();
  samples.sort((a, b) => a - b);
  const { type: _type, ...flooderStats } = flood ?? {};
  return {
    expected,
    delivered,
    latencyMs: { samples: samples.length, p50: percentile(samples, 50), p99: percentile(samples, 99), max: samples.length ? +samples[samples.length - 1]!.toFixed(1) : null },
    ...(flood && { flooder: { ...flooderStats, sentPerSecond: Math.round(Number(flood.sent) / (seconds + 2)) } }),
  };
}

async function floodImpact(ready: Ready) {
  const flooder = fork(path.join(here, 'limits/flooder.ts'), [], { execArgv: ['--import', 'tsx'] });
  try {
    const run = async (url: string) => {
      // Unmeasured: warms up both ends' code paths for this server.
      await latencies(url, ready.anonKey, null, 2);
      const quiet = await latencies(url, ready.anonKey, null);
      const flooded = await latencies(url, ready.anonKey, flooder);
      const ratio = (a: number | null, b: number | null) => (a !== null && b ? +(a / b).toFixed(2) : null);
      return { quiet, flooded, p50Ratio: ratio(flooded.latencyMs.p50, quiet.latencyMs.p50), p99Ratio: ratio(flooded.latencyMs.p99, quiet.latencyMs.p99) };
    };
    return { defaultLimits: await run(ready.limitedUrl), limitsOff: await run(ready.unlimitedUrl) };
  } finally {
    flooder.send({ cmd: 'exit' });
  }
}

async function main() {
  const started = Date.now();
  const loadAtStart = load();
  const server = fork(path.join(here, 'limits/server.ts'), [], { execArgv: ['--expose-gc', '--import', 'tsx'] });
  const ready = await new Promise<Ready>((resolve, reject) => {
    server.once('message', (m) => resolve(m as Ready));
    server.once('exit', (code) => reject(new Error(`server child exited with ${code}`)));
  });
  try {
    const memoryResult = await memory(server, ready);
    process.stderr.write(`[bench] memory: ${JSON.stringify(memoryResult.heapMb)}\n`);
    const loadBeforeFlood = load();
    const flood = await floodImpact(ready);
    process.stderr.write(`[bench] flood p99 ratio: default limits ${flood.defaultLimits.p99Ratio}, limits off ${flood.limitsOff.p99Ratio}\n`);
    const result = {
      benchmark: 'limits',
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
      load: { atStart: loadAtStart, beforeFloodPhase: loadBeforeFlood },
      setup: {
        processes: 'stack + two realtime servers (default limits; limits out of the way) in one child with --expose-gc; flooder and its room in a second child; latency clients in this process; all on the same cores',
        memory: `heap after 6 full collections; ${SOCKETS} sockets × ${CHANNELS} channels plus one socket joining ${CHANNELS + 1}, each channel with one postgres_changes binding (filter id=eq.<i>), on the default-limits server`,
        flood: `${ROOMS} rooms × (1 talker at ${RATE}/s + ${LISTENERS} listeners), vsn 1.0.0, ${SECONDS} s measured per run; the flooder sends 100-byte broadcasts as fast as its socket drains into a room of ${FLOOD_RECEIVERS} receivers and reconnects whenever closed`,
      },
      memory: memoryResult,
      flood,
      totalSeconds: Math.round((Date.now() - started) / 1000),
    };
    mkdirSync(path.join(here, 'results'), { recursive: true });
    writeFileSync(path.join(here, 'results/limits.json'), JSON.stringify(result, null, 2) + '\n');
    console.log(JSON.stringify(result, null, 2));
  } finally {
    server.send({ cmd: 'exit' });
    await new Promise((resolve) => server.once('exit', resolve));
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

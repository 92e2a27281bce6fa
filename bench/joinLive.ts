/**
 * Join-to-live time: how long a join with a postgres_changes binding takes to be answered now that
 * its reply waits until the binding is live (issue 10), against a join without bindings (answered
 * at once) on the same server, in one run. Raw sockets on the stack's realtime server:
 *
 * - `sequential`: one channel at a time on one socket (the latency a single subscribe sees);
 * - `burst`: CHANNELS joins sent at once on one socket (a client rejoining after a reconnect), each
 *   measured from the burst's start to its reply (the last one is the time until all are live);
 * - `burstSockets`: the same burst spread over SOCKETS sockets.
 *
 * Prints JSON and writes bench/results/join-live.json.
 *
 *   npm run bench:join-live        (env: ROUNDS=200 CHANNELS=100 SOCKETS=10)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { createRealtimeServer, startStack } from '../lib/server/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.ROUNDS ?? 200);
const CHANNELS = Number(process.env.CHANNELS ?? 100);
const SOCKETS = Number(process.env.SOCKETS ?? 10);

interface Socket {
  ws: WebSocket;
  /** Resolves the reply of ref, with when it arrived. */
  waiters: Map<string, (at: number) => void>;
}

async function open(url: string, apikey: string): Promise<Socket> {
  const ws = new WebSocket(`${url}/websocket?apikey=${apikey}&vsn=1.0.0`);
  const waiters = new Map<string, (at: number) => void>();
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as { event: string; ref: string | null; payload: { status?: string } };
    if (message.event !== 'phx_reply' || message.ref === null) return;
    if (message.payload.status !== 'ok') throw new Error(`join refused: ${JSON.stringify(message.payload)}`);
    waiters.get(message.ref)?.(performance.now());
    waiters.delete(message.ref);
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return { ws, waiters };
}

let nextRef = 0;
/** Sends a join (with a binding when `bound`); resolves with ms from send to reply. */
function join(socket: Socket, bound: boolean, from = performance.now()): Promise<number> {
  const ref = String(++nextRef);
  const config = bound ? { postgres_changes: [{ event: 'INSERT', schema: 'public', table: 'join_live_rows', filter: `channel=eq.${ref}` }] } : {};
  const done = new Promise<number>((resolve) => socket.waiters.set(ref, (at) => resolve(at - from)));
  socket.ws.send(JSON.stringify({ topic: `realtime:jl-${ref}`, event: 'phx_join', ref, join_ref: ref, payload: { config } }));
  return done;
}

function leaveAll(socket: Socket, from: number, to: number): void {
  for (let ref = from; ref <= to; ref++) socket.ws.send(JSON.stringify({ topic: `realtime:jl-${ref}`, event: 'phx_leave', ref: `l${ref}`, join_ref: String(ref), payload: {} }));
}

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(2));
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: Number(sorted[sorted.length - 1]!.toFixed(2)) };
}

async function main(): Promise<void> {
  const stack = await startStack({ sql: 'create table join_live_rows (id int4 primary key, channel int4 not null);' });
  // A server of its own: the sequential rounds join faster than the default 100 joins/s per connection.
  const server = await createRealtimeServer({ databaseUrl: stack.databaseUrl, jwtSecret: stack.jwtSecret, maxJoinsPerSecond: 1_000_000 });
  try {
    const url = server.url;
    const key = stack.anonKey;
    const results: Record<string, unknown> = {};
    for (const bound of [false, true]) {
      const label = bound ? 'withBinding' : 'withoutBinding';
      const socket = await open(url, key);
      // Warm-up: catalog sessions, prepared statements.
      const firstWarm = nextRef + 1;
      for (let i = 0; i < 20; i++) await join(socket, bound);
      leaveAll(socket, firstWarm, nextRef);
      const sequential: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const first = nextRef + 1;
        sequential.push(await join(socket, bound));
        leaveAll(socket, first, nextRef);
      }
      const burstStart = performance.now();
      const firstOfBurst = nextRef + 1;
      const burst = await Promise.all(Array.from({ length: CHANNELS }, () => join(socket, bound, burstStart)));
      leaveAll(socket, firstOfBurst, nextRef);
      socket.ws.close();

      const sockets = await Promise.all(Array.from({ length: SOCKETS }, () => open(url, key)));
      const spreadStart = performance.now();
      const spread = await Promise.all(Array.from({ length: CHANNELS }, (_, i) => join(sockets[i % SOCKETS]!, bound, spreadStart)));
      for (const s of sockets) s.ws.close();
      results[label] = { sequentialMs: stats(sequential), burstMs: stats(burst), burstSocketsMs: stats(spread) };
    }
    const output = {
      benchmark: 'join-live',
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, load1: os.loadavg()[0] },
      settings: { rounds: ROUNDS, channelsPerBurst: CHANNELS, socketsForSpreadBurst: SOCKETS },
      results,
    };
    const json = JSON.stringify(output, null, 2);
    console.log(json);
    mkdirSync(path.join(here, 'results'), { recursive: true });
    writeFileSync(path.join(here, 'results', 'join-live.json'), `${json}\n`);
  } finally {
    await server.close();
    await stack.stop();
  }
}

await main();

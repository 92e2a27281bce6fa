/**
 * Outbox replay benchmark against a real PostgreSQL + PostgREST: 1,000 writes made while the app is
 * offline (queued in the store), then the network comes back; how fast the outbox drains (writes/s
 * from "online" until it is empty), against the same 1,000 writes sent online one after another
 * (each awaited: the outbox replays one at a time too) in the same run. Then the same replay where
 * every insert is sent in the form that can't apply twice (as after a lost answer: on_conflict +
 * resolution=ignore-duplicates), and once more with the same writes, as if every first send had
 * landed and every answer was lost: each insert is skipped and its row read back. Exactly once is
 * verified in SQL (1,000 distinct rows per run, written in the order made), and every write's result
 * is its row.
 *
 *   npm run bench:outbox      (env: WRITES=1000)
 */
import { configureStore } from '@reduxjs/toolkit';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { WebSocket } from 'ws';
import { createPostgrestApi } from '../lib/api/index.js';
import { from, type PostgrestRequest } from '../lib/postgrest/index.js';
import { startStack } from '../lib/server/index.js';
import { createSyncMiddleware } from '../lib/sync/index.js';
import { machine, run, writeResult } from './support/results.js';

const WRITES = Number(process.env.WRITES ?? 1000);

run(async () => {
  const stack = await startStack({
    sql: `create table bench_outbox (id uuid primary key, run text not null, seq int4 not null, title text not null, written_at timestamptz not null default clock_timestamp());`,
  });
  const db = new pg.Client({ connectionString: stack.databaseUrl });
  let result: object;
  await db.connect();
  try {
    const makeStore = () => {
      const api = createPostgrestApi({ url: stack.postgrestUrl, apiKey: stack.serviceKey });
      const sync = createSyncMiddleware({ api, url: stack.realtimeUrl, apiKey: stack.anonKey, WebSocket: WebSocket as never, environment: false, onWarning: () => undefined });
      const store = configureStore({
        reducer: { [api.reducerPath]: api.reducer, [sync.reducerPath]: sync.reducer },
        middleware: (getDefault) => getDefault({ serializableCheck: false, immutableCheck: false }).concat(api.middleware, sync.middleware),
      });
      return { api, sync, store };
    };
    const writes = (run: string) => Array.from({ length: WRITES }, (_, i) => from('bench_outbox').insert({ id: randomUUID(), run, seq: i + 1, title: `write ${i + 1}` }).select('id,seq'));
    /** Exactly once, in order: the run's rows, distinct, their seq in the order PostgreSQL wrote them. */
    const verify = async (run: string) => {
      const { rows } = await db.query(`select seq from bench_outbox where run = $1 order by written_at, seq`, [run]);
      const inOrder = rows.every((row, i) => row.seq === i + 1);
      if (rows.length !== WRITES || !inOrder) throw new Error(`${run}: ${rows.length} rows (want ${WRITES}), in order: ${inOrder}`);
      return { rows: rows.length, inOrder };
    };

    // Online, one after another (the baseline: the same requests, each awaited).
    const online = makeStore();
    const sequentialRun = `sequential-${Date.now()}`;
    const sequentialWrites = writes(sequentialRun);
    const start = performance.now();
    for (const write of sequentialWrites) await online.store.dispatch(online.api.endpoints.write.initiate(write as never));
    const sequentialMs = performance.now() - start;
    const sequential = await verify(sequentialRun);

    /** The inserts in the form the outbox sends after a lost answer (on_conflict + resolution=ignore-duplicates). */
    const idempotentForm = (planned: PostgrestRequest[]) => planned.map((request) => ({ ...request, query: [...request.query, ['on_conflict', 'id'] as [string, string]], headers: { ...request.headers, Prefer: `${request.headers.Prefer},resolution=ignore-duplicates` } }));
    /** Queues the writes offline, then measures the drain once online. */
    const replay = async (runName: string, planned: PostgrestRequest[]) => {
      const harness = makeStore();
      const label = runName;
      harness.store.dispatch(harness.sync.actions.environmentChanged({ online: false }));
      const running = planned.map((request) => harness.store.dispatch(harness.api.endpoints.write.initiate(request as never)));
      for (let i = 0; i < 200 && harness.sync.selectors.selectOutbox(harness.store.getState()).length < WRITES; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      const queued = harness.sync.selectors.selectOutbox(harness.store.getState()).length;
      const began = performance.now();
      harness.store.dispatch(harness.sync.actions.environmentChanged({ online: true }));
      const results = await Promise.all(running);
      const ms = performance.now() - began;
      const failed = results.filter((result) => 'error' in result && result.error !== undefined).length;
      // Every write answered with its row (a skipped insert's row read back).
      const answered = results.filter((result, i) => 'data' in result && Array.isArray(result.data) && (result.data as Array<{ seq: number }>)[0]?.seq === i + 1).length;
      if (answered !== WRITES) throw new Error(`${label}: ${answered} of ${WRITES} writes answered with their row`);
      if (failed > 0 || harness.sync.selectors.selectOutbox(harness.store.getState()).length > 0) throw new Error(`${label}: ${failed} writes failed`);
      return { queued, ms: Math.round(ms), writesPerSecond: Math.round((WRITES / ms) * 1000), ...(await verify(runName)) };
    };
    const plainRun = `replay-${Date.now()}`;
    const drained = await replay(plainRun, writes(plainRun).map((write) => write.toRequest()));
    const idempotentRun = `replay-idempotent-${Date.now()}`;
    const idempotentRequests = idempotentForm(writes(idempotentRun).map((write) => write.toRequest()));
    const idempotent = await replay(idempotentRun, idempotentRequests);
    // The same 1,000 again, as if every first send had landed and every answer was lost: each insert
    // is skipped by PostgreSQL and its row read back; still 1,000 rows.
    const lost = await replay(idempotentRun, idempotentRequests);
    result = {
      machine: machine(),
      writes: WRITES,
      sequentialOnline: { ms: Math.round(sequentialMs), writesPerSecond: Math.round((WRITES / sequentialMs) * 1000), ...sequential },
      outboxReplay: drained,
      outboxReplayIdempotentInserts: idempotent,
      outboxReplayAllAnswersLost: lost,
      ratios: {
        replayVsSequential: Math.round((drained.writesPerSecond / Math.round((WRITES / sequentialMs) * 1000)) * 100) / 100,
        idempotentVsPlainReplay: Math.round((idempotent.writesPerSecond / drained.writesPerSecond) * 100) / 100,
        allLostVsPlainReplay: Math.round((lost.writesPerSecond / drained.writesPerSecond) * 100) / 100,
      },
    };
  } finally {
    await db.end();
    await stack.stop();
  }
  writeResult('outbox', result);
});

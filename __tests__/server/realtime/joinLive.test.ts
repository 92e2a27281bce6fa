/**
 * SUBSCRIBED means live: a join with postgres_changes bindings is answered only once they are
 * registered and the replication stream is live, so a write committed right after the stock
 * client reports SUBSCRIBED reaches the channel; `postgres_changes_options: { wait: true, timeout }`
 * turns a binding that can't be live into CHANNEL_ERROR with the reason.
 */
import type { RealtimeChannel, RealtimeClient } from '@supabase/realtime-js';
import { createRealtimeServer, type RealtimeServer } from '../../../lib/server/realtime/server.js';
import { testStack, sql, closeSql } from '../../support/stack';
import { expectEventually } from '../../support/eventually';
import { officialClients } from './realtimeHarness';

const stack = testStack();
const clients = officialClients(stack.anonKey);
const servers: RealtimeServer[] = [];
let nextChannel = 0;

const client = (url = stack.realtimeUrl) => clients.open(url);

/** A channel hearing the inserts of jl_rows with its own `channel` number. */
function rowsChannel(c: RealtimeClient, options: { wait?: boolean; timeout?: number; table?: string } = {}) {
  const number = ++nextChannel;
  const config = options.wait === undefined ? {} : { postgres_changes_options: { wait: options.wait, ...(options.timeout !== undefined && { timeout: options.timeout }) } };
  const channel = c.channel(`jl-${process.pid}-${number}`, { config: config as never });
  const got: number[] = [];
  channel.on('postgres_changes' as never, { event: 'INSERT', schema: 'public', table: options.table ?? 'jl_rows', filter: `channel=eq.${number}` } as never, (change: { new: { id: number } }) => got.push(change.new.id));
  return { channel, number, got };
}

/** Subscribes; on SUBSCRIBED, commits a row for the channel at once (before resolving). */
function subscribeThenWrite(entry: { channel: RealtimeChannel; number: number }): Promise<{ status: string; err?: Error; written?: number }> {
  return new Promise((resolve) => {
    entry.channel.subscribe((status, err) => {
      if (status !== 'SUBSCRIBED') return resolve({ status, ...(err && { err }) });
      const id = entry.number * 1000;
      void sql('insert into jl_rows (id, channel) values ($1, $2)', [id, entry.number]).then(() => resolve({ status, written: id }));
    });
  });
}

beforeAll(async () => {
  await sql('create table if not exists jl_rows (id int4 primary key, channel int4 not null)');
});

afterAll(async () => {
  clients.closeAll();
  for (const server of servers) await server.close();
  await closeSql();
});

it('without options, each of 20 channels on one socket gets the write committed right after its SUBSCRIBED', async () => {
  const c = client();
  const entries = Array.from({ length: 20 }, () => rowsChannel(c));
  const results = await Promise.all(entries.map(subscribeThenWrite));
  expect(results.map((r) => r.status)).toEqual(entries.map(() => 'SUBSCRIBED'));
  await expectEventually(() => expect(entries.map((e) => e.got)).toEqual(results.map((r) => [r.written])));
});

it('with wait: true, SUBSCRIBED comes once live, and writes right after it arrive on every channel', async () => {
  const c = client();
  const entries = Array.from({ length: 10 }, () => rowsChannel(c, { wait: true }));
  const results = await Promise.all(entries.map(subscribeThenWrite));
  expect(results.map((r) => r.status)).toEqual(entries.map(() => 'SUBSCRIBED'));
  await expectEventually(() => expect(entries.map((e) => e.got)).toEqual(results.map((r) => [r.written])));
});

it('with wait: true, an unknown table is CHANNEL_ERROR naming the table', async () => {
  const entry = rowsChannel(client(), { wait: true, table: 'no_such_table_jl' });
  const result = await subscribeThenWrite(entry);
  expect(result.status).toBe('CHANNEL_ERROR');
  expect(result.err?.message).toContain('no_such_table_jl');
});

it('without options, an unknown table is answered ok, then a system error (Supabase\'s behaviour)', async () => {
  const entry = rowsChannel(client(), { table: 'no_such_table_jl2' });
  const system: Array<{ status?: string; message?: string }> = [];
  entry.channel.on('system', {}, (payload) => system.push(payload as { status?: string; message?: string }));
  const result = await subscribeThenWrite(entry);
  expect(result.status).toBe('SUBSCRIBED');
  await expectEventually(() => expect(system).toContainEqual(expect.objectContaining({ status: 'error', message: expect.stringContaining('no_such_table_jl2') })));
});

it('with wait: true, a timeout past the server\'s maximum is clamped to it: PostgresChangesSubscribeTimeout', async () => {
  // A maximum far below what registering a binding takes: the wait always times out.
  const server = await createRealtimeServer({ jwtSecret: stack.jwtSecret, databaseUrl: stack.databaseUrl, maxJoinWaitMs: 1, onError: () => undefined });
  servers.push(server);
  const entry = rowsChannel(client(server.url), { wait: true, timeout: 15_000 });
  const started = Date.now();
  const result = await subscribeThenWrite(entry);
  expect(result.status).toBe('CHANNEL_ERROR');
  expect(result.err?.message).toContain('PostgresChangesSubscribeTimeout: the postgres_changes subscription was not live within 1 ms');
  // Refused by the server, not by the client's own 25 s join timeout.
  expect(Date.now() - started).toBeLessThan(10_000);
});

it('a client that did not ask to wait is answered ok after joinHoldMs at most, and "Subscribed to PostgreSQL" follows when live', async () => {
  const server = await createRealtimeServer({ jwtSecret: stack.jwtSecret, databaseUrl: stack.databaseUrl, joinHoldMs: 1, onError: () => undefined });
  servers.push(server);
  const entry = rowsChannel(client(server.url));
  const system: Array<{ status?: string; message?: string }> = [];
  entry.channel.on('system', {}, (payload) => system.push(payload as { status?: string; message?: string }));
  const result = await subscribeThenWrite(entry);
  expect(result.status).toBe('SUBSCRIBED');
  await expectEventually(() => expect(system).toContainEqual(expect.objectContaining({ status: 'ok', message: 'Subscribed to PostgreSQL' })));
});

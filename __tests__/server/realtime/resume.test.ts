/**
 * Our protocol additions for never missing a change (docs/realtime-protocol-extensions.md): a join
 * that resumes after a stream position gets exactly the changes it missed, then live ones, without
 * gaps or duplicates; when the server can't do that it says "resync" (position too old or unknown,
 * replication connection lost, TRUNCATE). Raw sockets: the stock client can't send `resume_after`.
 */
import pg from 'pg';
import { WebSocket } from 'ws';
import { createRealtimeServer, type RealtimeServer } from '../../../lib/server/realtime/server.js';
import { startStack, type Stack } from '../../../lib/server/stack/index.js';
import { changeIds as ids, type ChangePayload, type Frame, type SystemPayload } from './rawChannels';
import { waitFor } from './realtimeHarness';

const SQL = `
  create table events (id int4 primary key, kind text not null, body text);
  create table other (id int4 primary key);
  create table secrets (id int4 primary key, owner text not null);
  alter table secrets enable row level security;
  grant select on secrets to authenticated;
  create policy own on secrets for select to authenticated using (owner = auth.uid()::text);
`;

let stack: Stack;
let db: pg.Client;
const sockets: WebSocket[] = [];
const servers: RealtimeServer[] = [];
let nextId = 0;
let topicCounter = 0;

beforeAll(async () => {
  stack = await startStack({
    sql: `create schema if not exists auth;
      create or replace function auth.uid() returns uuid language sql stable as $$ select nullif(current_setting('request.jwt.claims', true)::json ->> 'sub', '')::uuid $$;
      grant usage on schema auth to anon, authenticated; ${SQL}`,
  });
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
});

afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  for (const server of servers) await server.close();
  await db?.end();
  await stack?.stop();
});

/** A raw vsn 1.0.0 socket on `url` and every frame it received. */
async function connect(url = stack.realtimeUrl, apikey = stack.anonKey): Promise<{ socket: WebSocket; frames: Frame[] }> {
  const socket = new WebSocket(`${url}/websocket?apikey=${apikey}&vsn=1.0.0`);
  sockets.push(socket);
  const frames: Frame[] = [];
  socket.on('message', (data) => frames.push(JSON.parse(String(data)) as Frame));
  await new Promise((resolve, reject) => socket.on('open', resolve).on('error', reject));
  return { socket, frames };
}

interface Joined {
  socket: WebSocket;
  frames: Frame[];
  topic: string;
  /** postgres_changes payloads received on this channel, in order. */
  changes(): ChangePayload[];
  systems(): SystemPayload[];
  /** Waits for the "Subscribed to PostgreSQL" system message. */
  subscribed(): Promise<SystemPayload>;
}

async function join(
  config: Record<string, unknown>,
  options: { url?: string; apikey?: string; accessToken?: string; table?: string; filter?: string } = {},
): Promise<Joined> {
  const { socket, frames } = await connect(options.url, options.apikey);
  const topic = `realtime:resume-${++topicCounter}`;
  const binding = { event: '*', schema: 'public', table: options.table ?? 'events', ...(options.filter && { filter: options.filter }) };
  const payload = { config: { postgres_changes: [binding], ...config }, ...(options.accessToken && { access_token: options.accessToken }) };
  socket.send(JSON.stringify({ topic, event: 'phx_join', ref: '1', join_ref: '1', payload }));
  const on = (event: string) => frames.filter((frame) => frame.topic === topic && frame.event === event).map((frame) => frame.payload);
  const systems = () => on('system') as unknown as SystemPayload[];
  return {
    socket,
    frames,
    topic,
    changes: () => on('postgres_changes') as unknown as ChangePayload[],
    systems,
    subscribed: () => waitFor(() => systems().find((message) => message.message === 'Subscribed to PostgreSQL')),
  };
}


async function insertEvents(count: number, kind = 'a'): Promise<number[]> {
  const inserted: number[] = [];
  for (let i = 0; i < count; i++) {
    const id = ++nextId;
    await db.query('insert into events (id, kind) values ($1, $2)', [id, kind]);
    inserted.push(id);
  }
  return inserted;
}

/**
 * Waits until `joined` got the row `id`: its server has then streamed every commit up to that one
 * (and logged it for resuming joins). A commit reaches the replication stream a moment after it
 * returns, so a join right after a write may otherwise find the server hasn't heard of it yet.
 */
async function received(joined: Joined, id: number): Promise<void> {
  await waitFor(() => (ids(joined.changes()).includes(id) ? true : undefined));
}

/** Inserts a row that every `events` subscriber hears and waits until `joined` got it: everything committed before has arrived too. */
async function settle(joined: Joined): Promise<void> {
  const [sentinel] = await insertEvents(1);
  await received(joined, sentinel!);
}

describe('resuming a join after a stream position', () => {
  it('replays exactly the changes after the position, in order, then goes live', async () => {
    const watcher = await join({}); // stays connected: tells when the server has heard the missed changes
    await watcher.subscribed();
    const first = await join({});
    const subscribed = await first.subscribed();
    expect(subscribed.position).toMatch(/^[0-9A-F]{16}:[0-9A-F]{8}$/);
    const seen = await insertEvents(3);
    await waitFor(() => (first.changes().length === 3 ? true : undefined));
    const resumeAfter = first.changes()[0]!.position; // as if the client only applied the first one
    first.socket.terminate();

    const missed = await insertEvents(4);
    await db.query('insert into other (id) values ($1)', [++nextId]); // another table: not replayed
    await received(watcher, missed[missed.length - 1]!);
    const second = await join({ resume_after: resumeAfter });
    const done = await second.subscribed();
    expect(done).toMatchObject({ status: 'ok', resumed: true });
    // Replayed before "Subscribed": the two it had not applied and the four it missed, once each.
    const replayed = ids(second.changes());
    expect(replayed).toEqual([...seen.slice(1), ...missed]);
    const positions = second.changes().map((change) => change.position);
    expect([...positions].sort()).toEqual(positions);
    expect(positions[0]! > resumeAfter).toBe(true);

    const live = await insertEvents(2);
    await waitFor(() => (second.changes().length === replayed.length + 2 ? true : undefined));
    expect(ids(second.changes())).toEqual([...replayed, ...live]);
    expect(second.systems().filter((message) => message.resync)).toEqual([]);
  });

  it('replays nothing when the client is up to date, and its "Subscribed" position resumes too', async () => {
    const first = await join({});
    const { position } = await first.subscribed();
    first.socket.terminate();
    const second = await join({ resume_after: position });
    expect(await second.subscribed()).toMatchObject({ resumed: true });
    const missed = await insertEvents(1);
    await waitFor(() => (second.changes().length === 1 ? true : undefined));
    expect(ids(second.changes())).toEqual(missed);
  });

  it('neither loses nor repeats a change while writes go on during the join', async () => {
    const first = await join({});
    await first.subscribed();
    await insertEvents(1);
    await waitFor(() => (first.changes().length === 1 ? true : undefined));
    const resumeAfter = first.changes()[0]!.position;
    const firstId = ids(first.changes())[0]!;
    first.socket.terminate();

    let writing = true;
    const writer = (async () => {
      while (writing) await insertEvents(1, 'concurrent');
    })();
    try {
      await insertEvents(20);
      const second = await join({ resume_after: resumeAfter });
      await second.subscribed();
      await insertEvents(20);
      writing = false;
      await writer;
      await settle(second);
      // Every row inserted after the resume point, each once, in commit (= id) order.
      const { rows } = await db.query<{ id: number }>('select id from events where id > $1 order by id', [firstId]);
      expect(ids(second.changes())).toEqual(rows.map((row) => row.id));
    } finally {
      writing = false;
      await writer;
    }
  });

  it('replays only what the filter and RLS let the channel see', async () => {
    const owner = '11111111-1111-4111-8111-111111111111';
    const stranger = '22222222-2222-4222-8222-222222222222';
    const token = stack.signToken({ sub: owner });
    const watcher = await join({}, { table: 'secrets', accessToken: token }); // no filter: hears the last insert
    await watcher.subscribed();
    const first = await join({}, { table: 'secrets', accessToken: token, filter: 'id=gt.0' });
    const { position } = await first.subscribed();
    first.socket.terminate();
    const mine = [++nextId, ++nextId];
    await db.query('insert into secrets (id, owner) values ($1, $2), ($3, $4), ($5, $2)', [mine[0], owner, ++nextId, stranger, mine[1]]);
    const filteredOut = -1 * ++nextId; // filtered out for the channels filtering id=gt.0
    await db.query('insert into secrets (id, owner) values ($1, $2)', [filteredOut, owner]);
    await received(watcher, filteredOut);
    const second = await join({ resume_after: position }, { table: 'secrets', accessToken: token, filter: 'id=gt.0' });
    await second.subscribed();
    expect(ids(second.changes())).toEqual(mine);
  });

  it('says "resync" when the position is older than what the server holds', async () => {
    const server = await createRealtimeServer({ jwtSecret: stack.jwtSecret, databaseUrl: stack.databaseUrl, resumeLogSize: 3 });
    servers.push(server);
    const watcher = await join({}, { url: server.url }); // stays connected: tells when the server has heard the five
    await watcher.subscribed();
    const first = await join({}, { url: server.url });
    const { position } = await first.subscribed();
    first.socket.terminate();
    const inserted = await insertEvents(5);
    // Only once the server has heard all five does its log (3 entries) no longer reach back to `position`.
    await received(watcher, inserted[inserted.length - 1]!);
    const second = await join({ resume_after: position }, { url: server.url });
    const done = await second.subscribed();
    const [resync] = second.systems().filter((message) => message.resync);
    expect(resync).toMatchObject({ extension: 'postgres_changes', status: 'ok', resync: true, reason: 'resume_too_old' });
    expect(resync!.message).toMatch(/^Resync needed/);
    expect(done).toMatchObject({ resumed: false });
    // Nothing replayed (a partial replay would look complete), and everything after the resync position arrives.
    expect(second.changes()).toEqual([]);
    await settle(second);
    expect(second.changes().every((change) => change.position > resync!.position!)).toBe(true);
  });

  it('says "resync" for a position beyond the stream (another database, a forged value)', async () => {
    const joined = await join({ resume_after: 'FFFFFFFF00000000:00000000' });
    await joined.subscribed();
    expect(joined.systems().find((message) => message.resync)).toMatchObject({ reason: 'resume_unknown_position' });
  });

  it('refuses a join whose resume_after is not a stream position, naming the field', async () => {
    const { socket, frames } = await connect();
    const topic = `realtime:resume-${++topicCounter}`;
    const config = { postgres_changes: [{ event: '*', schema: 'public', table: 'events' }], resume_after: '16/B374D848' };
    socket.send(JSON.stringify({ topic, event: 'phx_join', ref: '1', join_ref: '1', payload: { config } }));
    const reply = await waitFor(() => frames.find((frame) => frame.event === 'phx_reply'));
    expect(reply.payload).toEqual({ status: 'error', response: { reason: expect.stringContaining('config.resume_after must be a stream position') } });
  });
});

describe('resync notices', () => {
  it('tells the channels of a truncated table to resync, at the TRUNCATE\'s place in the stream', async () => {
    const onEvents = await join({});
    const onOther = await join({}, { table: 'other' });
    await Promise.all([onEvents.subscribed(), onOther.subscribed()]);
    const [before] = await insertEvents(1);
    await db.query('truncate events');
    const [after] = await insertEvents(1);
    await waitFor(() => (ids(onEvents.changes()).includes(after) ? true : undefined));
    const resync = onEvents.systems().find((message) => message.resync);
    expect(resync).toMatchObject({ reason: 'truncate', table: 'events', status: 'ok' });
    const changes = onEvents.changes();
    expect(ids(changes)).toEqual([before, after]);
    // The notice sits between the two inserts in the socket's frame order and in position order.
    const order = onEvents.frames.filter((frame) => frame.topic === onEvents.topic && frame.event !== 'phx_reply').map((frame) => (frame.event === 'system' ? (frame.payload as unknown as SystemPayload).reason ?? 'subscribed' : 'change'));
    expect(order).toEqual(['subscribed', 'change', 'truncate', 'change']);
    expect(changes[0]!.position < resync!.position! && resync!.position! < changes[1]!.position).toBe(true);
    await db.query('insert into other (id) values ($1)', [++nextId]);
    await waitFor(() => (onOther.changes().length === 1 ? true : undefined));
    expect(onOther.systems().filter((message) => message.resync)).toEqual([]);
  });

  it('tells every channel to resync after the replication connection was lost, and later changes still arrive', async () => {
    const server = await createRealtimeServer({ jwtSecret: stack.jwtSecret, databaseUrl: stack.databaseUrl, onError: () => undefined });
    servers.push(server);
    const joined = await join({}, { url: server.url });
    const { position: before } = await joined.subscribed();
    await settle(joined);
    // This test's server started the newest walsender.
    const { rows } = await db.query<{ pid: number }>('select pid from pg_stat_replication order by backend_start desc limit 1');
    await db.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
    const resync = await waitFor(() => joined.systems().find((message) => message.resync), 15_000);
    expect(resync).toMatchObject({ reason: 'connection_lost', resync: true });
    expect(resync.position! > before!).toBe(true);
    await settle(joined);
    // A client that resumes from before the loss can't be served: the gap is not in the log.
    const late = await join({ resume_after: before }, { url: server.url });
    await late.subscribed();
    expect(late.systems().find((message) => message.resync)).toMatchObject({ reason: 'resume_too_old' });
  });
});

describe('refused bindings', () => {
  it('are retried until a migration makes them valid, as Supabase does; malformed ones are not', async () => {
    const server = await createRealtimeServer({ jwtSecret: stack.jwtSecret, databaseUrl: stack.databaseUrl, subscribeRetryMs: 50 });
    servers.push(server);
    const waiting = await join({}, { url: server.url, table: 'arrives_later' });
    const malformed = await join({}, { url: server.url, filter: 'id=eq.' + 'x' });
    // Refused, then refused again on retry (so retries run, and the malformed one had time to be retried too).
    const refusals = await waitFor(() => {
      const errors = waiting.systems().filter((message) => message.status === 'error');
      return errors.length >= 3 ? errors : undefined;
    });
    for (const refusal of refusals) expect(refusal.message).toContain('"public.arrives_later" does not exist');
    await db.query('create table arrives_later (id int4 primary key)');
    await waiting.subscribed();
    await db.query('insert into arrives_later (id) values (1)');
    await waitFor(() => (waiting.changes().length === 1 ? true : undefined));
    expect(waiting.changes()[0]!.data).toMatchObject({ table: 'arrives_later', type: 'INSERT', record: { id: 1 } });
    // The malformed binding got one refusal and no retries while the other was retried.
    expect(malformed.systems()).toEqual([expect.objectContaining({ status: 'error', message: expect.stringContaining('"x"') })]);
  });
});

describe('a PostgreSQL restart', () => {
  it('is survived: replication reconnects, channels are told to resync, and later changes arrive', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const os = await import('node:os');
    const path = await import('node:path');
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'rtk-restart-'));
    const jwtSecret = 'restart-test-secret-at-least-32-characters';
    const first = await startStack({ dataDir, jwtSecret, sql: 'create table pings (id int4 primary key);' });
    const postgresPort = Number(new URL(first.databaseUrl).port);
    let second: Stack | undefined;
    const server = await createRealtimeServer({ jwtSecret, databaseUrl: first.databaseUrl, onError: () => undefined });
    servers.push(server);
    try {
      const joined = await join({}, { url: server.url, apikey: first.anonKey, table: 'pings' });
      const { position: before } = await joined.subscribed();
      await first.stop();
      second = await startStack({ dataDir, jwtSecret, postgresPort });
      const resync = await waitFor(() => joined.systems().find((message) => message.resync), 20_000);
      expect(resync).toMatchObject({ reason: 'connection_lost' });
      expect(resync.position! > before!).toBe(true);
      const client = new pg.Client({ connectionString: second.databaseUrl });
      await client.connect();
      await client.query('insert into pings (id) values (1)');
      await client.end();
      await waitFor(() => (joined.changes().length === 1 ? true : undefined), 10_000);
      expect(joined.changes()[0]!.data).toMatchObject({ table: 'pings', type: 'INSERT', record: { id: 1 } });
    } finally {
      await server.close();
      await first.stop();
      await second?.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

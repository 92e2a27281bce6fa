/**
 * The realtime server attacked as a hostile user would (issue 9), on a stack of this file's own:
 * every delivery judged as of its change, resumed joins no wider than live ones, no filter
 * oracles, roles as PostgREST takes them, and subscribers that can't stall or blind the others.
 * Raw sockets throughout: an attacker doesn't use the stock client.
 */
import fc from 'fast-check';
import pg from 'pg';
import { createRealtimeServer, type RealtimeServer } from '../../../lib/server/realtime/server.js';
import { signJwt } from '../../../lib/server/stack/jwt.js';
import { startStack, type Stack } from '../../../lib/server/stack/index.js';
import { changeIds, rawChannels, type ChangePayload, type JoinedChannel } from './rawChannels';
import { waitFor } from './realtimeHarness';

const SQL = `
  create table diary (id int4 primary key, owner text not null, body text, secret text);
  alter table diary enable row level security;
  revoke all on diary from anon, authenticated;
  grant select (id, owner, body) on diary to authenticated;
  create policy own on diary for select to authenticated
    using (owner = current_setting('request.jwt.claims', true)::json ->> 'sub');

  -- The same with the whole old row in the WAL.
  create table ledger (id int4 primary key, owner text not null, body text, secret text);
  alter table ledger enable row level security;
  alter table ledger replica identity full;
  revoke all on ledger from anon, authenticated;
  grant select (id, owner, body) on ledger to authenticated;
  create policy own on ledger for select to authenticated
    using (owner = current_setting('request.jwt.claims', true)::json ->> 'sub');

  create table open_notes (id int4 primary key, body text);

  -- The property test's tables: policies change per run.
  create table prop (id int4 primary key, owner text not null, shared bool not null, tag int4 not null);
  create table prop_full (id int4 primary key, owner text not null, shared bool not null, tag int4 not null);
  alter table prop_full replica identity full;
  alter table prop enable row level security;
  alter table prop_full enable row level security;
  create table barrier (id int4 primary key);
  create table protos (id int4 primary key, "__proto__" text, "constructor" text);

  -- Notes everyone may read a column of, but RLS shows each their own rows only.
  create table shared_notes (id int4 primary key, owner text not null, body text);
  alter table shared_notes enable row level security;
  grant select on shared_notes to authenticated;
  create policy own on shared_notes for select to authenticated
    using (owner = current_setting('request.jwt.claims', true)::json ->> 'sub');

  -- A policy reading a column whose large value the WAL leaves out when an UPDATE doesn't change it.
  create table toasted (id int4 primary key, owner text not null, "constructor" text, n int4);
  alter table toasted enable row level security;
  grant select on toasted to authenticated;
  create policy own on toasted for select to authenticated
    using (owner = current_setting('request.jwt.claims', true)::json ->> 'sub' and "constructor" is not null);
`;

let stack: Stack;
let db: pg.Client;
let nextId = 0;
const servers: RealtimeServer[] = [];
const raw = rawChannels(() => stack.realtimeUrl, () => stack.anonKey);

const alice = () => stack.signToken({ sub: 'alice' });
const carol = () => stack.signToken({ sub: 'carol' });
const byId = (channel: JoinedChannel, type: string, id: number) => channel.changes().find((change) => change.data.type === type && changeIds([change])[0] === id);

beforeAll(async () => {
  stack = await startStack({ sql: SQL });
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
});

afterAll(async () => {
  raw.closeAll();
  for (const server of servers) await server.close();
  await db?.end();
  await stack?.stop();
});

/** A row every `table` subscriber that may read it hears; resolves once `channel` got it (all before it arrived too). */
async function settle(channel: JoinedChannel, table: string, owner: string): Promise<void> {
  const id = ++nextId;
  await db.query(`insert into ${table} (id, owner, body) values ($1, $2, 'sentinel')`, [id, owner]);
  await waitFor(() => byId(channel, 'INSERT', id));
}

describe('every delivery is judged as of its change', () => {
  it('a row inserted by bob and handed to alice at once reaches alice only as the handed-over row (10 of 10)', async () => {
    const asAlice = await raw.join({ table: 'diary', accessToken: alice() });
    await asAlice.subscribed();
    const ids: number[] = [];
    for (let round = 0; round < 10; round++) {
      const id = ++nextId;
      ids.push(id);
      await db.query(`insert into diary values ($1, 'bob', 'BOB-DIARY', 'x')`, [id]);
      await db.query(`update diary set owner = 'alice', body = 'for alice' where id = $1`, [id]);
    }
    await settle(asAlice, 'diary', 'alice');
    const mine = asAlice.changes().filter((change) => ids.includes(changeIds([change])[0] as number));
    expect(mine.map((change) => change.data.type)).toEqual(ids.map(() => 'UPDATE'));
    for (const change of mine) expect(change.data.record).toEqual({ id: change.data.record!.id, owner: 'alice', body: 'for alice' });
    expect(JSON.stringify(asAlice.changes())).not.toContain('BOB-DIARY');
  });

  it('a resumed join replays history as of each change, with the joining role\'s columns', async () => {
    // Stays connected: tells when the server has streamed the writes below (a commit reaches the
    // replication stream a moment after it returns; a join before that would hear them live instead).
    const watcher = await raw.join({ table: 'diary', accessToken: alice() });
    await watcher.subscribed();
    const first = await raw.join({ table: 'diary', accessToken: alice() });
    const { position } = await first.subscribed();
    first.socket.terminate();
    const [handed, kept, own] = [++nextId, ++nextId, ++nextId];
    await db.query(`insert into diary values ($1, 'bob', 'BOB-DIARY', 'x')`, [handed]);
    await db.query(`insert into diary values ($1, 'bob', 'BOB-ONLY', 'y')`, [kept]);
    await db.query(`update diary set owner = 'alice', body = 'for alice' where id = $1`, [handed]);
    await db.query(`insert into diary values ($1, 'alice', 'mine', 'z')`, [own]);
    await waitFor(() => byId(watcher, 'INSERT', own));

    const resumed = await raw.join({ table: 'diary', accessToken: alice(), config: { resume_after: position } });
    expect(await resumed.subscribed()).toMatchObject({ resumed: true });
    expect(resumed.changes().map((change) => [change.data.type, change.data.record])).toEqual([
      ['UPDATE', { id: handed, owner: 'alice', body: 'for alice' }],
      ['INSERT', { id: own, owner: 'alice', body: 'mine' }],
    ]);
    // The same as live deliveries carry: never `secret`, which her role may not select.
    for (const change of resumed.changes()) expect(change.data.columns.map((column) => column.name)).toEqual(['id', 'owner', 'body']);
  });
});

describe('no filter oracles', () => {
  it('refuses a filter on a column the role may not select, naming it', async () => {
    const asAlice = await raw.join({ bindings: [{ event: '*', schema: 'public', table: 'diary', filter: 'secret=eq.s-b' }], accessToken: alice() });
    const refusal = await asAlice.refused();
    expect(refusal.message).toContain('invalid column for filter secret');
    // The service role may read it: the same filter is accepted.
    const asService = await raw.join({ bindings: [{ event: '*', schema: 'public', table: 'diary', filter: 'secret=eq.s-b' }], accessToken: stack.serviceKey });
    await asService.subscribed();
  });

  it('"Subscribed to PostgreSQL" describes only the columns the role may read', async () => {
    const asAlice = await raw.join({ table: 'diary', accessToken: alice() });
    const subscribed = await asAlice.subscribed();
    expect(subscribed.tables!.map((table) => table.columns.map((column) => column.name))).toEqual([['id', 'owner', 'body']]);
  });

  it('a DELETE filtered on a non-key column never fires for an old row the subscriber could not read (REPLICA IDENTITY FULL)', async () => {
    const guess = await raw.join({ bindings: [{ event: 'DELETE', schema: 'public', table: 'ledger', filter: 'body=eq.BOB-SECRET' }], accessToken: alice() });
    const everything = await raw.join({ bindings: [{ event: 'DELETE', schema: 'public', table: 'ledger' }], accessToken: alice() });
    await Promise.all([guess.subscribed(), everything.subscribed()]);
    const [bobs, alices] = [++nextId, ++nextId];
    await db.query(`insert into ledger values ($1, 'bob', 'BOB-SECRET', 'x'), ($2, 'alice', 'BOB-SECRET', 'y')`, [bobs, alices]);
    await db.query('delete from ledger where id in ($1, $2)', [bobs, alices]);
    await waitFor(() => byId(everything, 'DELETE', alices));
    // Her own row's old values she could read; bob's she learns only by key, as with the default identity.
    expect(byId(everything, 'DELETE', bobs)!.data.old_record).toEqual({ id: bobs });
    expect(byId(everything, 'DELETE', alices)!.data.old_record).toEqual({ id: alices, owner: 'alice', body: 'BOB-SECRET' });
    await waitFor(() => byId(guess, 'DELETE', alices));
    expect(changeIds(guess.changes())).toEqual([alices]);
  });

  it('old_record of an UPDATE carries the old row only when the subscriber could read it (REPLICA IDENTITY FULL)', async () => {
    const asAlice = await raw.join({ table: 'ledger', accessToken: alice() });
    await asAlice.subscribed();
    const [handed, own] = [++nextId, ++nextId];
    await db.query(`insert into ledger values ($1, 'bob', 'BOB-EARLIER', 'x'), ($2, 'alice', 'before', 'y')`, [handed, own]);
    await db.query(`update ledger set owner = 'alice', body = 'yours now' where id = $1`, [handed]);
    await db.query(`update ledger set body = 'after' where id = $1`, [own]);
    await waitFor(() => byId(asAlice, 'UPDATE', own));
    expect(byId(asAlice, 'UPDATE', handed)!.data.old_record).toEqual({ id: handed });
    expect(byId(asAlice, 'UPDATE', own)!.data.old_record).toEqual({ id: own, owner: 'alice', body: 'before' });
    expect(JSON.stringify(asAlice.changes())).not.toContain('BOB-EARLIER');
  });
});

describe('leaving visibility', () => {
  it('a subscriber who asked for leave events hears LEAVE (key only) when an UPDATE takes a row out of its view', async () => {
    const withLeaves = await raw.join({ table: 'diary', accessToken: alice(), config: { leave_events: true } });
    const stock = await raw.join({ table: 'diary', accessToken: alice() });
    await Promise.all([withLeaves.subscribed(), stock.subscribed()]);
    const id = ++nextId;
    await db.query(`insert into diary values ($1, 'alice', 'mine', 'x')`, [id]);
    await db.query(`update diary set owner = 'bob', body = 'BOB-NOW' where id = $1`, [id]);
    const leave = await waitFor(() => byId(withLeaves, 'LEAVE', id));
    expect(leave.data).toEqual({
      schema: 'public', table: 'diary', type: 'LEAVE', commit_timestamp: expect.any(String),
      columns: [{ name: 'id', type: 'int4' }], old_record: { id }, errors: null,
    });
    expect(leave.ids).toEqual(withLeaves.changes()[0]!.ids);
    await settle(stock, 'diary', 'alice');
    expect(stock.changes().filter((change) => changeIds([change])[0] === id).map((change) => change.data.type)).toEqual(['INSERT']);
  });

  it('with REPLICA IDENTITY FULL only subscribers who could read the old row hear LEAVE', async () => {
    const asAlice = await raw.join({ table: 'ledger', accessToken: alice(), config: { leave_events: true } });
    const asCarol = await raw.join({ table: 'ledger', accessToken: carol(), config: { leave_events: true } });
    await Promise.all([asAlice.subscribed(), asCarol.subscribed()]);
    const id = ++nextId;
    await db.query(`insert into ledger values ($1, 'alice', 'mine', 'x')`, [id]);
    await db.query(`update ledger set owner = 'bob' where id = $1`, [id]);
    await waitFor(() => byId(asAlice, 'LEAVE', id));
    await settle(asCarol, 'ledger', 'carol');
    expect(byId(asCarol, 'LEAVE', id)).toBeUndefined();
  });
});

describe('roles as PostgREST takes them', () => {
  it.each([['postgres'], ['pg_read_all_data'], ['no_such_role']])('refuses a correctly signed token with role %j', async (role) => {
    const token = signJwt(stack.jwtSecret, { role, sub: 'mallory', exp: Math.floor(Date.now() / 1000) + 600 });
    const channel = await raw.join({ table: 'diary', accessToken: token });
    const reply = await channel.reply();
    expect(reply).toEqual({ status: 'error', response: { reason: expect.stringMatching(/^Unauthorized: /) } });
    expect(reply.response.reason).not.toContain(role); // claims are never echoed
  });

  it('refuses to start without the authenticator role it takes roles for, and bad options, naming them', async () => {
    await expect(createRealtimeServer({ jwtSecret: stack.jwtSecret, databaseUrl: stack.databaseUrl, authenticator: 'no_such_login' })).rejects.toThrow(
      /authenticator role "no_such_login" does not exist/,
    );
    await expect(createRealtimeServer({ jwtSecret: stack.jwtSecret, extraSearchPath: 'public' as never })).rejects.toThrow(/extraSearchPath must be an array/);
    await expect(createRealtimeServer({ jwtSecret: stack.jwtSecret, filterTimeoutMs: 0 })).rejects.toThrow(/filterTimeoutMs must be a positive integer/);
    await expect(createRealtimeServer({ jwtSecret: stack.jwtSecret, maxBindingsPerConnection: 1.5 })).rejects.toThrow(/maxBindingsPerConnection must be a positive integer/);
  });

  it('keeps service_role working: it bypasses RLS and reads every column', async () => {
    const asService = await raw.join({ table: 'diary', accessToken: stack.serviceKey });
    await asService.subscribed();
    const id = ++nextId;
    await db.query(`insert into diary values ($1, 'bob', 'b', 'top')`, [id]);
    const change = await waitFor(() => byId(asService, 'INSERT', id));
    expect(change.data.record).toEqual({ id, owner: 'bob', body: 'b', secret: 'top' });
  });

  it('a refresh to another role validates the bindings again: what the new role may not read is refused', async () => {
    const refresh = (channel: JoinedChannel, token: string) =>
      channel.socket.send(JSON.stringify({ topic: channel.topic, event: 'access_token', ref: 'r', join_ref: channel.topic, payload: { access_token: token } }));
    const filtered = await raw.join({ bindings: [{ event: '*', schema: 'public', table: 'diary', filter: 'secret=eq.s-b' }], accessToken: stack.serviceKey });
    const plain = await raw.join({ table: 'diary', accessToken: stack.serviceKey });
    await Promise.all([filtered.subscribed(), plain.subscribed()]);
    refresh(filtered, alice());
    refresh(plain, alice());
    expect((await filtered.refused()).message).toContain('invalid column for filter secret');
    // The other one goes on under the new role, resumed where it stopped (nothing missed meanwhile).
    const again = await waitFor(() => (plain.systems().filter((message) => message.message === 'Subscribed to PostgreSQL').length === 2 ? plain.systems().at(-1) : undefined));
    expect(again).toMatchObject({ resumed: true });
    expect(again.tables!.map((table) => table.columns.map((column) => column.name))).toEqual([['id', 'owner', 'body']]);
    const [hers, bobs] = [++nextId, ++nextId];
    await db.query(`insert into diary values ($1, 'alice', 'a', 's-b'), ($2, 'bob', 'b', 's-b')`, [hers, bobs]);
    await waitFor(() => byId(plain, 'INSERT', hers));
    expect(byId(plain, 'INSERT', hers)!.data.record).toEqual({ id: hers, owner: 'alice', body: 'a' });
    await settle(plain, 'diary', 'alice');
    expect(byId(plain, 'INSERT', bobs)).toBeUndefined();
    expect(changeIds(filtered.changes()).filter((id) => id === hers || id === bobs)).toEqual([]);
  });

  it('refuses an access_token refresh to an unusable role by closing the channel', async () => {
    const channel = await raw.join({ table: 'diary', accessToken: alice() });
    await channel.subscribed();
    const token = signJwt(stack.jwtSecret, { role: 'postgres', exp: Math.floor(Date.now() / 1000) + 600 });
    channel.socket.send(JSON.stringify({ topic: channel.topic, event: 'access_token', ref: 'r', join_ref: channel.topic, payload: { access_token: token } }));
    await waitFor(() => channel.frames.find((frame) => frame.topic === channel.topic && frame.event === 'phx_close'));
    const id = ++nextId;
    await db.query(`insert into diary values ($1, 'alice', 'after', null)`, [id]);
    const witness = await raw.join({ table: 'diary', accessToken: alice() });
    await witness.subscribed();
    await settle(witness, 'diary', 'alice');
    expect(byId(channel, 'INSERT', id)).toBeUndefined();
  });
});

describe('no subscriber can stall or blind the others', () => {
  it('refuses a token with claims nested deeper than the server checks, at join; the table\'s other subscribers still hear changes', async () => {
    let deep: Record<string, unknown> = { leaf: true };
    for (let level = 0; level < 70; level++) deep = { deep };
    const token = signJwt(stack.jwtSecret, { role: 'authenticated', sub: 'deep', nested: deep, exp: Math.floor(Date.now() / 1000) + 600 });
    const attacker = await raw.join({ table: 'diary', accessToken: token });
    expect(await attacker.reply()).toEqual({ status: 'error', response: { reason: expect.stringContaining('nested deeper than') } });
    const victim = await raw.join({ table: 'diary', accessToken: alice() });
    await victim.subscribed();
    await settle(victim, 'diary', 'alice');
  });

  it('a catastrophic regular expression is refused for its subscriber when it times out; everyone else gets the batch', async () => {
    const server = await createRealtimeServer({ jwtSecret: stack.jwtSecret, databaseUrl: stack.databaseUrl, filterTimeoutMs: 100, onError: () => undefined });
    servers.push(server);
    const local = rawChannels(() => server.url, () => stack.anonKey);
    try {
      const attacker = await local.join({ bindings: [{ event: 'INSERT', schema: 'public', table: 'open_notes', filter: 'body=match.^(.*)(.*)(.*)(.*)(.*)\\5\\4\\3\\2\\1$' }] });
      const victim = await local.join({ table: 'open_notes' });
      await Promise.all([attacker.subscribed(), victim.subscribed()]);
      const id = ++nextId;
      await db.query(`insert into open_notes values ($1, $2)`, [id, 'ab'.repeat(300) + 'x']);
      await waitFor(() => byId(victim, 'INSERT', id), 10_000);
      const refusal = await attacker.refused();
      expect(refusal.message).toMatch(/took longer than 100 ms/);
      // The refused binding is gone: its next match is not evaluated (nor delivered).
      const next = ++nextId;
      await db.query(`insert into open_notes values ($1, 'aa')`, [next]);
      await waitFor(() => byId(victim, 'INSERT', next));
      expect(attacker.changes()).toEqual([]);
    } finally {
      local.closeAll();
    }
  });

  it('a filter PostgreSQL evaluates never runs on a row its subscriber may not see (no timing oracle)', async () => {
    const server = await createRealtimeServer({ jwtSecret: stack.jwtSecret, databaseUrl: stack.databaseUrl, filterTimeoutMs: 100, onError: () => undefined });
    servers.push(server);
    const local = rawChannels(() => server.url, () => stack.anonKey);
    try {
      const slow = 'body=match.^(.*)(.*)(.*)(.*)(.*)\\5\\4\\3\\2\\1$';
      const attacker = await local.join({ bindings: [{ event: 'INSERT', schema: 'public', table: 'shared_notes', filter: slow }], accessToken: alice() });
      const witness = await local.join({ table: 'shared_notes', accessToken: alice() });
      await Promise.all([attacker.subscribed(), witness.subscribed()]);
      // Bob's row would take seconds to match: it is never evaluated for alice, so nothing is refused.
      const [bobs, marker] = [++nextId, ++nextId];
      await db.query(`insert into shared_notes values ($1, 'bob', $2)`, [bobs, 'ab'.repeat(300) + 'x']);
      await db.query(`insert into shared_notes values ($1, 'alice', 'short')`, [marker]);
      await waitFor(() => byId(witness, 'INSERT', marker), 10_000);
      expect(attacker.systems().filter((message) => message.status === 'error')).toEqual([]);
      // The same value in her own row is evaluated, runs out of time, and the filter is refused.
      const hers = ++nextId;
      await db.query(`insert into shared_notes values ($1, 'alice', $2)`, [hers, 'ab'.repeat(300) + 'x']);
      expect((await attacker.refused()).message).toMatch(/took longer than 100 ms/);
    } finally {
      local.closeAll();
    }
  });

  it('refuses a join past the per-connection binding budget, naming it', async () => {
    const server = await createRealtimeServer({ jwtSecret: stack.jwtSecret, databaseUrl: stack.databaseUrl, maxBindingsPerConnection: 5, onError: () => undefined });
    servers.push(server);
    const local = rawChannels(() => server.url, () => stack.anonKey);
    try {
      const socket = await local.connect();
      const binding = (n: number) => ({ event: 'INSERT', schema: 'public', table: 'open_notes', filter: `id=eq.${n}` });
      const first = await local.join({ on: socket, bindings: [1, 2, 3].map(binding) });
      expect(await first.reply()).toMatchObject({ status: 'ok' });
      const second = await local.join({ on: socket, bindings: [4, 5, 6].map(binding) });
      expect(await second.reply()).toEqual({ status: 'error', response: { reason: expect.stringContaining('more than 5 postgres_changes bindings') } });
      // Leaving frees the budget.
      socket.socket.send(JSON.stringify({ topic: first.topic, event: 'phx_leave', ref: 'l', join_ref: first.topic, payload: {} }));
      const third = await local.join({ on: socket, bindings: [4, 5, 6].map(binding) });
      expect(await third.reply()).toMatchObject({ status: 'ok' });
    } finally {
      local.closeAll();
    }
  });
});

describe('what a change does not carry', () => {
  it('a policy reading an unchanged TOASTed value can\'t be judged: not sent, and the channel is told to resync', async () => {
    const asAlice = await raw.join({ table: 'toasted', accessToken: alice() });
    await asAlice.subscribed();
    const id = ++nextId;
    // Large and not compressible to under 2 kB: stored out of line, left out of an UPDATE's WAL record.
    await db.query(`insert into toasted values ($1::int4, 'alice', (select string_agg(md5(i::text || $1::text), '') from generate_series(1, 400) i), 0)`, [id]);
    await waitFor(() => byId(asAlice, 'INSERT', id));
    await db.query('update toasted set n = 1 where id = $1', [id]);
    const resync = await waitFor(() => asAlice.systems().find((message) => message.resync));
    expect(resync).toMatchObject({ reason: 'visibility_unknown', resync: true });
    expect(byId(asAlice, 'UPDATE', id)).toBeUndefined();
    // A change that carries the value is judged as usual.
    await db.query(`update toasted set n = 2, "constructor" = 'short' where id = $1`, [id]);
    await waitFor(() => byId(asAlice, 'UPDATE', id));
  });
});

describe('data is data', () => {
  it('columns named __proto__ and constructor arrive as PostgREST returns them', async () => {
    const channel = await raw.join({ table: 'protos', accessToken: stack.serviceKey });
    await channel.subscribed();
    const id = ++nextId;
    await db.query(`insert into protos values ($1, 'p', 'c')`, [id]);
    const change: ChangePayload = await waitFor(() => byId(channel, 'INSERT', id));
    const response = await fetch(`${stack.postgrestUrl}/protos?id=eq.${id}`, { headers: { apikey: stack.serviceKey, Authorization: `Bearer ${stack.serviceKey}` } });
    const [row] = JSON.parse(await response.text(), (key, value) => value) as Array<Record<string, unknown>>;
    expect(Object.keys(row!)).toEqual(['id', '__proto__', 'constructor']);
    // JSON.parse made `__proto__` an own property in both: compare as entries.
    expect(Object.entries(change.data.record!)).toEqual(Object.entries(row!));
  });
});

describe('deliver iff visible as of the change', () => {
  const PERMISSIVE = [`owner = (current_setting('request.jwt.claims', true)::json ->> 'sub')`, 'shared', 'tag > 5'];
  const RESTRICTIVE = ['tag <> 7', `owner <> 'banned'`];
  const USERS = ['alice', 'bob'];
  type Row = { id: number; owner: string; shared: boolean; tag: number };
  type Op = { kind: 'insert' | 'update' | 'delete'; pick: number; owner: string; shared: boolean; tag: number };
  const op = fc.record({
    kind: fc.constantFrom('insert', 'insert', 'update', 'update', 'update', 'delete') as fc.Arbitrary<Op['kind']>,
    pick: fc.nat(),
    owner: fc.constantFrom('alice', 'bob', 'carol', 'banned'),
    shared: fc.boolean(),
    tag: fc.integer({ min: 0, max: 9 }),
  });

  it.each([['prop'], ['prop_full']])('over random policies and writes, against what PostgreSQL shows each user (%s)', async (table) => {
    const full = table === 'prop_full';
    // Per user: one socket with its own channel (leave events on) and a service_role barrier channel,
    // so once the barrier row arrived, everything before it on that socket has too.
    const listeners: Array<{ sub: string; mine: JoinedChannel; fence: JoinedChannel }> = [];
    for (const sub of USERS) {
      const socket = await raw.connect();
      const mine = await raw.join({ on: socket, table, accessToken: stack.signToken({ sub }), config: { leave_events: true } });
      const fence = await raw.join({ on: socket, table: 'barrier', accessToken: stack.serviceKey });
      await Promise.all([mine.subscribed(), fence.subscribed()]);
      listeners.push({ sub, mine, fence });
    }
    const truthClient = new pg.Client({ connectionString: stack.databaseUrl });
    await truthClient.connect();
    const seesRow = async (sub: string, id: number) => {
      await truthClient.query('begin');
      try {
        await truthClient.query(`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ role: 'authenticated', sub })]);
        return (await truthClient.query(`select exists(select from ${table} where id = $1) as e`, [id])).rows[0].e as boolean;
      } finally {
        await truthClient.query('rollback');
      }
    };
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.subarray(PERMISSIVE),
          fc.subarray(RESTRICTIVE),
          fc.array(op, { minLength: 1, maxLength: 14 }),
          async (permissive, restrictive, ops) => {
            await db.query(`drop policy if exists p0 on ${table}; drop policy if exists p1 on ${table}; drop policy if exists p2 on ${table};
              drop policy if exists r0 on ${table}; drop policy if exists r1 on ${table}; grant select on ${table} to authenticated`);
            for (const [index, using] of permissive.entries()) await db.query(`create policy p${index} on ${table} for select to authenticated using (${using})`);
            for (const [index, using] of restrictive.entries()) await db.query(`create policy r${index} on ${table} as restrictive for select to authenticated using (${using})`);
            const expected = new Map<string, unknown[]>(USERS.map((sub) => [sub, []]));
            const live: Row[] = [];
            const seen = new Map<string, boolean>(); // `${sub}:${id}` → visible as of the row's last change
            const first = nextId + 1;
            for (const step of ops) {
              const kind = live.length === 0 ? 'insert' : step.kind;
              if (kind === 'insert') {
                const row = { id: ++nextId, owner: step.owner, shared: step.shared, tag: step.tag };
                await db.query(`insert into ${table} values ($1, $2, $3, $4)`, [row.id, row.owner, row.shared, row.tag]);
                live.push(row);
                for (const sub of USERS) {
                  const visible = await seesRow(sub, row.id);
                  seen.set(`${sub}:${row.id}`, visible);
                  if (visible) expected.get(sub)!.push(['INSERT', row, undefined]);
                }
              } else if (kind === 'update') {
                const index = step.pick % live.length;
                const before = live[index]!;
                const row = { ...before, owner: step.owner, shared: step.shared, tag: step.tag };
                await db.query(`update ${table} set owner = $2, shared = $3, tag = $4 where id = $1`, [row.id, row.owner, row.shared, row.tag]);
                live[index] = row;
                for (const sub of USERS) {
                  const was = seen.get(`${sub}:${row.id}`)!;
                  const visible = await seesRow(sub, row.id);
                  seen.set(`${sub}:${row.id}`, visible);
                  if (visible) expected.get(sub)!.push(['UPDATE', row, full && was ? before : { id: row.id }]);
                  // Without the old row (default identity) whether it was visible can't be known, so LEAVE
                  // to be safe: unless no permissive policy applies, when no row was ever visible.
                  else if (full ? was : permissive.length > 0) expected.get(sub)!.push(['LEAVE', undefined, { id: row.id }]);
                }
              } else {
                const [row] = live.splice(step.pick % live.length, 1);
                await db.query(`delete from ${table} where id = $1`, [row!.id]);
                for (const sub of USERS) expected.get(sub)!.push(['DELETE', undefined, full && seen.get(`${sub}:${row!.id}`) ? row : { id: row!.id }]);
              }
            }
            const fenceId = ++nextId;
            await db.query('insert into barrier values ($1)', [fenceId]);
            for (const { sub, mine, fence } of listeners) {
              await waitFor(() => byId(fence, 'INSERT', fenceId));
              const got = mine.changes()
                .filter((change) => (changeIds([change])[0] as number) >= first && (changeIds([change])[0] as number) < fenceId)
                .map((change) => [change.data.type, change.data.record, change.data.old_record]);
              expect({ sub, permissive, restrictive, got }).toEqual({ sub, permissive, restrictive, got: expected.get(sub) });
            }
          },
        ),
        { numRuns: 25 },
      );
    } finally {
      await truthClient.end();
    }
  });
});

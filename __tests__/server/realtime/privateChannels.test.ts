/**
 * Private channels authorized by row level security on realtime.messages, and broadcasts from the
 * database (`realtime.send`, `realtime.broadcast_changes`), with the official realtime-js client
 * against the suite's stack (whose database has the realtime schema startStack creates).
 */
import type { RealtimeChannel, RealtimeClient } from '@supabase/realtime-js';
import pg from 'pg';
import { createChannelAuthorizer } from '../../../lib/server/realtime/authorization/channelPolicies.js';
import { createRealtimeServer, type RealtimeServer } from '../../../lib/server/realtime/server.js';
import { testStack, sql, closeSql } from '../../support/stack';
import { expectEventually } from '../../support/eventually';
import { officialClients, subscribe } from './realtimeHarness';

const stack = testStack();
const clients = officialClients(stack.anonKey);
const servers: RealtimeServer[] = [];
let counter = 0;
/** A topic no other test uses. */
const topic = (base: string) => `pc-${base}-${process.pid}-${++counter}`;

/** An official client on `url` (default: the stack's realtime server) with `token` as its access token. */
async function client(token?: string, url = stack.realtimeUrl): Promise<RealtimeClient> {
  const c = clients.open(url);
  if (token) await c.setAuth(token);
  return c;
}

const member = (sub: string) => stack.signToken({ sub });
const privateChannel = (c: RealtimeClient, name: string, config: Record<string, unknown> = {}) =>
  c.channel(name, { config: { private: true, broadcast: { ack: true, self: false }, ...config } });

async function allow(name: string, sub: string, options: { write?: boolean; presence?: boolean } = {}): Promise<void> {
  await sql('insert into pc_members (topic, sub, can_write, presence) values ($1, $2, $3, $4)', [name, sub, options.write ?? false, options.presence ?? true]);
}

const received = (channel: RealtimeChannel, event = '*') => {
  const got: Array<{ event: string; payload: Record<string, unknown> }> = [];
  channel.on('broadcast', { event }, (message) => got.push({ event: message.event as string, payload: message.payload as Record<string, unknown> }));
  return got;
};

beforeAll(async () => {
  await sql(`
    create table if not exists pc_members (topic text, sub text, can_write bool not null default false, presence bool not null default true, primary key (topic, sub));
    grant select on pc_members to authenticated;
    drop policy if exists pc_read on realtime.messages;
    create policy pc_read on realtime.messages for select to authenticated using (
      exists (select 1 from pc_members m
               where m.topic = realtime.topic()
                 and m.sub = current_setting('request.jwt.claims', true)::json ->> 'sub'
                 and (realtime.messages.extension = 'broadcast' or m.presence)));
    drop policy if exists pc_write on realtime.messages;
    create policy pc_write on realtime.messages for insert to authenticated with check (
      exists (select 1 from pc_members m
               where m.topic = realtime.topic()
                 and m.sub = current_setting('request.jwt.claims', true)::json ->> 'sub'
                 and m.can_write));

    create table if not exists pc_items (id int4 primary key, body text);
    create or replace function pc_items_broadcast() returns trigger security definer language plpgsql as $$
    begin
      perform realtime.broadcast_changes('pc-items:' || coalesce(new.id, old.id)::text, tg_op, tg_op, tg_table_name, tg_table_schema, new, old);
      return null;
    end $$;
    drop trigger if exists pc_items_broadcast on pc_items;
    create trigger pc_items_broadcast after insert or update or delete on pc_items for each row execute function pc_items_broadcast();
  `);
});

afterAll(async () => {
  clients.closeAll();
  for (const server of servers) await server.close();
  await closeSql();
});

describe('joining a private channel', () => {
  it('refuses anon with Supabase\'s message naming the topic', async () => {
    const name = topic('anon');
    const result = await subscribe(privateChannel(await client(), name));
    expect(result.status).toBe('CHANNEL_ERROR');
    expect(result.err?.message).toContain(`Unauthorized: You do not have permissions to read from this Channel topic: ${name}`);
  });

  it('lets a user the SELECT policy allows receive, and refuses another user', async () => {
    const name = topic('room');
    await allow(name, 'alice', { write: true });
    await allow(name, 'bob');
    const sender = privateChannel(await client(member('alice')), name);
    const reader = privateChannel(await client(member('bob')), name);
    const got = received(reader);
    expect((await subscribe(sender)).status).toBe('SUBSCRIBED');
    expect((await subscribe(reader)).status).toBe('SUBSCRIBED');
    const outsider = await subscribe(privateChannel(await client(member('mallory')), name));
    expect(outsider.status).toBe('CHANNEL_ERROR');
    expect(outsider.err?.message).toContain(`permissions to read from this Channel topic: ${name}`);

    expect(await sender.send({ type: 'broadcast', event: 'note', payload: { text: 'hi' } })).toBe('ok');
    await expectEventually(() => expect(got).toEqual([{ event: 'note', payload: { text: 'hi' } }]));
  });

  it('refuses a send without an INSERT policy allowing it, and delivers nothing', async () => {
    const name = topic('readonly');
    await allow(name, 'alice', { write: true });
    await allow(name, 'bob');
    const writer = privateChannel(await client(member('alice')), name);
    const readOnly = privateChannel(await client(member('bob')), name, { broadcast: { ack: true, self: true } });
    const got = received(writer);
    const gotSelf = received(readOnly);
    expect((await subscribe(writer)).status).toBe('SUBSCRIBED');
    expect((await subscribe(readOnly)).status).toBe('SUBSCRIBED');
    expect(await readOnly.send({ type: 'broadcast', event: 'sneaky', payload: {} })).toBe('error');
    // A later allowed send overtakes nothing: the refused one was never delivered.
    expect(await writer.send({ type: 'broadcast', event: 'allowed', payload: {} })).toBe('ok');
    await expectEventually(() => expect(gotSelf.map((m) => m.event)).toEqual(['allowed']));
    expect(got).toEqual([]);
  });

  it('keeps public and private channels of one name apart', async () => {
    const name = topic('split');
    await allow(name, 'alice');
    const privateReader = privateChannel(await client(member('alice')), name);
    const publicSender = (await client(member('alice'))).channel(name, { config: { broadcast: { ack: true } } });
    const publicReader = (await client()).channel(name);
    const gotPrivate = received(privateReader);
    const gotPublic = received(publicReader);
    for (const channel of [privateReader, publicSender, publicReader]) expect((await subscribe(channel)).status).toBe('SUBSCRIBED');
    expect(await publicSender.send({ type: 'broadcast', event: 'public', payload: {} })).toBe('ok');
    await expectEventually(() => expect(gotPublic.map((m) => m.event)).toEqual(['public']));
    await sql(`select realtime.send('{"n": 1}', 'db', $1, false)`, [name]);
    await expectEventually(() => expect(gotPublic.map((m) => m.event)).toEqual(['public', 'db']));
    expect(gotPrivate).toEqual([]);
  });

  it('shuts the channel down when a refreshed token is no longer allowed (policy dropped)', async () => {
    const name = topic('refresh');
    const policy = `pc_refresh_${counter}`;
    await sql(`create policy ${policy} on realtime.messages for select to authenticated using (realtime.topic() = '${name}')`);
    const c = await client(member('dora'));
    const channel = privateChannel(c, name);
    const system: Array<Record<string, unknown>> = [];
    channel.on('system', {}, (payload) => system.push(payload as Record<string, unknown>));
    expect((await subscribe(channel)).status).toBe('SUBSCRIBED');

    // Still allowed: a refresh with new claims keeps the channel.
    await c.setAuth(stack.signToken({ sub: 'dora', refreshed: 1 }));
    await sql(`drop policy ${policy} on realtime.messages`);
    await c.setAuth(stack.signToken({ sub: 'dora', refreshed: 2 }));
    await expectEventually(() => expect(system).toContainEqual(expect.objectContaining({ status: 'error', message: `Unauthorized: You do not have permissions to read from this Channel topic: ${name}` })));
    await expectEventually(() => expect(channel.state).toBe('closed'));
    // And a new join is refused too.
    const again = await subscribe(privateChannel(await client(stack.signToken({ sub: 'dora', refreshed: 3 })), name));
    expect(again.status).toBe('CHANNEL_ERROR');
  });
});

describe('the cost of private joins', () => {
  it('20 checks at once of one token on one topic share one query; a cached decision costs none until invalidated; a new token is checked afresh', async () => {
    const name = topic('burst');
    await allow(name, 'erin');
    const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
    let sessions = 0;
    const counting = Object.assign(Object.create(pool) as pg.Pool, { connect: () => (sessions++, pool.connect()) });
    const authorizer = createChannelAuthorizer({ pool: counting, authenticator: 'authenticator', cacheMs: 600_000 });
    const claims = { role: 'authenticated', sub: 'erin', exp: 4_000_000_000 };
    try {
      const decisions = await Promise.all(Array.from({ length: 20 }, () => authorizer.check(name, claims)));
      expect(decisions).toEqual(decisions.map(() => ({ broadcast: { read: true, write: false }, presence: { read: true, write: false } })));
      expect(sessions).toBe(1);
      await authorizer.check(name, { ...claims });
      expect(sessions).toBe(1);
      await authorizer.check(name, { ...claims, iat: 1 });
      expect(sessions).toBe(2);
      authorizer.invalidate();
      await authorizer.check(name, claims);
      expect(sessions).toBe(3);
      // Another user is another decision: mallory is no member.
      expect(await authorizer.check(name, { ...claims, sub: 'mallory' })).toEqual({ broadcast: { read: false, write: false }, presence: { read: false, write: false } });
    } finally {
      await pool.end();
    }
  });
});

describe('hostile joins', () => {
  it('a megabyte topic is refused before any database work, and the socket goes on', async () => {
    const c = await client();
    const huge = await subscribe(privateChannel(c, 'x'.repeat(1024 * 1024)));
    expect(huge.status).toBe('CHANNEL_ERROR');
    expect(huge.err?.message).toContain('TopicNameTooLong: a topic may have at most 1024 bytes, this one has 1048585');
    const name = topic('after-huge');
    await allow(name, 'alice');
    expect((await subscribe(c.channel(topic('public-after-huge')))).status).toBe('SUBSCRIBED');
  });
});

describe('cached decisions', () => {
  it('are dropped when DDL is announced: a dropped policy refuses the very token it allowed, long before the cache would expire', async () => {
    const server = await createRealtimeServer({ jwtSecret: stack.jwtSecret, databaseUrl: stack.databaseUrl, privateChannelCacheMs: 600_000, onError: () => undefined });
    servers.push(server);
    const name = topic('ddl');
    const policy = `pc_ddl_${counter}`;
    await sql(`create policy ${policy} on realtime.messages for select to authenticated using (realtime.topic() = '${name}')`);
    const token = member('fay');
    const join = async () => (await subscribe(privateChannel(await client(token, server.url), name))).status;
    expect(await join()).toBe('SUBSCRIBED');
    expect(await join()).toBe('SUBSCRIBED'); // the cached decision
    await sql(`drop policy ${policy} on realtime.messages`);
    // Within moments (the DDL's message travels the replication stream), not 10 minutes.
    await expectEventually(async () => expect(await join()).toBe('CHANNEL_ERROR'), 5000);
  });
});

describe('presence on a private topic', () => {
  it('is invisible to a member without presence read, and tracking needs an INSERT policy', async () => {
    const name = topic('presence');
    await allow(name, 'alice', { write: true });
    await allow(name, 'bob', { presence: false });
    const tracker = privateChannel(await client(member('alice')), name, { presence: { key: 'alice' } });
    const blind = privateChannel(await client(member('bob')), name, { presence: { key: 'bob' } });
    const seenByBlind: string[] = [];
    blind.on('presence', { event: 'sync' }, () => seenByBlind.push(JSON.stringify(blind.presenceState())));
    const seenByTracker: string[] = [];
    tracker.on('presence', { event: 'sync' }, () => seenByTracker.push(JSON.stringify(tracker.presenceState())));
    expect((await subscribe(blind)).status).toBe('SUBSCRIBED');
    expect((await subscribe(tracker)).status).toBe('SUBSCRIBED');
    expect(await tracker.track({ secret: 'where alice is' })).toBe('ok');
    await expectEventually(() => expect(seenByTracker.join()).toContain('where alice is'));
    // bob may receive broadcasts but not presence: no state, no diff, and no track of his own.
    expect(await blind.track({ me: 'bob' })).toBe('error');
    expect(await tracker.send({ type: 'broadcast', event: 'after', payload: {} })).toBe('ok');
    const got = received(blind);
    expect(await tracker.send({ type: 'broadcast', event: 'marker', payload: {} })).toBe('ok');
    await expectEventually(() => expect(got.map((m) => m.event)).toEqual(['marker']));
    expect(seenByBlind.join()).not.toContain('alice');
    expect(JSON.stringify(blind.presenceState())).toBe('{}');
  });

  it('refuses anon, so a signed-in user\'s presence payload never reaches it', async () => {
    const name = topic('presence-anon');
    await allow(name, 'alice', { write: true });
    const tracker = privateChannel(await client(member('alice')), name, { presence: { key: 'alice' } });
    expect((await subscribe(tracker)).status).toBe('SUBSCRIBED');
    expect(await tracker.track({ secret: 'alice is here' })).toBe('ok');
    const anon = privateChannel(await client(), name, { presence: { key: 'anon' } });
    expect((await subscribe(anon)).status).toBe('CHANNEL_ERROR');
    expect(JSON.stringify(anon.presenceState())).toBe('{}');
  });
});

describe('broadcast from the database', () => {
  it('realtime.send reaches a public topic\'s subscribers, and a private one\'s authorized subscribers only', async () => {
    const publicName = topic('send-public');
    const privateName = topic('send-private');
    await allow(privateName, 'alice');
    await allow(privateName, 'bob', { presence: true });
    const publicReader = (await client()).channel(publicName);
    const alice = privateChannel(await client(member('alice')), privateName);
    const gotPublic = received(publicReader, 'created');
    const gotAlice = received(alice);
    expect((await subscribe(publicReader)).status).toBe('SUBSCRIBED');
    expect((await subscribe(alice)).status).toBe('SUBSCRIBED');

    await sql(`select realtime.send('{"title": "public"}', 'created', $1, false)`, [publicName]);
    await sql(`select realtime.send('{"title": "private"}', 'created', $1)`, [privateName]);
    await expectEventually(() => expect(gotPublic).toEqual([{ event: 'created', payload: { title: 'public', id: expect.any(String) } }]));
    await expectEventually(() => expect(gotAlice).toEqual([{ event: 'created', payload: { title: 'private', id: expect.any(String) } }]));
  });

  it('realtime.send as a user is subject to the INSERT policy', async () => {
    const name = topic('send-as-user');
    await allow(name, 'alice', { write: true });
    await allow(name, 'bob');
    const reader = privateChannel(await client(member('alice')), name);
    const got = received(reader);
    expect((await subscribe(reader)).status).toBe('SUBSCRIBED');
    const asUser = async (sub: string, text: string) => {
      const db = new pg.Client({ connectionString: stack.databaseUrl });
      await db.connect();
      try {
        await db.query('begin');
        await db.query(`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ role: 'authenticated', sub })]);
        await db.query(`select realtime.send(jsonb_build_object('text', $1::text), 'said', $2)`, [text, name]);
        await db.query('commit');
      } finally {
        await db.end();
      }
    };
    await asUser('bob', 'from bob');
    await asUser('alice', 'from alice');
    await expectEventually(() => expect(got.map((m) => m.payload.text)).toEqual(['from alice']));
  });

  it('a broadcast_changes trigger sends each row change to the row\'s private topic, in commit order', async () => {
    const id = 1000 + counter++;
    const name = `pc-items:${id}`;
    await allow(name, 'alice');
    const reader = privateChannel(await client(member('alice')), name);
    const got = received(reader);
    expect((await subscribe(reader)).status).toBe('SUBSCRIBED');
    await sql('insert into pc_items values ($1, $2)', [id, 'first']);
    await sql('update pc_items set body = $2 where id = $1', [id, 'second']);
    await sql('delete from pc_items where id = $1', [id]);
    await expectEventually(() => expect(got.map((m) => m.event)).toEqual(['INSERT', 'UPDATE', 'DELETE']));
    expect(got[0]!.payload).toMatchObject({ operation: 'INSERT', table: 'pc_items', schema: 'public', record: { id, body: 'first' }, old_record: null });
    expect(got[1]!.payload).toMatchObject({ operation: 'UPDATE', record: { id, body: 'second' }, old_record: { id, body: 'first' } });
    expect(got[2]!.payload).toMatchObject({ operation: 'DELETE', record: null, old_record: { id, body: 'second' } });
  });
});

describe('servers that can\'t authorize private channels', () => {
  it('refuses private joins clearly without a database, and keeps public ones open', async () => {
    const server = await createRealtimeServer({ jwtSecret: stack.jwtSecret });
    servers.push(server);
    const c = await client(undefined, server.url);
    const result = await subscribe(privateChannel(c, topic('nodb')));
    expect(result.status).toBe('CHANNEL_ERROR');
    expect(result.err?.message).toContain('PrivateChannelsUnavailable: private channels are authorized by row level security on realtime.messages, and this realtime server has no databaseUrl');
    expect((await subscribe(c.channel(topic('nodb-public')))).status).toBe('SUBSCRIBED');
  });

  it('refuses private joins clearly on a database without the realtime schema', async () => {
    const database = `pc_noschema_${process.pid}`;
    await sql(`drop database if exists ${database}`);
    await sql(`create database ${database}`);
    const url = new URL(stack.databaseUrl);
    url.pathname = `/${database}`;
    const db = new pg.Client({ connectionString: url.toString() });
    await db.connect();
    await db.query('create publication rtk_postgrest_realtime for all tables');
    await db.end();
    try {
      const server = await createRealtimeServer({ jwtSecret: stack.jwtSecret, databaseUrl: url.toString(), onError: () => undefined });
      servers.push(server);
      const result = await subscribe(privateChannel(await client(member('alice'), server.url), topic('noschema')));
      expect(result.status).toBe('CHANNEL_ERROR');
      expect(result.err?.message).toContain('PrivateChannelsUnavailable: the database has no realtime.messages table');
      await server.close();
    } finally {
      await sql(`drop database if exists ${database} with (force)`);
    }
  });
});

/**
 * postgres_changes end to end with the official realtime-js client against a stack of this file's
 * own (its DDL can't disturb other files): payloads equal to PostgREST's rows, filters, event
 * filtering, no write lost after "Subscribed to PostgreSQL", RLS per user, both vsn values.
 */
import { RealtimeClient, type RealtimeChannel, type RealtimePostgresChangesPayload } from '@supabase/realtime-js';
import pg from 'pg';
import { WebSocket } from 'ws';
import { comparePositions, isStreamPosition } from '../../../lib/server/realtime/replication/resumeLog.js';
import { startStack, type Stack } from '../../../lib/server/stack/index.js';
import { subscribe, waitFor } from './realtimeHarness';

const SQL = `
  create table items (id int4 primary key, name text, qty int4, tags text[], at timestamptz, data jsonb, price numeric);
  grant select, insert, update, delete on items to anon, authenticated;
  create table notes (id int4 primary key, owner text, body text, public bool not null default false);
  alter table notes enable row level security;
  grant select on notes to anon, authenticated;
  create policy notes_read on notes for select to anon, authenticated
    using (public or owner = current_setting('request.jwt.claims', true)::json ->> 'sub');
  alter table notes replica identity full;
  create collation ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
  create table shapes (id int4 primary key, side numeric, area numeric generated always as (side * side) stored);
  create table words (id int4 primary key, en text collate "en-x-icu", ci text collate ci, c text collate "C", plain text, num numeric, at timestamptz);
  alter table words replica identity full; -- DELETEs carry the old row, so filters can see it
  grant select on words to anon;
  create table profiles (id int4 primary key, name text, secret text);
  revoke all on profiles from anon; -- the stack's default privileges grant every table to anon
  grant select (id, name) on profiles to anon;
  grant select on profiles to authenticated;
`;

type Row = Record<string, unknown>;
type Change = RealtimePostgresChangesPayload<Row>;
interface SystemMessage {
  extension: string;
  status: string;
  message: string;
  channel: string;
}
interface Opened {
  channel: RealtimeChannel;
  /** Changes each binding heard, by binding index. */
  heard: Change[][];
  system: SystemMessage;
}

let stack: Stack;
let db: pg.Client;
const clients: RealtimeClient[] = [];
let nextId = 1000;
let channelCounter = 0;
/** A primary key no other test uses. */
const freshId = () => ++nextId;

beforeAll(async () => {
  stack = await startStack({ sql: SQL });
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
});

afterAll(async () => {
  for (const client of clients) {
    client.removeAllChannels();
    void client.disconnect();
  }
  await db?.end();
  await stack?.stop();
});

function client(vsn: string, apikey = stack.anonKey): RealtimeClient {
  const created = new RealtimeClient(stack.realtimeUrl, { params: { apikey }, vsn, transport: WebSocket as never, timeout: 3000 });
  clients.push(created);
  return created;
}

/** Joins a channel with `bindings` and waits for the postgres_changes system message (ok or error). */
async function open(realtime: RealtimeClient, bindings: Array<Record<string, string>>): Promise<Opened> {
  const channel = realtime.channel(`changes-${++channelCounter}`);
  const heard: Change[][] = bindings.map(() => []);
  const systems: SystemMessage[] = [];
  const on = channel.on.bind(channel) as unknown as (type: string, filter: object, callback: (payload: never) => void) => RealtimeChannel;
  bindings.forEach((binding, index) => on('postgres_changes', binding, (payload: Change) => heard[index]!.push(payload)));
  on('system', {}, (payload: SystemMessage) => systems.push(payload));
  const { status } = await subscribe(channel);
  expect(status).toBe('SUBSCRIBED');
  const system = await waitFor(() => systems.find((message) => message.extension === 'postgres_changes'));
  return { channel, heard, system };
}

async function opened(realtime: RealtimeClient, bindings: Array<Record<string, string>>): Promise<Opened> {
  const result = await open(realtime, bindings);
  const { tables, ...rest } = result.system as SystemMessage & { tables?: unknown };
  expect(rest).toEqual({ extension: 'postgres_changes', status: 'ok', message: 'Subscribed to PostgreSQL', channel: expect.any(String), position: expect.stringMatching(/^[0-9A-F]{16}:[0-9A-F]{8}$/) });
  // Our extension: the tables the bindings name, with their columns (docs/realtime-protocol-extensions.md).
  const named = new Set(bindings.filter((binding) => binding.table !== undefined && binding.table !== '*').map((binding) => `${binding.schema ?? 'public'}.${binding.table}`));
  expect(new Set(((tables ?? []) as Array<{ schema: string; table: string }>).map(({ schema, table }) => `${schema}.${table}`))).toEqual(named);
  return result;
}

const find = (changes: Change[], type: string, id: number) =>
  changes.find((change) => change.eventType === type && ((change.new as Row)?.id === id || (change.old as Row)?.id === id));

async function fetchRow(table: string, id: number, token = stack.serviceKey): Promise<Row> {
  const response = await fetch(`${stack.postgrestUrl}/${table}?id=eq.${id}`, { headers: { apikey: token, Authorization: `Bearer ${token}` } });
  const rows = (await response.json()) as Row[];
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

describe.each(['1.0.0', '2.0.0'])('postgres_changes, vsn %s', (vsn) => {
  it('delivers INSERT, UPDATE and DELETE with rows equal to what PostgREST returns', async () => {
    const { heard } = await opened(client(vsn), [{ event: '*', schema: 'public', table: 'items' }]);
    const id = freshId();
    await db.query(
      `insert into items values ($1, 'first', 3, '{a,"b c"}', '2026-11-24 10:00:00.123456+00', '{"k":[1,2]}', 12.50)`,
      [id],
    );
    const insert = await waitFor(() => find(heard[0]!, 'INSERT', id));
    expect(insert).toMatchObject({ schema: 'public', table: 'items', eventType: 'INSERT', errors: null });
    expect(insert.commit_timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(insert.new).toEqual(await fetchRow('items', id));
    expect(insert.old).toEqual({});

    await db.query(`update items set name = 'second', qty = null where id = $1`, [id]);
    const update = await waitFor(() => find(heard[0]!, 'UPDATE', id));
    expect(update.new).toEqual(await fetchRow('items', id));
    expect(update.old).toEqual({ id }); // default replica identity: the key only

    await db.query('delete from items where id = $1', [id]);
    const deleted = await waitFor(() => find(heard[0]!, 'DELETE', id));
    expect(deleted.old).toEqual({ id });
    expect(deleted.new).toEqual({});
  });

  it('filters with eq and in, on the new row', async () => {
    const [a, b, c, d] = [freshId(), freshId(), freshId(), freshId()];
    const { heard } = await opened(client(vsn), [
      { event: 'INSERT', schema: 'public', table: 'items', filter: `id=eq.${b}` },
      { event: 'INSERT', schema: 'public', table: 'items', filter: `id=in.(${b},${c})` },
      { event: 'INSERT', schema: 'public', table: 'items' },
    ]);
    for (const id of [a, b, c, d]) await db.query(`insert into items (id, name) values ($1, 'f')`, [id]);
    // One message per channel per change, in order: once the last row arrived, all have.
    await waitFor(() => find(heard[2]!, 'INSERT', d));
    const ids = (changes: Change[]) => changes.map((change) => (change.new as Row).id);
    expect(ids(heard[2]!).filter((id) => [a, b, c, d].includes(id as number))).toEqual([a, b, c, d]);
    expect(ids(heard[0]!)).toEqual([b]);
    expect(ids(heard[1]!)).toEqual([b, c]);
  });

  it('delivers only the events a binding asks for', async () => {
    const id = freshId();
    const { heard } = await opened(client(vsn), [
      { event: 'DELETE', schema: 'public', table: 'items' },
      { event: 'UPDATE', schema: 'public', table: 'items', filter: `id=eq.${id}` },
      { event: '*', schema: 'public', table: 'items', filter: `id=eq.${id}` },
    ]);
    await db.query(`insert into items (id, name) values ($1, 'e')`, [id]);
    await db.query(`update items set qty = 1 where id = $1`, [id]);
    await db.query('delete from items where id = $1', [id]);
    await waitFor(() => find(heard[2]!, 'DELETE', id));
    expect(heard[2]!.map((change) => change.eventType)).toEqual(['INSERT', 'UPDATE', 'DELETE']);
    expect(heard[1]!.map((change) => change.eventType)).toEqual(['UPDATE']);
    expect(heard[0]!.filter((change) => (change.old as Row).id === id).map((change) => change.eventType)).toEqual(['DELETE']);
  });

  it('never misses a write committed right after "Subscribed to PostgreSQL"', async () => {
    const realtime = client(vsn);
    for (let round = 0; round < 5; round++) {
      const id = freshId();
      const { heard } = await opened(realtime, [{ event: 'INSERT', schema: 'public', table: 'items', filter: `id=eq.${id}` }]);
      await db.query(`insert into items (id) values ($1)`, [id]);
      await waitFor(() => find(heard[0]!, 'INSERT', id), 3000);
    }
  });

  it('under RLS, users see their own and public rows, anon only public ones', async () => {
    const alice = stack.signToken({ sub: `alice-${vsn}` });
    const bob = stack.signToken({ sub: `bob-${vsn}` });
    const binding = [{ event: '*', schema: 'public', table: 'notes' }];
    const [asAlice, asBob, asAnon] = await Promise.all([opened(client(vsn, alice), binding), opened(client(vsn, bob), binding), opened(client(vsn), binding)]);
    const [aliceNote, bobNote, publicNote, marker] = [freshId(), freshId(), freshId(), freshId()];
    await db.query(`insert into notes values ($1, $2, 'a', false)`, [aliceNote, `alice-${vsn}`]);
    await db.query(`insert into notes values ($1, $2, 'b', false)`, [bobNote, `bob-${vsn}`]);
    await db.query(`insert into notes values ($1, 'nobody', 'p', true)`, [publicNote]);
    await db.query(`insert into notes values ($1, 'nobody', 'm', true)`, [marker]);
    for (const { heard } of [asAlice, asBob, asAnon]) await waitFor(() => find(heard[0]!, 'INSERT', marker));
    const seen = ({ heard }: Opened) => heard[0]!.map((change) => (change.new as Row).id).filter((id) => [aliceNote, bobNote, publicNote, marker].includes(id as number));
    expect(seen(asAlice)).toEqual([aliceNote, publicNote, marker]);
    expect(seen(asBob)).toEqual([bobNote, publicNote, marker]);
    expect(seen(asAnon)).toEqual([publicNote, marker]);
    expect(find(asAlice.heard[0]!, 'INSERT', aliceNote)!.new).toEqual(await fetchRow('notes', aliceNote, alice));
  });

  it('applies RLS from the first change after it is enabled on a streamed table', async () => {
    const table = `late_rls_${vsn.replace(/\./g, '_')}`;
    await db.query(`create table ${table} (id int4 primary key, public bool not null); grant select on ${table} to anon`);
    const asAnon = await opened(client(vsn), [{ event: 'INSERT', schema: 'public', table }]);
    const [before, secret, marker] = [freshId(), freshId(), freshId()];
    await db.query(`insert into ${table} values ($1, false)`, [before]);
    await waitFor(() => find(asAnon.heard[0]!, 'INSERT', before));
    await db.query(`alter table ${table} enable row level security; create policy only_public on ${table} for select using (public)`);
    await db.query(`insert into ${table} values ($1, false)`, [secret]);
    await db.query(`insert into ${table} values ($1, true)`, [marker]);
    await waitFor(() => find(asAnon.heard[0]!, 'INSERT', marker));
    expect(asAnon.heard[0]!.map((change) => (change.new as Row).id)).toEqual([before, marker]);
  });

  it('strips columns the role may not SELECT', async () => {
    const binding = [{ event: 'INSERT', schema: 'public', table: 'profiles' }];
    const [asAnon, asUser] = await Promise.all([opened(client(vsn), binding), opened(client(vsn, stack.signToken({ sub: 'u' })), binding)]);
    const id = freshId();
    await db.query(`insert into profiles values ($1, 'n', 's')`, [id]);
    const anonChange = await waitFor(() => find(asAnon.heard[0]!, 'INSERT', id));
    const userChange = await waitFor(() => find(asUser.heard[0]!, 'INSERT', id));
    expect(anonChange.new).toEqual({ id, name: 'n' });
    expect(userChange.new).toEqual({ id, name: 'n', secret: 's' });
  });

  it('sends only the key of a DELETE on an RLS table, even with REPLICA IDENTITY FULL, unchecked', async () => {
    const id = freshId();
    await db.query(`insert into notes values ($1, 'someone', 'private', false)`, [id]);
    const { heard } = await opened(client(vsn), [{ event: 'DELETE', schema: 'public', table: 'notes' }]);
    await db.query('delete from notes where id = $1', [id]);
    const deleted = await waitFor(() => find(heard[0]!, 'DELETE', id));
    expect(deleted.old).toEqual({ id });
  });

  it('hears every table of a schema with a binding without a table', async () => {
    const { heard } = await opened(client(vsn), [{ event: 'INSERT', schema: 'public' }]);
    const [item, profile] = [freshId(), freshId()];
    await db.query(`insert into items (id) values ($1)`, [item]);
    await db.query(`insert into profiles (id) values ($1)`, [profile]);
    await waitFor(() => find(heard[0]!, 'INSERT', profile));
    expect(heard[0]!.map((change) => [change.table, (change.new as Row).id])).toEqual([
      ['items', item],
      ['profiles', profile],
    ]);
  });

  it.each([
    [{ event: 'TRUNCATE', schema: 'public', table: 'items' }, 'event must be one of'],
    [{ event: '*', schema: 'nope' }, 'schema "nope" does not exist'],
    [{ event: '*', schema: 'public', filter: 'id=eq.1' }, 'a filter needs a table'],
    [{ event: '*', schema: 'public', table: 'items', filter: 'id=bogus.1' }, 'bogus'],
    [{ event: '*', schema: 'public', table: 'items', filter: 'id=eq.notanumber' }, 'notanumber'],
    [{ event: '*', schema: 'public', table: 'items', filter: 'name=match.(' }, 'invalid regular expression'],
    [{ event: '*', schema: 'public', table: 'items', filter: 'id=like.1%' }, 'operator does not exist: integer ~~ text'],
    [{ event: '*', schema: 'public', table: 'words', filter: 'en=lt.x,id=in.(1,zz)' }, 'zz'],
  ])('refuses the binding %j with a system error containing %j', async (binding, text) => {
    const { system } = await open(client(vsn), [binding]);
    expect(system).toMatchObject({ extension: 'postgres_changes', status: 'error' });
    expect(system.message).toContain(text);
  });

  it('answers a binding on a missing table or column with a system error naming it, and keeps the channel', async () => {
    const realtime = client(vsn);
    const missingTable = await open(realtime, [{ event: '*', schema: 'public', table: 'nope' }]);
    expect(missingTable.system).toMatchObject({ extension: 'postgres_changes', status: 'error' });
    expect(missingTable.system.message).toContain('public.nope');
    const missingColumn = await open(realtime, [{ event: '*', schema: 'public', table: 'items', filter: 'nope=eq.1' }]);
    expect(missingColumn.system).toMatchObject({ extension: 'postgres_changes', status: 'error' });
    expect(missingColumn.system.message).toContain('nope');
    expect(missingColumn.channel.state).toBe('joined');
  });
});

describe('filters PostgreSQL evaluates (collations, patterns)', () => {
  const WORDS = ['a', 'B', 'b', 'Z', 'é', 'e', 'ä', '_x', '10', '9', 'abc', 'ABC', 'aBc', 'a%c', 'a_c', 'résumé', 'Resume', 'zz', ''];
  // Each filter next to the same condition in SQL: what PostgreSQL says is what must arrive.
  const FILTERS: Array<[string, string]> = [
    ['en=lt.b', `en < 'b'`],
    ['en=gte.B', `en >= 'B'`],
    ['en=not.lte.e', `not (en <= 'e')`],
    ['en=in.(b,é,résumé)', `en in ('b', 'é', 'résumé')`],
    ['ci=eq.abc', `ci = 'abc'`],
    ['ci=neq.ABC', `ci <> 'ABC'`],
    ['ci=in.(ABC,résumé)', `ci in ('ABC', 'résumé')`],
    ['c=lt.b', `c < 'b'`],
    ['plain=like.a%', `plain like 'a%'`],
    ['plain=ilike.A_C', `plain ilike 'A_C'`],
    ['plain=like.a\\%c', `plain like 'a\\%c'`],
    ['plain=match.^[a-z]+$', `plain ~ '^[a-z]+$'`],
    ['plain=imatch.^r', `plain ~* '^r'`],
    ['id=gt.5,en=lt.m', `id > 5 and en < 'm'`],
    ['num=gt.5,plain=not.like.%z%', `num > 5 and not (plain like '%z%')`],
    // Values JavaScript doesn't read (no zone: the session's TimeZone; a month name) go to SQL too.
    ['at=lt.2026-01-01 05:00', `at < '2026-01-01 05:00'`],
    ['at=gte.Jan 1 2026 10:30', `at >= 'Jan 1 2026 10:30'`],
  ];

  it('"Subscribed to PostgreSQL" describes the columns with the collation each compares under (the default resolved)', async () => {
    const { system } = await opened(client('1.0.0'), [{ event: '*', schema: 'public', table: 'words' }]);
    const [defaultCollation] = (await db.query<{ collation: string }>(
      "select coalesce(datlocale, datcollate) as collation from pg_database where datname = current_database()",
    )).rows;
    expect((system as SystemMessage & { tables?: unknown }).tables).toEqual([
      {
        schema: 'public',
        table: 'words',
        columns: [
          { name: 'id', type: 'int4' },
          { name: 'en', type: 'text', collation: 'en-x-icu' },
          { name: 'ci', type: 'text', collation: 'ci' },
          { name: 'c', type: 'text', collation: 'C' },
          { name: 'plain', type: 'text', collation: defaultCollation!.collation },
          { name: 'num', type: 'numeric' },
          { name: 'at', type: 'timestamptz' },
        ],
      },
    ]);
    // The stack's database uses the builtin provider's C.UTF-8 (its lc_collate says only "C").
    expect(defaultCollation!.collation).toBe('C.UTF-8');
  });

  it('deliver exactly the rows the same condition selects in SQL, for INSERT, UPDATE and DELETE', async () => {
    const realtime = client('1.0.0');
    const channels = await Promise.all(FILTERS.map(([filter]) => opened(realtime, [{ event: '*', schema: 'public', table: 'words', filter }])));
    const base = freshId();
    nextId += WORDS.length * 2;
    const rows = WORDS.map((word, index) => [base + index, word, index]);
    for (const [id, word, index] of rows) {
      await db.query(`insert into words (id, en, ci, c, plain, num, at) values ($1, $2, $2, $2, $2, $3::int4, '2026-01-01'::timestamptz + $3::int4 * interval '1 hour')`, [id, word, index]);
    }
    // Each row is renamed to the next word: an UPDATE is matched on its new row, a DELETE on its old one.
    for (const [id, , index] of rows) {
      await db.query('update words set en = $2, ci = $2, c = $2, plain = $2 where id = $1', [id, WORDS[((index as number) + 1) % WORDS.length]]);
    }
    await db.query('delete from words where id >= $1 and id < $2', [base, base + WORDS.length]);
    const sentinel = freshId();
    await db.query(`insert into words (id, en, ci, c, plain, num) values ($1, 'a', 'abc', 'a', 'a', 100)`, [sentinel]);
    const expected = async (condition: string) => {
      const ids = async () => (await db.query<{ id: number }>(`select id from words where id >= $1 and id < $2 and ${condition} order by id`, [base, base + WORDS.length])).rows.map((row) => row.id);
      // Recompute each phase's rows in SQL on a scratch copy: insert, rename, then the delete sees the renamed rows.
      await db.query('begin');
      try {
        await db.query('delete from words where id >= $1 and id < $2', [base, base + WORDS.length]);
        for (const [id, word, index] of rows) {
          await db.query(`insert into words (id, en, ci, c, plain, num, at) values ($1, $2, $2, $2, $2, $3::int4, '2026-01-01'::timestamptz + $3::int4 * interval '1 hour')`, [id, word, index]);
        }
        const inserted = await ids();
        for (const [id, , index] of rows) await db.query('update words set en = $2, ci = $2, c = $2, plain = $2 where id = $1', [id, WORDS[((index as number) + 1) % WORDS.length]]);
        const updated = await ids();
        return [...inserted.map((id) => `INSERT ${id}`), ...updated.map((id) => `UPDATE ${id}`), ...updated.map((id) => `DELETE ${id}`)];
      } finally {
        await db.query('rollback');
      }
    };
    for (const [index, [filter, condition]] of FILTERS.entries()) {
      const { heard } = channels[index]!;
      const sentinelExpected = (await db.query(`select 1 from words where id = $1 and ${condition}`, [sentinel])).rows.length === 1;
      if (sentinelExpected) await waitFor(() => find(heard[0]!, 'INSERT', sentinel));
      else await waitFor(() => find(channels[0]!.heard[0]!, 'INSERT', sentinel)); // en < 'b' matches 'a': everything before it has been dispatched
      const got = heard[0]!.filter((change) => ((change.new as Row)?.id ?? (change.old as Row)?.id) !== sentinel).map((change) => `${change.eventType} ${(change.new as Row)?.id ?? (change.old as Row)?.id}`);
      const want = await expected(condition);
      // Sorted within each event type: the rows of a phase arrive in commit (= id) order.
      expect({ filter, got }).toEqual({ filter, got: want });
      expect(want.length).toBeGreaterThan(0);
    }
  });
});

describe('generated columns', () => {
  it('arrive in the change like PostgREST returns them (the stack publishes stored generated columns)', async () => {
    const { heard } = await opened(client('1.0.0'), [{ event: '*', schema: 'public', table: 'shapes' }]);
    const id = freshId();
    await db.query('insert into shapes (id, side) values ($1, 1.5)', [id]);
    await db.query('update shapes set side = 3 where id = $1', [id]);
    await waitFor(() => find(heard[0]!, 'UPDATE', id));
    expect((find(heard[0]!, 'INSERT', id)!.new as Row).area).toBe(2.25);
    expect(find(heard[0]!, 'UPDATE', id)!.new).toEqual(await fetchRow('shapes', id));
  });
});

describe('postgres_changes on the wire', () => {
  it('carries Supabase keys per type plus an increasing stream position', async () => {
    const socket = new WebSocket(`${stack.realtimeUrl}/websocket?apikey=${stack.anonKey}&vsn=1.0.0`);
    const frames: Array<{ event: string; payload: Record<string, unknown> }> = [];
    socket.on('message', (data) => frames.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => socket.on('open', resolve).on('error', reject));
    try {
      const topic = `realtime:wire-${++channelCounter}`;
      socket.send(JSON.stringify({ topic, event: 'phx_join', ref: '1', join_ref: '1', payload: { config: { postgres_changes: [{ event: '*', schema: 'public', table: 'items' }] } } }));
      await waitFor(() => frames.find((frame) => frame.event === 'system'));
      const reply = frames.find((frame) => frame.event === 'phx_reply')!;
      const [{ id: bindingId }] = (reply.payload.response as { postgres_changes: Array<{ id: number }> }).postgres_changes as [{ id: number }];
      const [a, b] = [freshId(), freshId()];
      await db.query('begin');
      await db.query(`insert into items (id, name) values ($1, 'x'), ($2, 'y')`, [a, b]);
      await db.query('commit');
      await db.query(`update items set name = 'z' where id = $1`, [a]);
      await db.query('delete from items where id = $1', [b]);
      const changes = () => frames.filter((frame) => frame.event === 'postgres_changes');
      await waitFor(() => (changes().length >= 4 ? true : undefined));
      const payloads = changes().map((frame) => frame.payload as { ids: number[]; data: Record<string, unknown>; position: string });
      expect(payloads.map((payload) => [payload.data.type, Object.keys(payload.data).sort()])).toEqual([
        ['INSERT', ['columns', 'commit_timestamp', 'errors', 'record', 'schema', 'table', 'type']],
        ['INSERT', ['columns', 'commit_timestamp', 'errors', 'record', 'schema', 'table', 'type']],
        ['UPDATE', ['columns', 'commit_timestamp', 'errors', 'old_record', 'record', 'schema', 'table', 'type']],
        ['DELETE', ['columns', 'commit_timestamp', 'errors', 'old_record', 'schema', 'table', 'type']],
      ]);
      expect(payloads.every((payload) => payload.ids.length === 1 && payload.ids[0] === bindingId)).toBe(true);
      expect(payloads[0]!.data.columns).toEqual(expect.arrayContaining([{ name: 'id', type: 'int4' }, { name: 'tags', type: '_text' }]));
      for (const payload of payloads) expect(isStreamPosition(payload.position)).toBe(true);
      for (let i = 1; i < payloads.length; i++) expect(comparePositions(payloads[i - 1]!.position as never, payloads[i]!.position as never)).toBeLessThan(0);
    } finally {
      socket.terminate();
    }
  });

  it('projects a binding\'s select (key always included) and refuses an unknown select column', async () => {
    const socket = new WebSocket(`${stack.realtimeUrl}/websocket?apikey=${stack.anonKey}&vsn=1.0.0`);
    const frames: Array<{ topic: string; event: string; payload: Record<string, unknown> }> = [];
    socket.on('message', (data) => frames.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => socket.on('open', resolve).on('error', reject));
    try {
      const [good, bad] = [`realtime:select-${++channelCounter}`, `realtime:select-${++channelCounter}`];
      const join = (topic: string, select: string[]) =>
        socket.send(JSON.stringify({ topic, event: 'phx_join', ref: topic, join_ref: topic, payload: { config: { postgres_changes: [{ event: 'INSERT', schema: 'public', table: 'items', select }] } } }));
      join(good, ['name', 'qty']);
      join(bad, ['name', 'nope']);
      const system = (topic: string) => waitFor(() => frames.find((frame) => frame.topic === topic && frame.event === 'system')?.payload);
      expect(await system(good)).toMatchObject({ status: 'ok', message: 'Subscribed to PostgreSQL' });
      expect(await system(bad)).toMatchObject({ status: 'error', message: expect.stringContaining('invalid column for select: "nope"') });
      const id = freshId();
      await db.query(`insert into items (id, name, qty, tags) values ($1, 'p', 3, '{a}')`, [id]);
      const change = await waitFor(() => frames.find((frame) => frame.topic === good && frame.event === 'postgres_changes')?.payload);
      const data = change.data as { record: Row; columns: Array<{ name: string }> };
      expect(data.record).toEqual({ id, name: 'p', qty: 3 });
      expect(data.columns.map((column) => column.name)).toEqual(['id', 'name', 'qty']);
    } finally {
      socket.terminate();
    }
  });
});

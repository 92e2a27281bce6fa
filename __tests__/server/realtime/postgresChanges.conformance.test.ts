/**
 * postgres_changes conformance matrix (docs/realtime-protocol.md §2.4–2.8) with the official
 * realtime-js client, both vsn values, against a stack of this file's own:
 * - every historical filter operator on int4, numeric, timestamptz, bool, uuid and text columns, for
 *   INSERT/UPDATE (new row) and DELETE (old row), with the expected ids asked of PostgreSQL itself;
 * - payload shape per type under default and FULL replica identity, and for a table without a key;
 * - `access_token` refresh moving RLS visibility to another user, and refused refreshes;
 * - filter values that look like SQL injection;
 * - several channels / several bindings on one client.
 */
import { RealtimeClient, type RealtimeChannel, type RealtimePostgresChangesPayload } from '@supabase/realtime-js';
import pg from 'pg';
import { WebSocket } from 'ws';
import { signJwt } from '../../../lib/server/stack/jwt.js';
import { startStack, type Stack } from '../../../lib/server/stack/index.js';
import { subscribe, waitFor } from './realtimeHarness';

const COLUMNS = 'id int4 primary key, n int4, amount numeric, at timestamptz, flag bool, ref uuid, label text';
const SQL = `
  create table cf (${COLUMNS});
  create table cf_full (${COLUMNS});
  alter table cf_full replica identity full;
  create table keyless (id int4, name text);
  create table keyless_full (id int4, name text);
  alter table keyless_full replica identity full;
  create table owned (id int4 primary key, owner text, body text);
  alter table owned enable row level security;
  grant select on owned to authenticated;
  create policy owned_read on owned for select to authenticated
    using (owner = current_setting('request.jwt.claims', true)::json ->> 'sub');
  create table victim (id int4 primary key, label text);
  insert into victim values (1, 'still here');
`;

type Row = Record<string, unknown>;
type Change = RealtimePostgresChangesPayload<Row>;
type Vsn = '1.0.0' | '2.0.0';
type Binding = { event: string; schema: string; table?: string; filter?: string };
interface SystemMessage {
  extension: string;
  status: string;
  message: string;
  channel: string;
}
/** A `postgres_changes` message as it came off the wire (decoded, before realtime-js transforms it). */
interface RawChange {
  topic: string;
  payload: {
    ids: number[];
    data: {
      schema: string;
      table: string;
      commit_timestamp: string | null;
      type: string;
      columns: Array<{ name: string; type: string }>;
      record?: Row;
      old_record?: Row;
      errors: string[] | null;
    };
  };
}
interface TappedClient {
  realtime: RealtimeClient;
  /** Every postgres_changes message this client decoded, in arrival order. */
  raw: RawChange[];
}
interface Opened {
  channel: RealtimeChannel;
  topic: string;
  /** Changes each binding heard, by binding index. */
  heard: Change[][];
  systems: SystemMessage[];
  system: SystemMessage;
  /** The binding ids the server gave in the join reply, by binding index. */
  bindingIds: () => number[];
}

/** How long a change may take to arrive: generous, since a slow machine must not fail the suite. */
const ARRIVAL_MS = 15_000;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const OPS: Record<string, string> = { eq: '=', neq: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' };

let stack: Stack;
let db: pg.Client;
const clients: RealtimeClient[] = [];
let nextId = 10_000;
let channelCounter = 0;
/** A primary key no other test uses. */
const freshId = () => ++nextId;
const freshIds = (count: number) => Array.from({ length: count }, freshId);

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

/** An official client whose decoder also records every postgres_changes message, raw. */
function client(vsn: Vsn, apikey = stack.anonKey): TappedClient {
  // A client that never connects lends its default decoder (JSON for 1.0.0, the serializer for 2.0.0).
  const baseDecode = new RealtimeClient(stack.realtimeUrl, { vsn, params: { apikey }, transport: WebSocket as never }).decode as (raw: unknown, callback: (message: unknown) => void) => void;
  const raw: RawChange[] = [];
  const realtime = new RealtimeClient(stack.realtimeUrl, {
    params: { apikey },
    vsn,
    transport: WebSocket as never,
    timeout: 3000,
    decode: ((payload: unknown, callback: (message: unknown) => void) =>
      baseDecode(payload, (message) => {
        const decoded = message as { event: string } & RawChange;
        if (decoded.event === 'postgres_changes') raw.push({ topic: decoded.topic, payload: decoded.payload });
        callback(message);
      })) as never,
  });
  clients.push(realtime);
  return { realtime, raw };
}

/** Joins a channel with `bindings` and waits for the postgres_changes system message (ok or error). */
async function open(realtime: RealtimeClient, bindings: Binding[], config: Record<string, unknown> = {}): Promise<Opened> {
  const name = `conformance-${++channelCounter}`;
  const channel = realtime.channel(name, { config });
  const heard: Change[][] = bindings.map(() => []);
  const systems: SystemMessage[] = [];
  const on = channel.on.bind(channel) as unknown as (type: string, filter: object, callback: (payload: never) => void) => RealtimeChannel;
  bindings.forEach((binding, index) => on('postgres_changes', binding, (payload: Change) => heard[index]!.push(payload)));
  on('system', {}, (payload: SystemMessage) => systems.push(payload));
  const { status } = await subscribe(channel);
  expect(status).toBe('SUBSCRIBED');
  const system = await waitFor(() => systems.find((message) => message.extension === 'postgres_changes'), ARRIVAL_MS);
  const bindingIds = () => (channel.bindings.postgres_changes ?? []).map((binding) => (binding as unknown as { id: number }).id);
  return { channel, topic: `realtime:${name}`, heard, systems, system, bindingIds };
}

async function opened(realtime: RealtimeClient, bindings: Binding[], config: Record<string, unknown> = {}): Promise<Opened> {
  const result = await open(realtime, bindings, config);
  // Supabase's four fields; our server may add its own (a stream position), which realtime-js ignores.
  expect(result.system).toMatchObject({ extension: 'postgres_changes', status: 'ok', message: 'Subscribed to PostgreSQL', channel: result.topic.slice('realtime:'.length) });
  return result;
}

/** The id a change is about: the new row's, else the old row's. */
const idOf = (change: Change) => ((change.new as Row)?.id ?? (change.old as Row)?.id) as number;
/** `[type, id]` of each change about one of `ids`, in arrival order. */
const events = (changes: Change[], ids: readonly number[]) =>
  changes.filter((change) => ids.includes(idOf(change))).map((change) => [change.eventType, idOf(change)] as [string, number]);
const has = (changes: Change[], type: string, id: number) => changes.some((change) => change.eventType === type && idOf(change) === id);

/** A SQL literal (standard_conforming_strings is on). */
const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;
/** An element of a filter's `in` list, quoted as PostgreSQL's array_in reads it when it needs to be. */
const inElement = (value: string) => (/^[^\s,{}"\\()]+$/.test(value) && value.toUpperCase() !== 'NULL' ? value : `"${value.replace(/(["\\])/g, '\\$1')}"`);

interface FilterCase {
  op: 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte' | 'in';
  values: string[];
}
const filterText = (column: string, { op, values }: FilterCase) =>
  `${column}=${op}.${op === 'in' ? `(${values.map(inElement).join(',')})` : values[0]}`;
const sqlCondition = (column: string, { op, values }: FilterCase) =>
  op === 'in' ? `${column} in (${values.map(literal).join(', ')})` : `${column} ${OPS[op]} ${literal(values[0]!)}`;

/** What PostgreSQL says: the ids among `ids` whose current row satisfies `condition`, ascending. */
async function idsWhere(table: string, ids: readonly number[], condition: string): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(`select id from ${table} where id = any($1) and (${condition}) order by id`, [ids]);
  return rows.map((row) => row.id);
}

async function fetchRow(table: string, id: number): Promise<Row> {
  const token = stack.serviceKey;
  const response = await fetch(`${stack.postgrestUrl}/${table}?id=eq.${id}`, { headers: { apikey: token, Authorization: `Bearer ${token}` } });
  const rows = (await response.json()) as Row[];
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

const U1 = '0b6f3a52-9c1e-4d3a-8f57-1c2d3e4f5a61';
const U2 = '7d1e2f30-aaaa-4bbb-8ccc-0123456789ab';
const U3 = 'f0e1d2c3-b4a5-4968-8776-655443322110';

/** Per column: its values before and after the UPDATE (one row each), and the filters to try. */
const MATRIX: Array<{ column: string; before: Array<string | null>; after: Array<string | null>; filters: FilterCase[] }> = [
  {
    column: 'n',
    before: ['-2', '2', '3', '4', '10', null],
    after: ['3', '3', '-2', null, '4', '2'],
    filters: [
      { op: 'eq', values: ['3'] },
      { op: 'neq', values: ['3'] },
      { op: 'lt', values: ['3'] },
      { op: 'lte', values: ['3'] },
      { op: 'gt', values: ['3'] },
      { op: 'gte', values: ['3'] },
      { op: 'in', values: ['-2', '4', '10'] },
      { op: 'lt', values: ['-1'] },
      // Forms PostgreSQL's int4 input accepts.
      { op: 'eq', values: ['+3'] },
      { op: 'neq', values: ['03'] },
    ],
  },
  {
    column: 'amount',
    before: ['-1.5', '2.5', '2.50', '2.51', '10', null],
    after: ['2.5', '0.1', '10.000', '2.499', null, '-0'],
    filters: [
      { op: 'eq', values: ['2.5'] },
      { op: 'neq', values: ['2.50'] },
      { op: 'lt', values: ['2.5'] },
      { op: 'lte', values: ['2.5'] },
      { op: 'gt', values: ['2.5'] },
      { op: 'gte', values: ['2.500'] },
      { op: 'in', values: ['2.50', '10'] },
      { op: 'gt', values: ['-0.5'] },
      { op: 'eq', values: ['1e1'] },
    ],
  },
  {
    column: 'at',
    before: ['2026-01-01 00:00:00+00', '2026-01-01 01:00:00+01', '2026-01-01 00:00:00.000001+00', '2025-12-31 23:59:59.999999+00', '2026-06-01 12:00:00+00', null],
    after: ['2026-06-01 14:00:00+02', '2025-01-01 00:00:00+00', '2026-01-01 00:00:00+00', null, '2030-01-01 00:00:00+00', '2026-01-01 00:00:00.000001+00'],
    filters: [
      { op: 'eq', values: ['2026-01-01T00:00:00Z'] },
      { op: 'neq', values: ['2026-01-01T00:00:00Z'] },
      { op: 'lt', values: ['2026-01-01T00:00:00Z'] },
      { op: 'lte', values: ['2026-01-01T00:00:00Z'] },
      { op: 'gt', values: ['2026-01-01T00:00:00Z'] },
      { op: 'gte', values: ['2026-01-01T01:00:00+01:00'] },
      { op: 'in', values: ['2026-01-01T00:00:00+00:00', '2026-06-01T12:00:00Z'] },
    ],
  },
  {
    column: 'flag',
    before: ['true', 'false', null, 'true'],
    after: ['false', 'false', 'true', null],
    filters: [
      { op: 'eq', values: ['true'] },
      { op: 'neq', values: ['true'] },
      { op: 'eq', values: ['false'] },
      { op: 'neq', values: ['false'] },
      // Forms PostgreSQL's bool input accepts.
      { op: 'eq', values: ['t'] },
      { op: 'neq', values: ['no'] },
    ],
  },
  {
    column: 'ref',
    before: [U1, U2, U3, null],
    after: [U2, U2, U1, U3],
    filters: [
      { op: 'eq', values: [U1] },
      { op: 'eq', values: [U2.toUpperCase()] },
      { op: 'in', values: [U1, U3.toUpperCase()] },
      // Forms PostgreSQL's uuid input accepts.
      { op: 'eq', values: [`{${U1}}`] },
      { op: 'in', values: [U2.replace(/-/g, ''), U3] },
    ],
  },
  {
    column: 'label',
    before: ['apple', 'Apple', 'a.b', 'c,d', ' spaced ', null, "it's"],
    after: ['Apple', 'apple', 'c,d', 'a.b', "it's", 'apple', null],
    filters: [
      { op: 'eq', values: ['apple'] },
      { op: 'neq', values: ['apple'] },
      { op: 'eq', values: ['a.b'] },
      { op: 'eq', values: ["it's"] },
      { op: 'in', values: ['Apple', 'c,d', ' spaced '] },
    ],
  },
];

describe.each<Vsn>(['1.0.0', '2.0.0'])('postgres_changes conformance, vsn %s', (vsn) => {
  describe('filter operators (REPLICA IDENTITY FULL: INSERT/UPDATE see the new row, DELETE the old one)', () => {
    it.each(MATRIX)('$column: every operator delivers exactly the rows PostgreSQL selects', async ({ column, before, after, filters }) => {
      const ids = freshIds(before.length);
      const { heard } = await opened(client(vsn).realtime, [
        { event: '*', schema: 'public', table: 'cf_full' },
        ...filters.map((filter) => ({ event: '*', schema: 'public', table: 'cf_full', filter: filterText(column, filter) })),
      ]);
      const expected: Array<Array<[string, number]>> = filters.map(() => []);
      const record = async (type: string) => {
        for (const [index, filter] of filters.entries()) {
          for (const id of await idsWhere('cf_full', ids, sqlCondition(column, filter))) expected[index]!.push([type, id]);
        }
      };
      for (const [index, id] of ids.entries()) await db.query(`insert into cf_full (id, ${column}) values ($1, $2)`, [id, before[index]]);
      await record('INSERT');
      for (const [index, id] of ids.entries()) await db.query(`update cf_full set ${column} = $2 where id = $1`, [id, after[index]]);
      await record('UPDATE');
      await record('DELETE'); // the old rows of the DELETEs are the rows as they are now
      for (const id of ids) await db.query('delete from cf_full where id = $1', [id]);

      // One message per channel per change, in order: once the unfiltered binding heard the last
      // DELETE, every filtered binding has heard all it ever will of these rows.
      await waitFor(() => (has(heard[0]!, 'DELETE', ids[ids.length - 1]!) ? true : undefined), ARRIVAL_MS);
      expect(events(heard[0]!, ids)).toEqual([...ids.map((id) => ['INSERT', id]), ...ids.map((id) => ['UPDATE', id]), ...ids.map((id) => ['DELETE', id])]);
      for (const [index, filter] of filters.entries()) {
        // Each case must be able to fail both ways: some of its events match and some don't.
        expect(expected[index]!.length).toBeGreaterThan(0);
        expect(expected[index]!.length).toBeLessThan(ids.length * 3);
        expect({ filter: filterText(column, filter), heard: events(heard[index + 1]!, ids) }).toEqual({ filter: filterText(column, filter), heard: expected[index] });
      }
    });
  });

  it('default replica identity: UPDATE filters see the new row; a DELETE has only its key, so only key filters match it (§2.7, §2.8)', async () => {
    const ids = freshIds(4);
    const filters: Array<[string, FilterCase]> = [
      ['n', { op: 'gte', values: ['3'] }],
      ['n', { op: 'in', values: ['1', '5'] }],
      ['label', { op: 'eq', values: ['x'] }],
      ['id', { op: 'eq', values: [String(ids[1])] }],
      ['id', { op: 'in', values: [String(ids[0]), String(ids[3])] }],
      ['id', { op: 'gt', values: [String(ids[1])] }],
    ];
    const { heard } = await opened(client(vsn).realtime, [
      { event: '*', schema: 'public', table: 'cf' },
      ...filters.map(([column, filter]) => ({ event: '*', schema: 'public', table: 'cf', filter: filterText(column, filter) })),
    ]);
    const expected: Array<Array<[string, number]>> = filters.map(() => []);
    const record = async (type: string, onlyKeyFilters = false) => {
      for (const [index, [column, filter]] of filters.entries()) {
        if (onlyKeyFilters && column !== 'id') continue;
        for (const id of await idsWhere('cf', ids, sqlCondition(column, filter))) expected[index]!.push([type, id]);
      }
    };
    const values = [
      [1, 'x'],
      [3, 'y'],
      [5, 'x'],
      [null, null],
    ];
    for (const [index, id] of ids.entries()) await db.query('insert into cf (id, n, label) values ($1, $2, $3)', [id, ...values[index]!]);
    await record('INSERT');
    for (const id of ids) await db.query(`update cf set n = coalesce(n, 0) + 2, label = case when label = 'x' then 'y' else 'x' end where id = $1`, [id]);
    await record('UPDATE');
    await record('DELETE', true);
    for (const id of ids) await db.query('delete from cf where id = $1', [id]);

    await waitFor(() => (has(heard[0]!, 'DELETE', ids[ids.length - 1]!) ? true : undefined), ARRIVAL_MS);
    for (const [index, [column, filter]] of filters.entries()) {
      expect({ filter: filterText(column, filter), heard: events(heard[index + 1]!, ids) }).toEqual({ filter: filterText(column, filter), heard: expected[index] });
    }
    // The non-key filters did match rows that were then deleted, and still heard no DELETE.
    expect(expected[0]!.some(([type]) => type === 'UPDATE')).toBe(true);
    expect(heard[4]!.filter((change) => change.eventType === 'DELETE').map((change) => change.old)).toEqual([{ id: ids[1] }]);
  });

  describe('payloads (§2.4, §2.8)', () => {
    /** Runs INSERT, UPDATE, DELETE of one row of `table` in three transactions; returns rows and commit windows. */
    async function lifecycle(table: string, id: number) {
      const window = async (statement: string, params: unknown[]) => {
        await db.query('begin');
        const start = (await db.query<{ start: Date }>('select now() as start')).rows[0]!.start;
        await db.query(statement, params);
        await db.query('commit');
        const end = (await db.query<{ end: Date }>('select clock_timestamp() as end')).rows[0]!.end;
        return { start: start.getTime(), end: end.getTime() };
      };
      const windows: Array<{ start: number; end: number }> = [];
      windows.push(await window(`insert into ${table} values ($1, 7, 1.25, '2026-03-04 05:06:07.089+00', true, $2, 'first')`, [id, U1]));
      const inserted = await fetchRow(table, id);
      windows.push(await window(`update ${table} set label = 'second', n = null where id = $1`, [id]));
      const updated = await fetchRow(table, id);
      windows.push(await window(`delete from ${table} where id = $1`, [id]));
      return { inserted, updated, windows };
    }

    const COLUMN_TYPES = [
      { name: 'id', type: 'int4' },
      { name: 'n', type: 'int4' },
      { name: 'amount', type: 'numeric' },
      { name: 'at', type: 'timestamptz' },
      { name: 'flag', type: 'bool' },
      { name: 'ref', type: 'uuid' },
      { name: 'label', type: 'text' },
    ];

    it.each([
      ['default', 'cf'],
      ['FULL', 'cf_full'],
    ])('REPLICA IDENTITY %s: keys per type, columns, commit_timestamp, errors null, old_record', async (identity, table) => {
      const { realtime, raw } = client(vsn);
      const { heard, topic, bindingIds } = await opened(realtime, [{ event: '*', schema: 'public', table }]);
      const id = freshId();
      const { inserted, updated, windows } = await lifecycle(table, id);
      await waitFor(() => (has(heard[0]!, 'DELETE', id) ? true : undefined), ARRIVAL_MS);
      const mine = raw.filter((message) => message.topic === topic && ((message.payload.data.record ?? message.payload.data.old_record)?.id === id));
      expect(mine.map((message) => [message.payload.data.type, Object.keys(message.payload.data).sort()])).toEqual([
        ['INSERT', ['columns', 'commit_timestamp', 'errors', 'record', 'schema', 'table', 'type']],
        ['UPDATE', ['columns', 'commit_timestamp', 'errors', 'old_record', 'record', 'schema', 'table', 'type']],
        ['DELETE', ['columns', 'commit_timestamp', 'errors', 'old_record', 'schema', 'table', 'type']],
      ]);
      for (const [index, { payload }] of mine.entries()) {
        expect(payload.ids).toEqual(bindingIds());
        expect(payload.data).toMatchObject({ schema: 'public', table, errors: null });
        expect(payload.data.columns).toEqual(COLUMN_TYPES);
        expect(payload.data.commit_timestamp).toMatch(TIMESTAMP);
        // Committed inside the transaction's window (the format truncates to milliseconds).
        const committed = Date.parse(payload.data.commit_timestamp!);
        expect(committed).toBeGreaterThanOrEqual(Math.floor(windows[index]!.start));
        expect(committed).toBeLessThanOrEqual(windows[index]!.end);
      }
      const [insert, update, del] = heard[0]!.filter((change) => idOf(change) === id);
      expect(insert!.new).toEqual(inserted);
      expect(insert!.old).toEqual({});
      expect(update!.new).toEqual(updated);
      expect(update!.old).toEqual(identity === 'FULL' ? inserted : { id });
      expect(del!.new).toEqual({});
      expect(del!.old).toEqual(identity === 'FULL' ? updated : { id });
      expect(heard[0]!.filter((change) => idOf(change) === id).map((change) => change.errors)).toEqual([null, null, null]);
    });

    it('a table without a primary key: error 400, row withheld, keys per type kept', async () => {
      const { realtime, raw } = client(vsn);
      const { heard, topic } = await opened(realtime, [
        { event: '*', schema: 'public', table: 'keyless_full' },
        { event: 'INSERT', schema: 'public', table: 'keyless' },
      ]);
      const [id, id2] = [freshId(), freshId()];
      await db.query(`insert into keyless_full values ($1, 'a')`, [id]);
      await db.query(`update keyless_full set name = 'b' where id = $1`, [id]);
      await db.query('delete from keyless_full where id = $1', [id]);
      await db.query(`insert into keyless values ($1, 'c')`, [id2]);
      await waitFor(() => (heard[1]!.length > 0 ? true : undefined), ARRIVAL_MS);
      const mine = raw.filter((message) => message.topic === topic);
      const withheld = { columns: [], commit_timestamp: null, errors: ['Error 400: Bad Request, no primary key'] };
      // Other keyless rows can't be told apart (their ids are withheld too): take the last four.
      expect(mine.slice(-4).map(({ payload }) => payload.data)).toEqual([
        { schema: 'public', table: 'keyless_full', type: 'INSERT', record: {}, ...withheld },
        { schema: 'public', table: 'keyless_full', type: 'UPDATE', record: {}, old_record: {}, ...withheld },
        { schema: 'public', table: 'keyless_full', type: 'DELETE', old_record: {}, ...withheld },
        { schema: 'public', table: 'keyless', type: 'INSERT', record: {}, ...withheld },
      ]);
      expect(heard[0]!.slice(-3).map((change) => [change.eventType, change.new, change.old, change.errors])).toEqual([
        ['INSERT', {}, {}, withheld.errors],
        ['UPDATE', {}, {}, withheld.errors],
        ['DELETE', {}, {}, withheld.errors],
      ]);
    });
  });

  describe('access_token refresh (§2.6)', () => {
    it('moves RLS visibility from user A to user B', async () => {
      const [alice, bob] = [`alice-${vsn}`, `bob-${vsn}`];
      const { realtime } = client(vsn);
      await realtime.setAuth(stack.signToken({ sub: alice }));
      const { channel, heard } = await opened(realtime, [{ event: 'INSERT', schema: 'public', table: 'owned' }], { broadcast: { ack: true } });
      const [a1, b1, a2, b2, b3] = [freshId(), freshId(), freshId(), freshId(), freshId()];
      await db.query('insert into owned values ($1, $2, $3)', [a1, alice, 'a1']);
      await db.query('insert into owned values ($1, $2, $3)', [b1, bob, 'b1']);
      await waitFor(() => (has(heard[0]!, 'INSERT', a1) ? true : undefined), ARRIVAL_MS);

      await realtime.setAuth(stack.signToken({ sub: bob }));
      // The server handles a socket's frames in order: once this is acknowledged, so is the refresh.
      expect(await channel.send({ type: 'broadcast', event: 'barrier', payload: {} })).toBe('ok');
      await db.query('insert into owned values ($1, $2, $3)', [a2, alice, 'a2']);
      await db.query('insert into owned values ($1, $2, $3)', [b2, bob, 'b2']);
      await db.query('insert into owned values ($1, $2, $3)', [b3, bob, 'b3']);
      await waitFor(() => (has(heard[0]!, 'INSERT', b3) ? true : undefined), ARRIVAL_MS);
      expect(events(heard[0]!, [a1, b1, a2, b2, b3])).toEqual([
        ['INSERT', a1],
        ['INSERT', b2],
        ['INSERT', b3],
      ]);
      expect(channel.state).toBe('joined');
    });

    it.each([
      ['an expired token', () => stack.signToken({ sub: 'x', exp: Math.floor(Date.now() / 1000) - 30 }), /^Token has expired \d+ seconds ago$/],
      ['a token signed with another secret', () => signJwt('not-the-secret-but-at-least-32-characters!', { role: 'authenticated', sub: 'x', exp: Math.floor(Date.now() / 1000) + 3600 }), /^Invalid JWT: /],
    ])('%s: a system error naming why, then the channel closes and hears nothing more', async (_name, makeToken, message) => {
      const { realtime } = client(vsn);
      const owner = `closer-${vsn}-${freshId()}`;
      await realtime.setAuth(stack.signToken({ sub: owner }));
      const { channel, heard, systems } = await opened(realtime, [{ event: 'INSERT', schema: 'public', table: 'owned' }]);
      const [before, after] = [freshId(), freshId()];
      await db.query('insert into owned values ($1, $2, $3)', [before, owner, 'before']);
      await waitFor(() => (has(heard[0]!, 'INSERT', before) ? true : undefined), ARRIVAL_MS);

      await realtime.setAuth(makeToken());
      const error = await waitFor(() => systems.find((system) => system.extension === 'system'), ARRIVAL_MS);
      expect(error).toEqual({ extension: 'system', status: 'error', message: expect.stringMatching(message), channel: topicName(channel) });
      await waitFor(() => (channel.state === 'closed' ? true : undefined), ARRIVAL_MS);

      // Sentinel on another client: the server sends a change to every subscriber in one pass, so once
      // this one heard `after`, a frame for the closed channel (had there been one) was sent too.
      const { realtime: other } = client(vsn);
      await other.setAuth(stack.signToken({ sub: owner }));
      const sentinel = await opened(other, [{ event: 'INSERT', schema: 'public', table: 'owned' }]);
      await db.query('insert into owned values ($1, $2, $3)', [after, owner, 'after']);
      await waitFor(() => (has(sentinel.heard[0]!, 'INSERT', after) ? true : undefined), ARRIVAL_MS);
      expect(events(heard[0]!, [before, after])).toEqual([['INSERT', before]]);
    });
  });

  describe('filter values that look like SQL (never executed)', () => {
    it.each([
      ['id', '1;drop table victim'],
      ['id', "1); drop table victim; --"],
      ['amount', '1 or 1=1'],
      ['at', "2026-01-01'); drop table victim; --"],
      ['ref', "' or ''='"],
    ])('%s=eq.%s is refused with a system error naming the value', async (column, value) => {
      const table = column === 'id' ? 'victim' : 'cf';
      const { system, channel } = await open(client(vsn).realtime, [{ event: '*', schema: 'public', table, filter: `${column}=eq.${value}` }]);
      expect(system).toMatchObject({ extension: 'postgres_changes', status: 'error' });
      expect(system.message).toContain(value);
      expect(channel.state).toBe('joined');
      expect(await db.query(`select label from victim where id = 1`).then((result) => result.rows)).toEqual([{ label: 'still here' }]);
    });

    it('refuses a column or table name carrying SQL with a system error naming it', async () => {
      const realtime = client(vsn).realtime;
      const badColumn = await open(realtime, [{ event: '*', schema: 'public', table: 'victim', filter: 'id;drop table victim=eq.1' }]);
      expect(badColumn.system).toMatchObject({ extension: 'postgres_changes', status: 'error' });
      expect(badColumn.system.message).toContain('id;drop table victim');
      const badTable = await open(realtime, [{ event: '*', schema: 'public', table: 'victim; drop table victim' }]);
      expect(badTable.system).toMatchObject({ extension: 'postgres_changes', status: 'error' });
      expect(badTable.system.message).toContain('victim; drop table victim');
      expect(await db.query(`select label from victim where id = 1`).then((result) => result.rows)).toEqual([{ label: 'still here' }]);
    });

    it('matches a text value full of SQL literally, with eq and in', async () => {
      const evil = "'); drop table victim; --";
      const quoted = 'x"); select pg_sleep(5); --';
      const { heard } = await opened(client(vsn).realtime, [
        { event: 'INSERT', schema: 'public', table: 'victim', filter: `label=eq.${evil}` },
        { event: 'INSERT', schema: 'public', table: 'victim', filter: `label=in.(${inElement(quoted)},${evil})` },
        { event: 'INSERT', schema: 'public', table: 'victim' },
      ]);
      const [hit, quotedHit, near, sentinel] = [freshId(), freshId(), freshId(), freshId()];
      await db.query('insert into victim values ($1, $2)', [hit, evil]);
      await db.query('insert into victim values ($1, $2)', [quotedHit, quoted]);
      await db.query('insert into victim values ($1, $2)', [near, "'); drop table victim;"]);
      await db.query('insert into victim values ($1, $2)', [sentinel, 'plain']);
      await waitFor(() => (has(heard[2]!, 'INSERT', sentinel) ? true : undefined), ARRIVAL_MS);
      const all = [hit, quotedHit, near, sentinel];
      expect(events(heard[0]!, all)).toEqual([['INSERT', hit]]);
      expect(events(heard[1]!, all)).toEqual([
        ['INSERT', hit],
        ['INSERT', quotedHit],
      ]);
      expect(await idsWhere('victim', all, `label = ${literal(evil)}`)).toEqual([hit]);
      expect(await db.query(`select label from victim where id = 1`).then((result) => result.rows)).toEqual([{ label: 'still here' }]);
    });
  });

  describe('several channels and bindings on one client', () => {
    it('two channels with different filters on one table each get exactly their rows', async () => {
      const { realtime, raw } = client(vsn);
      const ids = freshIds(5);
      const low = await opened(realtime, [{ event: 'INSERT', schema: 'public', table: 'cf', filter: 'n=lt.5' }]);
      const high = await opened(realtime, [{ event: 'INSERT', schema: 'public', table: 'cf', filter: 'n=gte.5' }]);
      const ns = [1, 9, 5, 4, 7];
      for (const [index, id] of ids.entries()) await db.query('insert into cf (id, n) values ($1, $2)', [id, ns[index]]);
      // The last row is high's: low's rows were all sent before it on the same socket.
      await waitFor(() => (has(high.heard[0]!, 'INSERT', ids[4]!) ? true : undefined), ARRIVAL_MS);
      expect(events(low.heard[0]!, ids)).toEqual((await idsWhere('cf', ids, 'n < 5')).map((id) => ['INSERT', id]));
      expect(events(high.heard[0]!, ids)).toEqual((await idsWhere('cf', ids, 'n >= 5')).map((id) => ['INSERT', id]));
      // Each change went to exactly one topic, once.
      const topics = raw.filter((message) => ids.includes(message.payload.data.record?.id as number)).map((message) => message.topic);
      expect(topics).toEqual(ns.map((n) => (n < 5 ? low.topic : high.topic)));
    });

    it('one channel with two bindings matching a change gets ONE message carrying both ids', async () => {
      const { realtime, raw } = client(vsn);
      const [both, onlyFirst] = [freshId(), freshId()];
      const { heard, topic, bindingIds } = await opened(realtime, [
        { event: 'INSERT', schema: 'public', table: 'cf', filter: `id=in.(${both},${onlyFirst})` },
        { event: '*', schema: 'public', table: 'cf', filter: `id=eq.${both}` },
      ]);
      await db.query('insert into cf (id) values ($1)', [both]);
      await db.query('insert into cf (id) values ($1)', [onlyFirst]);
      await waitFor(() => (has(heard[0]!, 'INSERT', onlyFirst) ? true : undefined), ARRIVAL_MS);
      const [first, second] = bindingIds();
      expect(first).not.toEqual(second);
      const messages = raw.filter((message) => message.topic === topic).map((message) => [message.payload.data.record?.id, message.payload.ids]);
      expect(messages).toEqual([
        [both, [first, second]],
        [onlyFirst, [first]],
      ]);
      expect(events(heard[0]!, [both, onlyFirst])).toEqual([
        ['INSERT', both],
        ['INSERT', onlyFirst],
      ]);
      expect(events(heard[1]!, [both, onlyFirst])).toEqual([['INSERT', both]]);
    });
  });
});

/** A channel's name as the server's `system` messages give it (its topic without `realtime:`). */
function topicName(channel: RealtimeChannel): string {
  return channel.topic.replace(/^realtime:/, '');
}

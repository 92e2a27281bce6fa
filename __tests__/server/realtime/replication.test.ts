/**
 * The replication stream against the real PostgreSQL of the test stack, in a database of its own
 * (PostgREST watches the main database's DDL, and other files stream from it): payload shapes per
 * replica identity, values equal to to_json, transaction grouping and order, TOAST, reconnection
 * after the walsender is terminated, and a stop() that leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import {
  createReplicationStream,
  formatCommitTimestamp,
  isReplicationError,
  NO_PRIMARY_KEY_ERROR,
  type ChangeEvent,
  type ReplicationError,
  type ReplicationStatus,
  type ReplicationStream,
} from '../../../lib/server/realtime/replication/index.js';
import { decodePgoutput } from '../../../lib/server/realtime/replication/pgoutput.js';
import { comparePositions, parsePosition } from '../../../lib/server/realtime/replication/resumeLog.js';
import { testStack } from '../../support/stack';

const suffix = randomBytes(4).toString('hex');
const database = `rt_replication_${suffix}`;
const slotBase = `rt_test_${suffix}`;
// Not UTC, and with minutes in its offset: values must come out in the database's default zone.
const DATABASE_TIME_ZONE = 'Asia/Kolkata';

let admin: pg.Client;
let db: pg.Client;
let databaseUrl: string;
let stream: ReplicationStream;
const batches: ChangeEvent[][] = [];
const statuses: ReplicationStatus[] = [];
const errors: ReplicationError[] = [];
let startPosition: string;

const SCHEMA = `
  create type mood as enum ('happy', 'sad');
  create domain positive as int4 check (value > 0);
  create type pair as (n int4, label text, at timestamptz, tags text[]);
  create table items (id int4 primary key, name text, qty int4, big text);
  create table full_items (id int4 primary key, name text, qty int4, big text);
  alter table full_items replica identity full;
  create table coded (id int4 primary key, code text not null, note text);
  create unique index coded_code on coded (code);
  alter table coded replica identity using index coded_code;
  create table keyless (a int4, b text);
  create table keyless_full (a int4, b text);
  alter table keyless_full replica identity full;
  create table typed (
    id int4 primary key, i2 int2, i8 int8, num numeric, f4 float4, f8 float8, flag bool, t text,
    vc varchar(10), ch char(3), js json, jsb jsonb, d date, tm time, ttz timetz, ts timestamp,
    tstz timestamptz, iv interval, u uuid, bin bytea, ip inet, ints int4[], texts text[],
    stamps timestamptz[], feeling mood, feelings mood[], pos positive, poss positive[], p pair,
    pairs pair[], r int4range, pt point, money_value money, nothing text
  );
  create publication rt_pub for all tables;
`;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: testStack().databaseUrl });
  await admin.connect();
  await admin.query(`create database ${database}`);
  await admin.query(`alter database ${database} set timezone to '${DATABASE_TIME_ZONE}'`);
  // The test stack commits asynchronously, so walsenders would see each commit only when the WAL
  // writer flushes it (up to 200 ms later); this database's own sessions flush at commit.
  await admin.query(`alter database ${database} set synchronous_commit to on`);
  const url = new URL(testStack().databaseUrl);
  url.pathname = `/${database}`;
  databaseUrl = url.toString();
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  await db.query(SCHEMA);
  stream = createReplicationStream({
    databaseUrl,
    publication: 'rt_pub',
    slotName: slotBase,
    reconnectDelaysMs: [50, 100],
    onChanges: (events) => batches.push(events),
    onStatus: (status) => statuses.push(status),
    onError: (error) => errors.push(error),
  });
  ({ startPosition } = await stream.start());
});

afterAll(async () => {
  await stream?.stop();
  await db?.end();
  if (admin) {
    // Slots first: a database with a slot (even an inactive one) cannot be dropped.
    await admin.query(`select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name like $1 and not active`, [`${slotBase}%`]);
    await admin.query(`drop database if exists ${database} with (force)`);
    await admin.end();
  }
});

const allEvents = () => batches.flat();

/** Waits until the stream has delivered an event `predicate` accepts; returns every event since `from`. */
async function eventsUntil(from: number, predicate: (event: ChangeEvent) => boolean, timeoutMs = 5000): Promise<ChangeEvent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = allEvents().slice(from);
    if (events.some(predicate)) return events;
    if (Date.now() > deadline) throw new Error(`no matching change within ${timeoutMs} ms; got ${JSON.stringify(events.map((e) => [e.table, e.type]))}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Runs `sql` (one transaction) and returns the events of the tables it names, once its marker arrived. */
async function changesOf(sql: string, marker: { table: string; type: ChangeEvent['type'] }): Promise<ChangeEvent[]> {
  const from = allEvents().length;
  await db.query(sql);
  return eventsUntil(from, (event) => event.table === marker.table && event.type === marker.type);
}

async function until<T>(read: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const position = expect.stringMatching(/^[0-9A-F]{16}:[0-9A-F]{8}$/);
const commitTimestamp = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
const itemColumns = [
  { name: 'id', type: 'int4' },
  { name: 'name', type: 'text' },
  { name: 'qty', type: 'int4' },
  { name: 'big', type: 'text' },
];

describe('payload shapes', () => {
  test('REPLICA IDENTITY DEFAULT: INSERT has record; UPDATE has old_record = the key from the new row; DELETE has the old key', async () => {
    const events = await changesOf(
      `insert into items values (1, 'one', 5, null); update items set qty = 6 where id = 1; delete from items where id = 1`,
      { table: 'items', type: 'DELETE' },
    );
    const base = { position, commitTimestamp, schema: 'public', table: 'items', columns: itemColumns, primaryKey: ['id'], errors: null };
    expect(events).toEqual([
      { ...base, type: 'INSERT', record: { id: 1, name: 'one', qty: 5, big: null }, recordText: { id: '1', name: 'one', qty: '5', big: null } },
      {
        ...base,
        type: 'UPDATE',
        record: { id: 1, name: 'one', qty: 6, big: null },
        recordText: { id: '1', name: 'one', qty: '6', big: null },
        oldRecord: { id: 1 },
        oldRecordText: { id: '1' },
      },
      { ...base, type: 'DELETE', oldRecord: { id: 1 }, oldRecordText: { id: '1' } },
    ]);
    // Key presence as in Supabase, not merely undefined values.
    expect(Object.keys(events[0]!)).not.toContain('oldRecord');
    expect(Object.keys(events[2]!)).not.toContain('record');
  });

  test('REPLICA IDENTITY FULL: old_record is the whole previous row for UPDATE and DELETE', async () => {
    const events = await changesOf(
      `insert into full_items values (1, 'one', 5, 'b'); update full_items set qty = 6 where id = 1; delete from full_items where id = 1`,
      { table: 'full_items', type: 'DELETE' },
    );
    expect(events.map((event) => [event.type, event.record, event.oldRecord])).toEqual([
      ['INSERT', { id: 1, name: 'one', qty: 5, big: 'b' }, undefined],
      ['UPDATE', { id: 1, name: 'one', qty: 6, big: 'b' }, { id: 1, name: 'one', qty: 5, big: 'b' }],
      ['DELETE', undefined, { id: 1, name: 'one', qty: 6, big: 'b' }],
    ]);
    // FULL flags every column as identity in the log; the primary key still comes from the catalog.
    expect(events.every((event) => event.primaryKey.join() === 'id' && event.errors === null)).toBe(true);
  });

  test('an UPDATE that changes the key carries the old key in old_record', async () => {
    await db.query(`insert into items values (10, 'ten', 1, null)`);
    const events = await changesOf(`update items set id = 11 where id = 10`, { table: 'items', type: 'UPDATE' });
    const update = events.find((event) => event.type === 'UPDATE')!;
    expect(update.record).toEqual({ id: 11, name: 'ten', qty: 1, big: null });
    expect(update.oldRecord).toEqual({ id: 10 });
    expect(update.oldRecordText).toEqual({ id: '10' });
  });

  test('a table without a primary key: every change carries the "no primary key" error', async () => {
    const inserted = await changesOf(`insert into keyless values (1, 'x')`, { table: 'keyless', type: 'INSERT' });
    expect(inserted.at(-1)).toMatchObject({ type: 'INSERT', record: { a: 1, b: 'x' }, primaryKey: [], errors: [NO_PRIMARY_KEY_ERROR] });
    // Only REPLICA IDENTITY FULL lets a keyless table publish updates and deletes at all.
    const changed = await changesOf(
      `insert into keyless_full values (1, 'x'); update keyless_full set b = 'y'; delete from keyless_full`,
      { table: 'keyless_full', type: 'DELETE' },
    );
    expect(changed.map((event) => [event.type, event.oldRecord ?? null, event.errors])).toEqual([
      ['INSERT', null, [NO_PRIMARY_KEY_ERROR]],
      ['UPDATE', { a: 1, b: 'x' }, [NO_PRIMARY_KEY_ERROR]],
      ['DELETE', { a: 1, b: 'y' }, [NO_PRIMARY_KEY_ERROR]],
    ]);
  });

  test('REPLICA IDENTITY USING INDEX: old_record holds the index columns; primaryKey is still the primary key', async () => {
    const events = await changesOf(
      `insert into coded values (1, 'c1', 'n'); update coded set note = 'm' where id = 1; delete from coded where id = 1`,
      { table: 'coded', type: 'DELETE' },
    );
    expect(events.map((event) => [event.type, event.oldRecord ?? null, event.primaryKey])).toEqual([
      ['INSERT', null, ['id']],
      ['UPDATE', { code: 'c1' }, ['id']],
      ['DELETE', { code: 'c1' }, ['id']],
    ]);
  });
});

describe('values', () => {
  const VALUES = `(
    1, -32768, 9007199254740993, 12345678901234567890.000123, 1.5, -0.1, true, 'a "q" \\ é 😀',
    'vc', 'ab', '{"a":[1,{"b":null}],"a":2}', '{"k":[true,1.50]}', '2026-11-24', '23:59:59.999999', '10:00:00+05:45',
    '2026-11-24 10:00:00.123456', '2026-11-24 10:00:00.5+00', '1 year 2 mons 3 days 04:05:06.5', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    '\\xdeadbeef', '192.168.0.1/24', '{1,NULL,3}', '{"x y",NULL,"NULL",""}', '{"2026-01-01 00:00:00+00","infinity"}',
    'happy', '{happy,sad}', 7, '{1,2}', row(1, 'l "q"', '2026-06-01 12:00+02', '{a,b}'),
    array[row(2, null, null, '{}')::pair], '[1,5)', '(1.5,-2)', 12.34, null
  )`;

  test('record equals to_json of the row, read at the same moment (all columns, many types)', async () => {
    const events = await changesOf(`insert into typed values ${VALUES}`, { table: 'typed', type: 'INSERT' });
    const { rows } = await db.query<{ row: string }>(`select to_json(typed_row)::text as row from typed typed_row where id = 1`);
    const expected = JSON.parse(rows[0]!.row) as Record<string, unknown>;
    const event = events.at(-1)!;
    expect(event.record).toEqual(expected);
    // Not vacuous: offsets are the database's zone, and values are typed.
    expect(expected.tstz).toBe('2026-11-24T15:30:00.5+05:30');
    expect(expected.i8).toBe(9007199254740992);
  });

  test('columns name the declared types as pg_type.typname (domains and enums keep their own name)', async () => {
    const event = allEvents().find((candidate) => candidate.table === 'typed')!;
    const types = Object.fromEntries(event.columns.map((column) => [column.name, column.type]));
    expect(types).toMatchObject({
      id: 'int4', i8: 'int8', num: 'numeric', vc: 'varchar', ch: 'bpchar', jsb: 'jsonb', tstz: 'timestamptz', ints: '_int4',
      texts: '_text', feeling: 'mood', feelings: '_mood', pos: 'positive', poss: '_positive', p: 'pair', pairs: '_pair', r: 'int4range',
    });
    expect(event.recordText).toMatchObject({ flag: 't', tstz: '2026-11-24 15:30:00.5+05:30', nothing: null });
  });

  test('an UPDATE row equals to_json too (values converted the same way on every path)', async () => {
    const events = await changesOf(`update typed set f8 = 'NaN', num = 'Infinity', js = 'null' where id = 1`, { table: 'typed', type: 'UPDATE' });
    const { rows } = await db.query<{ row: string }>(`select to_json(typed_row)::text as row from typed typed_row where id = 1`);
    expect(events.at(-1)!.record).toEqual(JSON.parse(rows[0]!.row));
  });

  test('commit_timestamp is Supabase\'s to_char(... "YYYY-MM-DD\\"T\\"HH24:MI:SS.MS\\"Z\\""), milliseconds truncated', async () => {
    const { rows } = await db.query<{ micros: string; formatted: string }>(`
      select ((extract(epoch from v) - 946684800) * 1000000)::int8::text as micros,
             to_char(v at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as formatted
        from (values ('2026-11-24 10:00:00.123999+00'::timestamptz), ('1999-12-31 23:59:59.9995+00')) s(v)`);
    for (const row of rows) expect(formatCommitTimestamp(BigInt(row.micros))).toBe(row.formatted);
  });
});

describe('transactions', () => {
  test('arrive whole, in commit order, with strictly increasing positions', async () => {
    const other = new pg.Client({ connectionString: databaseUrl });
    await other.connect();
    try {
      const from = allEvents().length;
      const batchesBefore = batches.length;
      // The first transaction to start commits last.
      await db.query(`begin; insert into items values (100, 'late', 1, null)`);
      await other.query(`begin; insert into items values (200, 'early', 1, null); insert into items values (201, 'early', 2, null); commit`);
      await db.query(`insert into items values (101, 'late', 2, null); insert into items values (102, 'late', 3, null); commit`);
      for (let i = 0; i < 20; i++) await other.query(`insert into items values (${300 + i}, 'single', ${i}, null)`);
      const events = await eventsUntil(from, (event) => event.record?.id === 319);
      expect(events.map((event) => event.record!.id)).toEqual([200, 201, 100, 101, 102, ...Array.from({ length: 20 }, (_, i) => 300 + i)]);

      const parsed = events.map((event) => parsePosition(event.position)!);
      for (let i = 1; i < events.length; i++) expect(comparePositions(events[i - 1]!.position, events[i]!.position)).toBe(-1);
      // A transaction's changes share its commit LSN and count from 0; different transactions differ in LSN.
      expect(parsed.slice(0, 5).map((p) => p.seq)).toEqual([0, 1, 0, 1, 2]);
      expect(parsed[0]!.lsn).toBe(parsed[1]!.lsn);
      expect(new Set(parsed.map((p) => p.lsn)).size).toBe(22);
      expect(comparePositions(startPosition as never, events[0]!.position)).toBe(-1);

      // No onChanges call splits a transaction.
      for (const batch of batches.slice(batchesBefore)) {
        const lsns = new Set(batch.map((event) => parsePosition(event.position)!.lsn));
        for (const lsn of lsns) {
          const inBatch = batch.filter((event) => parsePosition(event.position)!.lsn === lsn).length;
          expect(inBatch).toBe(events.filter((event) => parsePosition(event.position)!.lsn === lsn).length);
        }
      }
    } finally {
      await other.end();
    }
  });

  test('changes behind a table the catalog must first look up keep their order', async () => {
    const from = allEvents().length;
    await db.query(`
      create type shade as enum ('light', 'dark');
      create table fresh (id int4 primary key, s shade, ss shade[]);
      begin;
      insert into fresh values (1, 'dark', '{light}');
      insert into items values (900, 'behind the lookup', 1, null);
      commit;
      insert into items values (901, 'next transaction', 1, null);`);
    const events = await eventsUntil(from, (event) => event.record?.id === 901);
    expect(events.map((event) => [event.table, event.record!.id])).toEqual([
      ['fresh', 1],
      ['items', 900],
      ['items', 901],
    ]);
    expect(events[0]!.record).toEqual({ id: 1, s: 'dark', ss: ['light'] });
    expect(events[0]!.columns).toEqual([
      { name: 'id', type: 'int4' },
      { name: 's', type: 'shade' },
      { name: 'ss', type: '_shade' },
    ]);
  });

  test('a rolled-back transaction, or rolled-back savepoint, produces nothing', async () => {
    await db.query(`begin; insert into items values (400, 'rolled back', 1, null); rollback`);
    const events = await changesOf(
      `begin; insert into items values (401, 'kept', 1, null); savepoint s; insert into items values (402, 'undone', 1, null);
       rollback to savepoint s; insert into items values (403, 'marker', 1, null); commit`,
      { table: 'items', type: 'INSERT' },
    );
    await eventsUntil(0, (event) => event.record?.id === 403);
    const ids = allEvents().map((event) => event.record?.id);
    expect(ids).not.toContain(400);
    expect(ids).not.toContain(402);
    expect(events.map((event) => event.record!.id)).toEqual([401, 403]);
  });
});

describe('TOAST', () => {
  // md5 hex of random values: ~260 kB that compression cannot shrink under the TOAST threshold.
  const BIG = `(select string_agg(md5(random()::text), '') from generate_series(1, 8000))`;

  test('REPLICA IDENTITY DEFAULT: an UPDATE not touching a large column leaves it out of record (the log has no value for it)', async () => {
    await db.query(`insert into items values (500, 'toast', 1, ${BIG})`);
    const events = await changesOf(`update items set qty = 2 where id = 500`, { table: 'items', type: 'UPDATE' });
    const update = events.at(-1)!;
    expect(update.record).toEqual({ id: 500, name: 'toast', qty: 2 });
    expect(update.recordText).not.toHaveProperty('big');
    expect(update.oldRecord).toEqual({ id: 500 });
  });

  test('REPLICA IDENTITY FULL: the old row holds the large value, so record has it', async () => {
    await db.query(`insert into full_items values (500, 'toast', 1, ${BIG})`);
    const { rows } = await db.query<{ big: string }>(`select big from full_items where id = 500`);
    const events = await changesOf(`update full_items set qty = 2 where id = 500`, { table: 'full_items', type: 'UPDATE' });
    const update = events.at(-1)!;
    expect(update.record).toEqual({ id: 500, name: 'toast', qty: 2, big: rows[0]!.big });
    expect(update.oldRecord).toEqual({ id: 500, name: 'toast', qty: 1, big: rows[0]!.big });
    expect(rows[0]!.big.length).toBeGreaterThan(200_000);
  });
});

describe('limits and options', () => {
  test('a transaction over maxTransactionChanges is not delivered: a resync is requested and later ones flow', async () => {
    const received: ChangeEvent[] = [];
    const seen: ReplicationStatus[] = [];
    const problems: ReplicationError[] = [];
    const small = createReplicationStream({
      databaseUrl,
      publication: 'rt_pub',
      maxTransactionChanges: 3,
      onChanges: (events) => received.push(...events),
      onStatus: (status) => seen.push(status),
      onError: (error) => problems.push(error),
    });
    await small.start();
    try {
      await db.query(`insert into items select g, 'bulk', g, null from generate_series(600, 604) g`);
      await db.query(`insert into items values (605, 'after', 1, null)`);
      await until(() => received.find((event) => event.record?.id === 605));
      expect(received.map((event) => event.record!.id)).toEqual([605]);
      expect(seen).toEqual([{ state: 'live', resyncNeeded: true, reason: 'transaction_too_large', startPosition: expect.any(String) }]);
      // The stream is complete only after the dropped transaction, and the next one comes after that.
      expect(comparePositions(seen[0]!.startPosition!, received[0]!.position)).toBe(-1);
      expect(problems.map((error) => error.code)).toEqual(['REPLICATION_TRANSACTION_TOO_LARGE']);
    } finally {
      await small.stop();
    }
  });

  test('logical messages with a wanted prefix arrive in commit order: after earlier changes, before their own and later transactions\' changes', async () => {
    const order: string[] = [];
    const xids: number[] = [];
    const withMessages = createReplicationStream({
      databaseUrl,
      publication: 'rt_pub',
      messagePrefixes: ['rt_wanted'],
      onChanges: (events) => order.push(...events.map((event) => `change ${String(event.record?.id ?? event.oldRecord?.id)}`)),
      onMessage: (message) => {
        order.push(`message ${message.prefix} ${message.content}`);
        xids.push(message.xid);
      },
    });
    await withMessages.start();
    try {
      // One simple-protocol message (each transaction explicit, or the first would join the second):
      // they commit back to back and arrive in one read.
      await db.query(`
        create temp table message_xids (xid xid8);
        begin; insert into items values (610, 'before', 1, null); commit;
        begin; insert into items values (611, 'own', 1, null); select pg_logical_emit_message(true, 'rt_wanted', 'ddl-1'); insert into message_xids select pg_current_xact_id(); commit;
        select pg_logical_emit_message(true, 'rt_other', 'skipped');
        select pg_logical_emit_message(false, 'rt_wanted', 'not transactional: skipped');
        begin; select pg_logical_emit_message(true, 'rt_wanted', 'rolled back'); rollback;
        begin; insert into items values (612, 'after', 1, null); commit;`);
      await until(() => order.find((entry) => entry === 'change 612'));
      expect(order).toEqual(['change 610', 'message rt_wanted ddl-1', 'change 611', 'change 612']);
      // Each message carries the id of the transaction that emitted it (afterDdl trusts only that one).
      const emitted = (await db.query<{ xid: string }>('select xid::text from message_xids')).rows[0]!.xid;
      expect(xids).toEqual([Number(BigInt(emitted) & 0xffffffffn)]);
      // Decoded as pgoutput sends it: flags, LSN, prefix, length, content.
      const frame = Buffer.concat([Buffer.from([0x4d, 1]), Buffer.alloc(8), Buffer.from('p\0'), Buffer.from([0, 0, 0, 2]), Buffer.from('hi')]);
      expect(decodePgoutput(frame)).toEqual({ tag: 'message', transactional: true, lsn: 0n, prefix: 'p', content: Buffer.from('hi') });
    } finally {
      await withMessages.stop();
    }
    expect(() => createReplicationStream({ databaseUrl, publication: 'rt_pub', messagePrefixes: [''], onChanges: () => undefined })).toThrow(/messagePrefixes/);
  });

  test('invalid options fail at once; a missing publication fails start()', async () => {
    expect(() => createReplicationStream({ databaseUrl, publication: '', onChanges: () => undefined })).toThrow(
      expect.objectContaining({ code: 'REPLICATION_BAD_OPTION' }),
    );
    expect(() => createReplicationStream({ databaseUrl, publication: 'p', slotName: 'Bad-Name', onChanges: () => undefined })).toThrow(/slotName/);
    const missing = createReplicationStream({ databaseUrl, publication: 'no_such_pub', onChanges: () => undefined });
    await expect(missing.start()).rejects.toMatchObject({ code: 'REPLICATION_PUBLICATION_MISSING' });
    await expect(missing.start()).rejects.toMatchObject({ code: 'REPLICATION_BAD_STATE' });
  });
});

describe('decoder', () => {
  test('a truncated or unknown pgoutput message is a REPLICATION_PROTOCOL error, not a crash or a wrong value', () => {
    // Insert into relation 1: one text column announced as 9 bytes, with 1 byte present.
    const truncated = Buffer.from([0x49, 0, 0, 0, 1, 0x4e, 0, 1, 0x74, 0, 0, 0, 9, 0x61]);
    expect(() => decodePgoutput(truncated)).toThrow(expect.objectContaining({ code: 'REPLICATION_PROTOCOL' }));
    expect(() => decodePgoutput(Buffer.from([0x53, 0, 0, 0, 1]))).toThrow(expect.objectContaining({ code: 'REPLICATION_PROTOCOL' }));
    expect(() => decodePgoutput(Buffer.alloc(0))).toThrow(expect.objectContaining({ code: 'REPLICATION_PROTOCOL' }));
    // 'u' (unchanged TOAST) stays distinct from 'n' (NULL).
    const insert = decodePgoutput(Buffer.from([0x49, 0, 0, 0, 1, 0x4e, 0, 3, 0x6e, 0x75, 0x74, 0, 0, 0, 2, 0xc3, 0xa9]));
    expect(insert).toEqual({ tag: 'insert', relationOid: 1, newTuple: [null, undefined, 'é'] });
  });
});

describe('connection loss and stop', () => {
  async function activeSlots(): Promise<Array<{ slot_name: string; active_pid: number | null }>> {
    const { rows } = await admin.query(`select slot_name, active_pid from pg_replication_slots where slot_name like $1 order by slot_name`, [
      `${slotBase}%`,
    ]);
    return rows;
  }

  test('after the walsender is terminated it reconnects, reports resync, and later changes still arrive', async () => {
    const [slot] = await activeSlots();
    expect(slot).toMatchObject({ slot_name: `${slotBase}_1`, active_pid: expect.any(Number) });
    statuses.length = 0;
    await admin.query('select pg_terminate_backend($1)', [slot!.active_pid]);

    const live = await until(() => statuses.find((status) => status.state === 'live'));
    expect(statuses[0]).toEqual({ state: 'reconnecting', resyncNeeded: true, reason: 'connection_lost' });
    expect(live).toEqual({ state: 'live', resyncNeeded: true, reason: 'connection_lost', startPosition: expect.any(String) });
    expect(errors.some((error) => isReplicationError(error, 'REPLICATION_CONNECTION_LOST'))).toBe(true);
    // The old temporary slot died with its connection; the new one has the next name.
    expect((await activeSlots()).map((row) => row.slot_name)).toEqual([`${slotBase}_2`]);

    const events = await changesOf(`insert into items values (700, 'after reconnect', 1, null)`, { table: 'items', type: 'INSERT' });
    expect(events.at(-1)!.record).toMatchObject({ id: 700 });
    expect(comparePositions(live.startPosition!, events.at(-1)!.position)).toBe(-1);
  });

  test('stop() closes the walsender and PostgreSQL drops the slot; nothing runs after it', async () => {
    const [slot] = await activeSlots();
    await stream.stop();
    expect(await activeSlots()).toEqual([]);
    const { rows } = await admin.query(`select pid from pg_stat_activity where pid = $1 or (datname = $2 and backend_type = 'walsender')`, [
      slot!.active_pid,
      database,
    ]);
    expect(rows).toEqual([]);
    const delivered = allEvents().length;
    await db.query(`insert into items values (800, 'after stop', 1, null)`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(allEvents().length).toBe(delivered);
    await expect(stream.start()).rejects.toMatchObject({ code: 'REPLICATION_BAD_STATE' });
    await stream.stop(); // idempotent
  });
});

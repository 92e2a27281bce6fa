/**
 * Catalog facts kept across batches (authorization/catalogEvents.ts), on a stack of this file's own
 * (its DDL would make the shared stack's PostgREST reload): every DDL, role change or dropped
 * trigger takes effect for the very next change committed after it. Each test warms the cache
 * (a batch read after the previous DDL, one more that uses what it kept), then commits a change
 * right after the DDL, for several rounds: a missed or late invalidation leaks a row or loses one.
 */
import pg from 'pg';
import { afterDdl, createCatalogVersions, DDL_EVENT_TRIGGER, installDdlEventTrigger } from '../../../lib/server/realtime/authorization/catalogEvents.js';
import { createVisibilityChecker, type AuthorizationError } from '../../../lib/server/realtime/authorization/index.js';
import type { ConnectablePool, PooledClient } from '../../../lib/server/realtime/authorization/prepared.js';
import { createRealtimeServer, type RealtimeServer } from '../../../lib/server/realtime/server.js';
import { startStack, type Stack } from '../../../lib/server/stack/index.js';
import { rawChannels, type JoinedChannel } from './rawChannels';
import { waitFor } from './realtimeHarness';

const ROUNDS = 4;
const SQL = `
  create table beacon (id int4 primary key);
  grant select on beacon to authenticated;
  create role readers nologin;
`;

let stack: Stack;
let db: pg.Client;
let server: RealtimeServer;
let raw: ReturnType<typeof rawChannels>;
const problems: unknown[] = [];
let nextId = 0;
let tableCount = 0;

const alice = () => stack.signToken({ sub: 'alice' });

beforeAll(async () => {
  stack = await startStack({ sql: SQL });
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  server = await createRealtimeServer({ jwtSecret: stack.jwtSecret, databaseUrl: stack.databaseUrl, onError: (error) => problems.push(error) });
  raw = rawChannels(() => server.url, () => stack.anonKey);
});

afterAll(async () => {
  raw?.closeAll();
  await server?.close();
  await db?.end();
  await stack?.stop();
});

/** A new table (owner, body, secret) readable by `authenticated`, with `setup` run on it (`$t` is its name). */
async function freshTable(setup = ''): Promise<string> {
  const table = `notes_${++tableCount}`;
  await db.query(`create table ${table} (id int4 primary key, owner text not null, body text, secret text);
    grant select on ${table} to authenticated; ${setup.replaceAll('$t', table)}`);
  return table;
}

/** Alice's channel on `table` and on the open `beacon` table (the sentinel). */
async function watch(table: string): Promise<JoinedChannel> {
  const channel = await raw.join({
    accessToken: alice(),
    bindings: [{ event: 'INSERT', schema: 'public', table }, { event: 'INSERT', schema: 'public', table: 'beacon' }],
  });
  await channel.subscribed();
  return channel;
}

async function insert(table: string, owner: string): Promise<number> {
  const id = ++nextId;
  await db.query(`insert into ${table} (id, owner, body, secret) values ($1, $2, 'body', 'secret')`, [id, owner]);
  return id;
}

/** Once alice's channel got a beacon committed now, it got (or was denied) everything before. */
async function settle(channel: JoinedChannel): Promise<void> {
  const id = ++nextId;
  await db.query('insert into beacon values ($1)', [id]);
  await waitFor(() => channel.changes().find((change) => change.data.table === 'beacon' && change.data.record?.id === id));
}

const received = (channel: JoinedChannel, id: number) => channel.changes().find((change) => change.data.record?.id === id);

/** A batch read after the last DDL (facts read and kept), then one that uses the kept facts. */
async function warm(channel: JoinedChannel, table: string, owner = 'alice'): Promise<void> {
  await insert(table, owner);
  await settle(channel);
  await insert(table, owner);
  await settle(channel);
}

describe('kept catalog facts follow DDL committed right before a change', () => {
  it('enable / disable row level security, alone and in the same transaction as the change', async () => {
    const table = await freshTable(`create policy own on $t for select to authenticated using (owner = current_setting('request.jwt.claims', true)::json ->> 'sub');`);
    const channel = await watch(table);
    for (let round = 0; round < ROUNDS; round++) {
      await warm(channel, table, 'bob'); // RLS off: alice sees bob's rows
      await db.query(`alter table ${table} enable row level security`);
      const hidden = await insert(table, 'bob');
      const mine = await insert(table, 'alice');
      // Settled before the next DDL: facts are read when a batch is checked, and a row committed
      // under RLS may go out once RLS is off (anyone may read it then).
      await settle(channel);
      await warm(channel, table);
      await db.query(`alter table ${table} disable row level security`);
      const shown = await insert(table, 'bob');
      await settle(channel);
      await warm(channel, table, 'bob');
      const sameTransaction = ++nextId;
      await db.query(`begin; alter table ${table} enable row level security; insert into ${table} values (${sameTransaction}, 'bob', 'b', 's'); commit`);
      await settle(channel);
      await db.query(`alter table ${table} disable row level security`);
      expect([received(channel, hidden), received(channel, sameTransaction)]).toEqual([undefined, undefined]);
      expect([received(channel, mine), received(channel, shown)]).toEqual([expect.anything(), expect.anything()]);
    }
  });

  it('create, alter and drop a policy', async () => {
    const table = await freshTable('alter table $t enable row level security;');
    const channel = await watch(table);
    for (let round = 0; round < ROUNDS; round++) {
      await warm(channel, table); // no policy: nothing shows
      await db.query(`create policy everything on ${table} for select to authenticated using (true)`);
      const shownByCreate = await insert(table, 'bob');
      await settle(channel);
      await warm(channel, table, 'bob');
      await db.query(`alter policy everything on ${table} using (owner = current_setting('request.jwt.claims', true)::json ->> 'sub')`);
      const hiddenByAlter = await insert(table, 'bob');
      const mine = await insert(table, 'alice');
      await settle(channel);
      await warm(channel, table);
      await db.query(`drop policy everything on ${table}`);
      const hiddenByDrop = await insert(table, 'alice');
      await settle(channel);
      expect([received(channel, shownByCreate), received(channel, mine)]).toEqual([expect.anything(), expect.anything()]);
      expect([received(channel, hiddenByAlter), received(channel, hiddenByDrop)]).toEqual([undefined, undefined]);
    }
  });

  it('revoke and grant SELECT on a column, and on the table', async () => {
    // Column grants only: revoking one column changes no table-level privilege.
    const table = await freshTable('revoke select on $t from authenticated; grant select (id, owner, body, secret) on $t to authenticated;');
    const channel = await watch(table);
    for (let round = 0; round < ROUNDS; round++) {
      await warm(channel, table);
      await db.query(`revoke select (secret) on ${table} from authenticated`);
      const withoutSecret = await insert(table, 'alice');
      await settle(channel);
      await warm(channel, table);
      await db.query(`grant select (secret) on ${table} to authenticated`);
      const withSecret = await insert(table, 'alice');
      await settle(channel);
      await warm(channel, table);
      await db.query(`revoke select (id, owner, body, secret) on ${table} from authenticated`);
      const unreadable = await insert(table, 'alice');
      await settle(channel);
      await db.query(`grant select (id, owner, body, secret) on ${table} to authenticated`);
      expect(received(channel, withoutSecret)?.data.record).toEqual({ id: withoutSecret, owner: 'alice', body: 'body' });
      expect(received(channel, withSecret)?.data.record).toEqual({ id: withSecret, owner: 'alice', body: 'body', secret: 'secret' });
      expect(received(channel, unreadable)).toBeUndefined();
    }
  });

  it('create or replace a function a policy calls', async () => {
    const fn = `note_visible_${++tableCount}`;
    const own = `create or replace function ${fn}(o text) returns boolean language sql stable as $$ select o = current_setting('request.jwt.claims', true)::json ->> 'sub' $$`;
    const anyone = `create or replace function ${fn}(o text) returns boolean language sql stable as $$ select true $$`;
    await db.query(own);
    const table = await freshTable(`alter table $t enable row level security; grant execute on function ${fn}(text) to authenticated;
      create policy through_function on $t for select to authenticated using (${fn}(owner));`);
    const channel = await watch(table);
    for (let round = 0; round < ROUNDS; round++) {
      await warm(channel, table, 'bob');
      await db.query(anyone);
      const shown = await insert(table, 'bob');
      await settle(channel);
      await warm(channel, table, 'bob');
      await db.query(own);
      const hidden = await insert(table, 'bob');
      const mine = await insert(table, 'alice');
      await settle(channel);
      expect([received(channel, shown), received(channel, mine)]).toEqual([expect.anything(), expect.anything()]);
      expect(received(channel, hidden)).toBeUndefined();
    }
  });

  it('grant and revoke membership in a role a policy applies to (no event trigger sees it)', async () => {
    const table = await freshTable(`alter table $t enable row level security;
      create policy own on $t for select to authenticated using (owner = current_setting('request.jwt.claims', true)::json ->> 'sub');
      create policy for_readers on $t for select to readers using (true);`);
    const channel = await watch(table);
    try {
      for (let round = 0; round < ROUNDS; round++) {
        await warm(channel, table, 'bob');
        // authenticated is NOINHERIT: the grant itself must say it inherits (PostgreSQL 16+).
        await db.query('grant readers to authenticated with inherit true');
        const shown = await insert(table, 'bob');
        await settle(channel);
        await warm(channel, table, 'bob');
        await db.query('revoke readers from authenticated');
        const hidden = await insert(table, 'bob');
        const mine = await insert(table, 'alice');
        await settle(channel);
        expect([received(channel, shown), received(channel, mine)]).toEqual([expect.anything(), expect.anything()]);
        expect(received(channel, hidden)).toBeUndefined();
      }
    } finally {
      await db.query('revoke readers from authenticated');
    }
  });

  it('without the event trigger, facts are read per batch (said once) and DDL still takes effect at once', async () => {
    const table = await freshTable(`alter table $t enable row level security;`);
    const channel = await watch(table);
    await db.query(`drop event trigger ${DDL_EVENT_TRIGGER}`);
    try {
      for (let round = 0; round < ROUNDS; round++) {
        await warm(channel, table, 'bob');
        await db.query(`create policy everything on ${table} for select to authenticated using (true)`);
        const shown = await insert(table, 'bob');
        await settle(channel);
        await warm(channel, table, 'bob');
        await db.query(`drop policy everything on ${table}`);
        const hidden = await insert(table, 'bob');
        await settle(channel);
        expect(received(channel, shown)).toBeDefined();
        expect(received(channel, hidden)).toBeUndefined();
      }
      const untracked = problems.filter((problem) => (problem as AuthorizationError).code === 'CATALOG_UNTRACKED');
      expect(untracked).toHaveLength(1);
      expect(String((untracked[0] as Error).message)).toContain(DDL_EVENT_TRIGGER);
    } finally {
      expect(await installDdlEventTrigger(db)).toBeNull();
    }
  });
});

describe('the event trigger and the kept facts', () => {
  /** A pool whose sessions count the catalog facts statements they run. */
  function countingPool(pool: pg.Pool): { pool: ConnectablePool; factsReads: () => number } {
    let reads = 0;
    const wrappers = new WeakMap<pg.PoolClient, PooledClient>();
    const counted: ConnectablePool = {
      query: (text: string, values?: unknown[]) => pool.query(text, values),
      async connect() {
        const client = await pool.connect();
        let wrapper = wrappers.get(client);
        if (!wrapper) {
          wrapper = {
            query: (query: never, values?: unknown[]) => {
              if (typeof query === 'object' && String((query as { name?: string }).name).startsWith('rtk_rls_facts')) reads++;
              return client.query(query, values as never);
            },
            release: (destroy?: Error | boolean) => client.release(destroy),
          } as PooledClient;
          wrappers.set(client, wrapper);
        }
        return wrapper;
      },
    };
    return { pool: counted, factsReads: () => reads };
  }

  it('facts are read once and kept until invalidate() or a role change moves their version', async () => {
    const table = await freshTable();
    const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
    const versionPool = new pg.Pool({ connectionString: stack.databaseUrl, max: 1 });
    try {
      const { pool: counted, factsReads } = countingPool(pool);
      const checker = createVisibilityChecker({ pool: counted, cacheTtlMs: 0, catalogVersions: createCatalogVersions(versionPool), onError: () => undefined });
      const batch = () =>
        checker.checkBatch({ schema: 'public', name: table, primaryKey: ['id'] }, [{ groupKey: 'a', role: 'authenticated', claims: { sub: 'alice' } }], [{ id: '1', owner: 'alice' }], ['authenticated']);
      for (let i = 0; i < 3; i++) expect((await batch()).columns.get('authenticated')).toEqual(['id', 'owner', 'body', 'secret']);
      expect(factsReads()).toBe(1);
      checker.invalidate();
      await batch();
      await batch();
      expect(factsReads()).toBe(2);
      await db.query('create role passer_by nologin; drop role passer_by');
      await db.query('grant readers to authenticated');
      await batch();
      await batch();
      expect(factsReads()).toBe(3);
      await db.query('revoke readers from authenticated');
      await batch();
      expect(factsReads()).toBe(4);
    } finally {
      await Promise.all([pool.end(), versionPool.end()]);
    }
  });

  it('a DDL message drops the kept facts, then waits until its transaction is visible to new snapshots', async () => {
    const other = new pg.Client({ connectionString: stack.databaseUrl });
    await other.connect();
    try {
      // A transaction whose commit the stream could deliver before the session left the running list.
      await other.query('begin');
      const xid = String((await other.query('select pg_current_xact_id()::text as xid')).rows[0].xid);
      let invalidated = 0;
      let done = false;
      const own = Number(BigInt(xid) & 0xffffffffn);
      const waiting = afterDdl(db, { content: `${xid} CREATE POLICY`, xid: own }, () => invalidated++).then(() => (done = true));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect([invalidated, done]).toEqual([1, false]);
      // A forged message (anyone may emit one with our prefix) naming a transaction other than its
      // own, here one still running: the facts are dropped, but nothing waits for it.
      await afterDdl(db, { content: `${xid} CREATE POLICY`, xid: own + 1 }, () => invalidated++);
      await afterDdl(db, { content: '99999999999 CREATE POLICY', xid: own + 1 }, () => invalidated++);
      expect([invalidated, done]).toEqual([3, false]);
      await other.query('commit');
      await waiting;
      expect(done).toBe(true);
      await afterDdl(db, { content: 'no transaction id', xid: own }, () => invalidated++);
      expect(invalidated).toBe(4);
    } finally {
      await other.end();
    }
  });

  it('installs idempotently and refuses quietly without superuser; DDL by another role still announces itself', async () => {
    expect(await installDdlEventTrigger(db)).toBeNull();
    expect(await installDdlEventTrigger(db)).toBeNull();
    const { rows } = await db.query(`select evtenabled, evtevent from pg_event_trigger where evtname = $1`, [DDL_EVENT_TRIGGER]);
    expect(rows).toEqual([{ evtenabled: 'A', evtevent: 'ddl_command_end' }]);
    await db.query(`create role ddl_owner login password 'pw'; grant create on schema public to ddl_owner`);
    const url = new URL(stack.databaseUrl);
    url.username = 'ddl_owner';
    url.password = 'pw';
    const owner = new pg.Client({ connectionString: url.toString() });
    await owner.connect();
    try {
      expect(await installDdlEventTrigger(owner)).toMatch(/permission denied|must be superuser/);
      const table = `notes_${++tableCount}`;
      await owner.query(`create table ${table} (id int4 primary key, owner text not null, body text, secret text);
        alter table ${table} enable row level security; grant select on ${table} to authenticated`);
      const channel = await watch(table);
      for (let round = 0; round < ROUNDS; round++) {
        await warm(channel, table);
        // The trigger's function is a security definer: a non-superuser's DDL emits the message too.
        await owner.query(`create policy everything on ${table} for select to authenticated using (true)`);
        const shown = await insert(table, 'bob');
        await settle(channel);
        await warm(channel, table);
        await owner.query(`drop policy everything on ${table}`);
        const hidden = await insert(table, 'bob');
        await settle(channel);
        expect(received(channel, shown)).toBeDefined();
        expect(received(channel, hidden)).toBeUndefined();
      }
    } finally {
      await owner.end();
    }
  });
});

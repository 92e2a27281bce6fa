/**
 * Realtime authorization: token claims, subscriber group keys, and row / column visibility checked
 * against the shared stack's PostgreSQL. The tables live in a database of this file's own: DDL in
 * the main database would make PostgREST reload its schema under the other test files.
 */
import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import pg from 'pg';
import {
  AuthorizationError,
  canonicalJson,
  claimsFromToken,
  CLAIMS_REQUIRED_MESSAGE,
  createVisibilityChecker,
  subscriberGroupKey,
  unusableClaims,
  type KeyedTable,
  type RowText,
  type Queryable,
  type SubscriberGroup,
  type VisibilityCheckerOptions,
} from '../../../lib/server/realtime/authorization';
import { policyReferences } from '../../../lib/server/realtime/authorization/policies';
import { MAX_PREPARED_PER_SESSION, prepared as preparedOn, withSession, type PooledClient } from '../../../lib/server/realtime/authorization/prepared';
import { signJwt } from '../../../lib/server/stack/jwt';
import { testStack } from '../../support/stack';

const SECRET = 'a-test-secret-of-at-least-thirty-two-characters';
const NOW = 1_800_000_000;

describe('claimsFromToken', () => {
  const sign = (claims: Record<string, unknown>, secret = SECRET) => signJwt(secret, claims);

  test('accepts an HS256 token with role and integer exp, returning its claims', () => {
    const result = claimsFromToken(sign({ role: 'authenticated', sub: 'u1', exp: NOW + 60 }), SECRET, NOW);
    expect(result).toEqual({ ok: true, role: 'authenticated', exp: NOW + 60, claims: { role: 'authenticated', sub: 'u1', exp: NOW + 60 } });
  });

  test('an expired token says how long ago, in Supabase words', () => {
    expect(claimsFromToken(sign({ role: 'anon', exp: NOW - 42 }), SECRET, NOW)).toEqual({
      ok: false,
      code: 'TOKEN_EXPIRED',
      message: 'Token has expired 42 seconds ago',
    });
    expect(claimsFromToken(sign({ role: 'anon', exp: NOW }), SECRET, NOW)).toMatchObject({ code: 'TOKEN_EXPIRED', message: 'Token has expired 0 seconds ago' });
  });

  test('a token signed with another secret is forged, even when it is also expired', () => {
    expect(claimsFromToken(sign({ role: 'service_role', exp: NOW + 60 }, 'another-secret-of-at-least-32-characters!'), SECRET, NOW)).toMatchObject({ ok: false, code: 'TOKEN_SIGNATURE' });
    expect(claimsFromToken(sign({ role: 'anon', exp: NOW - 5 }, 'another-secret-of-at-least-32-characters!'), SECRET, NOW)).toMatchObject({ ok: false, code: 'TOKEN_SIGNATURE' });
  });

  test('a payload swapped under a valid signature is forged', () => {
    const [header, , signature] = sign({ role: 'anon', exp: NOW + 60 }).split('.');
    const payload = Buffer.from(JSON.stringify({ role: 'service_role', exp: NOW + 60 })).toString('base64url');
    expect(claimsFromToken(`${header}.${payload}.${signature}`, SECRET, NOW)).toMatchObject({ ok: false, code: 'TOKEN_SIGNATURE' });
  });

  test('alg "none" and other algorithms are refused', () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ role: 'service_role', exp: NOW + 60 })).toString('base64url');
    expect(claimsFromToken(`${header}.${payload}.`, SECRET, NOW)).toMatchObject({ ok: false, code: 'TOKEN_ALGORITHM' });
  });

  test('malformed and missing tokens get their own codes and never echo the token', () => {
    for (const token of ['abc', 'a.b.c', 'a.b', `${'x'.repeat(20)}.%%%.y`]) {
      const result = claimsFromToken(token, SECRET, NOW);
      expect(result).toMatchObject({ ok: false, code: 'TOKEN_MALFORMED' });
      expect(result.ok === false && result.message.includes(token)).toBe(false);
    }
    for (const token of ['', undefined, null, 42, {}]) {
      expect(claimsFromToken(token, SECRET, NOW)).toMatchObject({ ok: false, code: 'TOKEN_MISSING' });
    }
  });

  test.each([
    ['no role', { exp: NOW + 60 }],
    ['an empty role', { role: '', exp: NOW + 60 }],
    ['a non-string role', { role: 7, exp: NOW + 60 }],
    ['no exp', { role: 'anon' }],
    ['a string exp', { role: 'anon', exp: String(NOW + 60) }],
    ['a fractional exp', { role: 'anon', exp: NOW + 60.5 }],
    ['a string exp in the past (not "expired")', { role: 'anon', exp: '12' }],
  ])('a token with %s lacks the required fields', (_, claims) => {
    expect(claimsFromToken(sign(claims), SECRET, NOW)).toEqual({ ok: false, code: 'TOKEN_CLAIMS_MISSING', message: CLAIMS_REQUIRED_MESSAGE });
  });

  test('segments are strict base64url: padding, stray characters or a non-canonical last character make another token', () => {
    const token = sign({ role: 'anon', exp: NOW + 60 });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    // The last character of a 32-byte signature carries 2 unused bits: flipping one spells the same bytes.
    const last = signature.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    expect(Buffer.from(signature.slice(0, -1) + sibling, 'base64url')).toEqual(Buffer.from(signature, 'base64url'));
    for (const forged of [`${token}=`, `${token}!!`, `${token}==`, `${header}.${payload}.${signature.slice(0, -1)}${sibling}`, `${header}=.${payload}.${signature}`, `${header}.${payload}!.${signature}`, `${header}.${payload}.${signature} `]) {
      expect({ forged, result: claimsFromToken(forged, SECRET, NOW) }).toMatchObject({ forged, result: { ok: false, code: 'TOKEN_MALFORMED' } });
    }
    expect(claimsFromToken(token, SECRET, NOW)).toMatchObject({ ok: true });
  });

  test('claims the server could not pass on exactly or set are refused before use', () => {
    expect(unusableClaims({ role: 'authenticated', sub: 'u', exp: NOW, org: 2 ** 53 + 2 })).toMatch(/integer beyond 2\^53/);
    expect(unusableClaims({ role: 'authenticated', nested: { list: [1, 9007199254740993] } })).toMatch(/integer beyond 2\^53/);
    expect(unusableClaims({ role: 'authenticated', name: 'a\u0000b' })).toMatch(/NUL/);
    expect(unusableClaims({ role: 'x'.repeat(64) })).toMatch(/longer than 63 bytes/);
    expect(unusableClaims({ role: 'authenticated', blob: 'x'.repeat(40_000) })).toMatch(/larger than/);
    expect(unusableClaims({ role: 'authenticated', sub: 'u', exp: NOW, ratio: 0.5, big: Number.MAX_SAFE_INTEGER, text: '\\u0000' })).toBeNull();
  });

  test('claims named __proto__ or constructor are claims like any other', () => {
    const payload = '{"role":"authenticated","exp":' + (NOW + 60) + ',"__proto__":{"admin":true},"constructor":"x","sub":"u1"}';
    const unsigned = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(payload).toString('base64url')}`;
    const token = `${unsigned}.${createHmac('sha256', SECRET).update(unsigned).digest('base64url')}`;
    const result = claimsFromToken(token, SECRET, NOW);
    if (!result.ok) throw new Error(result.message);
    expect(Object.keys(result.claims)).toEqual(['role', 'exp', '__proto__', 'constructor', 'sub']);
    expect((result.claims as { admin?: unknown }).admin).toBeUndefined(); // not the prototype
    expect(subscriberGroupKey(result.claims)).toContain('"__proto__":{"admin":true}');
    expect(subscriberGroupKey(result.claims, { ignoreClaims: ['exp'] })).toContain('"__proto__":{"admin":true}');
  });

  test('a token whose nbf is in the future is not valid yet', () => {
    expect(claimsFromToken(sign({ role: 'anon', exp: NOW + 60, nbf: NOW + 30 }), SECRET, NOW)).toMatchObject({ ok: false, code: 'TOKEN_NOT_YET_VALID' });
  });

  test('an empty secret is a configuration error, not a rejected token', () => {
    expect(() => claimsFromToken(sign({ role: 'anon', exp: NOW + 60 }), '', NOW)).toThrow(AuthorizationError);
  });
});

describe('subscriberGroupKey', () => {
  test('ignores key order at every level and token re-encoding', () => {
    const a = { role: 'authenticated', sub: 'u1', app_metadata: { provider: 'email', roles: ['a', 'b'] }, exp: 10 };
    const b = { exp: 10, app_metadata: { roles: ['a', 'b'], provider: 'email' }, sub: 'u1', role: 'authenticated' };
    expect(subscriberGroupKey(a)).toBe(subscriberGroupKey(b));
    const first = claimsFromToken(signJwt(SECRET, a), SECRET, 0);
    const second = claimsFromToken(signJwt(SECRET, b), SECRET, 0);
    expect(first.ok && second.ok && subscriberGroupKey(first.claims) === subscriberGroupKey(second.claims)).toBe(true);
  });

  test('every claim counts, time claims included, unless the operator says otherwise', () => {
    const base = { role: 'authenticated', sub: 'u1', iat: 1, exp: 10 };
    expect(subscriberGroupKey({ ...base, role: 'anon' })).not.toBe(subscriberGroupKey(base));
    expect(subscriberGroupKey({ ...base, iat: 2 })).not.toBe(subscriberGroupKey(base));
    expect(subscriberGroupKey({ ...base, exp: 11 })).not.toBe(subscriberGroupKey(base));
    expect(subscriberGroupKey({ ...base, iat: 2, exp: 11 }, { ignoreClaims: ['iat', 'exp'] })).toBe(subscriberGroupKey(base, { ignoreClaims: ['iat', 'exp'] }));
    expect(subscriberGroupKey({ ...base, sub: 'u2' }, { ignoreClaims: ['iat', 'exp'] })).not.toBe(subscriberGroupKey(base, { ignoreClaims: ['iat', 'exp'] }));
  });

  test('canonical JSON parses back to the same value, whatever the key order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(canonicalJson(JSON.parse(JSON.stringify(value, null, 0)))).toBe(text);
        expect(canonicalJson(reverseKeys(value))).toBe(text);
      }),
    );
  });

  test('absurdly nested claims are refused instead of overflowing the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = { a: deep };
    expect(() => subscriberGroupKey({ role: 'anon', deep })).toThrow(AuthorizationError);
  });
});

function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([key, item]) => [key, reverseKeys(item)]));
}

// ---------------------------------------------------------------------------------------------
// Visibility, against a database of our own.

const suffix = randomBytes(4).toString('hex');
const DATABASE = `rt_auth_${suffix}`;
/** Exists, and its name is SQL: it must work as a name and never as SQL. */
const ODD_ROLE = `rt auth ${suffix} '"; drop table x; --`;
/** Exists, bypasses RLS, may read everything, but PostgREST's authenticator may not switch to it. */
const UNGRANTED_ROLE = `rt_ungranted_${suffix}`;
const NO_SET_ROLE = `rt_no_set_${suffix}`;
const USERS = Array.from({ length: 50 }, (_, index) => `user${index}`);
const NOTE_COUNT = 1000;
/** Row `id` is owned by USERS[id % 50] and public when id % 10 === 0. */
const ownerOf = (id: number) => USERS[id % USERS.length]!;
const isPublic = (id: number) => id % 10 === 0;
/** A `sub` full of quoting: it must reach the policy as data. */
const SQL_SUB = `x'); drop table x; --\\' $$ "\u00e9`;

const NOTES: KeyedTable = { schema: 'public', name: 'notes', primaryKey: ['id'] };
const OPEN: KeyedTable = { schema: 'public', name: 'open_items', primaryKey: ['id'] };
const ODD: KeyedTable = { schema: 'Odd Schema', name: 'Odd "Table"', primaryKey: ['Key, "A"', 'b\\'] };
const ODD_KEYS = ['plain', 'with "quotes"', 'back\\slash', '{braces},commas', 'NULL', '', "it's", 'ünï ✓'];
const ODD_UUIDS = ODD_KEYS.map((_, index) => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`);

let admin: pg.Pool;
let pool: pg.Pool;
let databaseUrl: string;

beforeAll(async () => {
  const stack = testStack();
  admin = new pg.Pool({ connectionString: stack.databaseUrl, max: 1 });
  await admin.query(`create database ${DATABASE}`);
  await admin.query(`create role ${pg.escapeIdentifier(ODD_ROLE)} nologin noinherit`);
  // PostgREST could switch to it: its authenticator is a member, as of the stack's own roles.
  await admin.query(`grant ${pg.escapeIdentifier(ODD_ROLE)} to authenticator`);
  await admin.query(`create role ${UNGRANTED_ROLE} nologin noinherit bypassrls`);
  // A member PostgREST's authenticator may not SET ROLE to (PostgreSQL 16's WITH SET FALSE).
  await admin.query(`create role ${NO_SET_ROLE} nologin noinherit bypassrls; grant ${NO_SET_ROLE} to authenticator with set false`);
  const url = new URL(stack.databaseUrl);
  url.pathname = `/${DATABASE}`;
  databaseUrl = url.toString();
  pool = new pg.Pool({ connectionString: databaseUrl, max: 8 });
  await pool.query(`
    grant usage on schema public to anon, authenticated, service_role, ${pg.escapeIdentifier(ODD_ROLE)};
    create table x (id int primary key);

    create table notes (id bigint primary key, owner text not null, is_public boolean not null, body text, secret text);
    alter table notes enable row level security;
    create policy notes_read on notes for select
      using (is_public or owner = current_setting('request.jwt.claims', true)::jsonb ->> 'sub');
    grant select on notes to authenticated, service_role, ${pg.escapeIdentifier(ODD_ROLE)}, ${UNGRANTED_ROLE}, ${NO_SET_ROLE};
    grant select (id, owner, is_public, body) on notes to anon;
    insert into notes select i, 'user' || (i % 50), i % 10 = 0, 'body ' || i, 'secret ' || i from generate_series(0, ${NOTE_COUNT - 1}) i;
    insert into notes values (${NOTE_COUNT}, ${pg.escapeLiteral(SQL_SUB)}, false, 'odd', null);

    create table open_items (id int primary key, label text);
    grant select on open_items to anon, authenticated, service_role;
    insert into open_items select i, 'item ' || i from generate_series(0, ${NOTE_COUNT - 1}) i;

    create table locked (id int primary key);
    alter table locked enable row level security;
    create policy locked_read on locked for select using (true);
    grant select on locked to authenticated;
    insert into locked values (1), (2);

    create table memberships (org_id int, user_id text, primary key (org_id, user_id));
    alter table memberships enable row level security;
    create policy memberships_read on memberships for select
      using (user_id = current_setting('request.jwt.claims', true)::jsonb ->> 'sub');
    grant select on memberships to authenticated;
    insert into memberships values (1, 'user1'), (1, 'user2'), (2, 'user1'), (2, 'user2');

    -- Policies that raise or stall for one subscriber only.
    create table touchy (id int primary key);
    alter table touchy enable row level security;
    create policy touchy_read on touchy for select using (case current_setting('request.jwt.claims', true)::jsonb ->> 'sub'
      when 'boom' then id / (id - id) = 1 when 'slow' then (select true from pg_sleep(2 + 0 * id)) else true end);
    grant select on touchy to authenticated;
    insert into touchy values (1), (2);

    create table by_email (id int primary key, email text);
    alter table by_email enable row level security;
    create policy by_email_read on by_email for select using (
      email = current_setting('request.jwt.claim.email', true)
      or (email is null and coalesce(current_setting('request.jwt.claim.email', true), '') = ''));
    grant select on by_email to authenticated;
    insert into by_email values (1, 'a@example.com'), (2, null);

    create table toggled (id int primary key, owner text);
    grant select on toggled to authenticated;
    insert into toggled values (1, 'user1'), (2, 'user2');

    create table prop_notes (id bigint primary key, owner text not null, is_public boolean not null);
    alter table prop_notes enable row level security;
    create policy prop_read on prop_notes for select
      using (is_public or owner = current_setting('request.jwt.claims', true)::jsonb ->> 'sub');
    grant select on prop_notes to anon, authenticated, service_role;

    -- Every kind of policy, judged on a change's own row.
    create table org_members (org_id int, user_id text, primary key (org_id, user_id));
    grant select on org_members to authenticated;
    insert into org_members values (1, 'user1'), (2, 'user2');
    create table docs (id int primary key, org_id int, "Owner Name" text, hidden boolean not null default false, big text);
    alter table docs enable row level security;
    grant select on docs to anon, authenticated;
    create policy docs_members on docs for select to authenticated using (
      exists (select 1 from org_members m where m.org_id = docs.org_id and m.user_id = current_setting('request.jwt.claims', true)::jsonb ->> 'sub'));
    create policy docs_named on docs for select to authenticated using ("Owner Name" = current_setting('request.jwt.claims', true)::jsonb ->> 'sub');
    create policy docs_not_hidden on docs as restrictive for select using (not hidden);
    create policy docs_anon on docs for select to anon using (org_id = 0);
    create policy docs_write on docs for all to authenticated with check (true); -- WITH CHECK only: adds nothing to reads
    -- Collations decide: case-insensitive equality, linguistic order.
    create collation ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
    create table tagged (id int primary key, tag text collate ci, name text collate "en-x-icu");
    alter table tagged enable row level security;
    create policy tagged_read on tagged for select using (tag <> 'secret');
    create policy tagged_names on tagged as restrictive for select using (name < 'm');
    grant select on tagged to authenticated;
    -- A policy helper caching its answer in a transaction-local setting (it must not outlive the group).
    create table tenants (member text primary key, tenant int not null);
    insert into tenants values ('t1', 1), ('t2', 2);
    grant select on tenants to authenticated;
    create function my_tenant() returns int language plpgsql stable as $$
      begin
        if coalesce(current_setting('app.tenant', true), '') = '' then
          perform set_config('app.tenant', (select tenant from public.tenants where member = current_setting('request.jwt.claims', true)::jsonb ->> 'sub')::text, true);
        end if;
        return current_setting('app.tenant', true)::int;
      end $$;
    create table tenant_rows (id int primary key, tenant int);
    alter table tenant_rows enable row level security;
    create policy tenant_read on tenant_rows for select using (tenant = my_tenant());
    grant select on tenant_rows to authenticated;
    create table counted (id int primary key, tags int[]);
    alter table counted enable row level security;
    create policy counted_read on counted for select using (array_length(tags, 1) > 2);
    grant select on counted to authenticated;
    create table whole (id int primary key, v int);
    alter table whole enable row level security;
    create function whole_ok(whole) returns boolean language sql stable as $$ select $1.v > 0 $$;
    create policy whole_read on whole for select using (whole_ok(whole));
    grant select on whole to authenticated;

    create schema "Odd Schema";
    grant usage on schema "Odd Schema" to authenticated;
    create table "Odd Schema"."Odd ""Table""" ("Key, ""A""" text, "b\\" uuid, owner text, primary key ("Key, ""A""", "b\\"));
    alter table "Odd Schema"."Odd ""Table""" enable row level security;
    -- PostgREST < 9 style: one setting per claim.
    create policy odd_read on "Odd Schema"."Odd ""Table""" for select using (owner = current_setting('request.jwt.claim.sub', true));
    grant select on "Odd Schema"."Odd ""Table""" to authenticated;
  `);
  for (const [index, key] of ODD_KEYS.entries()) {
    await pool.query(`insert into "Odd Schema"."Odd ""Table""" values ($1, $2, $3)`, [key, ODD_UUIDS[index], index % 2 === 0 ? 'user1' : 'user2']);
  }
});

afterAll(async () => {
  await pool?.end();
  // Not WITH (FORCE): pool.end() resolves before the server has closed the sessions, and dropdb
  // waits for them, where FORCE would kill them under the closing clients' feet.
  await admin?.query(`drop database if exists ${DATABASE}`);
  await admin?.query(`drop role if exists ${pg.escapeIdentifier(ODD_ROLE)}`);
  await admin?.query(`drop role if exists ${UNGRANTED_ROLE}`);
  await admin?.query(`drop role if exists ${NO_SET_ROLE}`);
  await admin?.end();
});

/** A pool wrapper counting queries and the most in flight at once. */
function counting(target: Queryable) {
  const stats = { queries: 0, inFlight: 0, maxInFlight: 0, texts: [] as string[] };
  const db: Queryable = {
    async query(text: string, values?: unknown[]) {
      stats.queries++;
      stats.texts.push(text);
      stats.maxInFlight = Math.max(stats.maxInFlight, ++stats.inFlight);
      try {
        return values === undefined ? await target.query(text) : await target.query(text, values);
      } finally {
        stats.inFlight--;
      }
    },
  };
  return { db, stats };
}

function checker(options: Partial<VisibilityCheckerOptions> = {}) {
  const { db, stats } = counting(pool);
  const errors: AuthorizationError[] = [];
  const visibility = createVisibilityChecker({ pool: db, onError: (error) => errors.push(error), ...options });
  return { visibility, stats, errors };
}

/** The group of a subscriber holding a token the stack signed for these claims. */
function groupFor(claims: Record<string, unknown>): SubscriberGroup {
  const result = claimsFromToken(testStack().signToken(claims), testStack().jwtSecret);
  if (!result.ok) throw new Error(result.message);
  return { groupKey: subscriberGroupKey(result.claims), role: result.role, claims: result.claims };
}

const user = (sub: string) => groupFor({ sub });
const anon = () => groupFor({ role: 'anon' });
const serviceRole = () => groupFor({ role: 'service_role' });
const ids = (values: readonly number[]): RowText[] => values.map((id) => ({ id: String(id) }));
/** Rows of `notes` with the values the table holds for them (what a change inserting them carries). */
const noteRows = (values: readonly number[]): RowText[] =>
  values.map((id) => ({
    id: String(id),
    owner: id === NOTE_COUNT ? SQL_SUB : ownerOf(id),
    is_public: id !== NOTE_COUNT && isPublic(id) ? 't' : 'f',
    body: id === NOTE_COUNT ? 'odd' : `body ${id}`,
    secret: id === NOTE_COUNT ? null : `secret ${id}`,
  }));
/** Rows of the odd table, owned alternately by user1 and user2. */
const oddRows = () => ODD_KEYS.map((key, index) => ({ 'Key, "A"': key, 'b\\': ODD_UUIDS[index]!, owner: index % 2 === 0 ? 'user1' : 'user2' }));
const emailRows: RowText[] = [{ id: '1', email: 'a@example.com' }, { id: '2', email: null }];
const range = (count: number, from = 0) => Array.from({ length: count }, (_, index) => from + index);
const sorted = (set: ReadonlySet<number> | undefined) => [...(set ?? [])].sort((a, b) => a - b);

/** A checker on a pg.Pool itself, as the server makes it: checks prepared once per pooled session. */
function onSessions(target: pg.Pool, options: Partial<VisibilityCheckerOptions> = {}) {
  const errors: AuthorizationError[] = [];
  const visibility = createVisibilityChecker({ pool: target, cacheTtlMs: 0, onError: (error) => errors.push(error), ...options });
  return { visibility, errors };
}

describe('checkVisible', () => {
  test('two users never see each other\'s private rows; both see public ones', async () => {
    const { visibility, errors } = checker();
    const rows = noteRows(range(30));
    const [u1, u2] = [user('user1'), user('user2')];
    const visible = await visibility.checkVisible(NOTES, [u1, u2], rows);
    expect(sorted(visible.get(u1.groupKey))).toEqual([0, 1, 10, 20]);
    expect(sorted(visible.get(u2.groupKey))).toEqual([0, 2, 10, 20]);
    expect(errors).toEqual([]);
  });

  test('anon sees only public rows, and not the column it was not granted', async () => {
    const { visibility } = checker();
    const group = anon();
    const visible = await visibility.checkVisible(NOTES, [group], noteRows(range(25)));
    expect(sorted(visible.get(group.groupKey))).toEqual([0, 10, 20]);
    expect(await visibility.visibleColumns(NOTES, 'anon')).toEqual(['id', 'owner', 'is_public', 'body']);
    expect(await visibility.visibleColumns(NOTES, 'authenticated')).toEqual(['id', 'owner', 'is_public', 'body', 'secret']);
    expect(await visibility.visibleColumns(NOTES, 'no_such_role')).toEqual([]);
  });

  test('service_role (BYPASSRLS) sees every row without a visibility query', async () => {
    const { visibility, stats } = checker();
    const group = serviceRole();
    await visibility.checkVisible(NOTES, [group], noteRows([1]));
    const before = stats.queries;
    const visible = await visibility.checkVisible(NOTES, [group], noteRows(range(100)));
    expect(sorted(visible.get(group.groupKey))).toEqual(range(100));
    expect(stats.queries).toBe(before);
  });

  test('each row is judged by the values it carries, not by what the table holds now', async () => {
    const { visibility } = checker();
    const group = user('user3');
    const rows: RowText[] = [
      { id: '3', owner: 'user3', is_public: 'f' }, // as the table holds it
      { id: '999999', owner: 'user3', is_public: 'f' }, // not in the table (deleted since)
      { id: '3', owner: 'user4', is_public: 'f' }, // the table says user3's: this change says otherwise
      { id: '4', owner: 'user4', is_public: 't' }, // public in this change
      { id: '53', owner: 'user3', is_public: null }, // NULL is not true: the owner decides
      { id: '7', is_public: 'f' }, // the owner is not in the change: undecided
    ];
    const visible = await visibility.checkVisible(NOTES, [group], rows);
    expect(sorted(visible.get(group.groupKey))).toEqual([0, 1, 3, 4]);
    const facts = await visibility.checkBatch(NOTES, [group], rows, ['authenticated']);
    expect(sorted(facts.undecided.get(group.groupKey))).toEqual([5]);
  });

  test('composite keys with quoted identifiers, typed columns and hostile values; PostgREST < 9 claim settings', async () => {
    const { visibility, errors } = checker();
    const [u1, u2] = [user('user1'), user('user2')];
    const visible = await visibility.checkVisible(ODD, [u1, u2], oddRows());
    expect(errors).toEqual([]);
    expect(sorted(visible.get(u1.groupKey))).toEqual(range(ODD_KEYS.length).filter((index) => index % 2 === 0));
    expect(sorted(visible.get(u2.groupKey))).toEqual(range(ODD_KEYS.length).filter((index) => index % 2 === 1));

    const memberships = { schema: 'public', name: 'memberships', primaryKey: ['org_id', 'user_id'] };
    const keys = [{ org_id: '1', user_id: 'user1' }, { org_id: '1', user_id: 'user2' }, { org_id: '2', user_id: 'user1' }];
    const seen = await visibility.checkVisible(memberships, [u1, u2], keys);
    expect(sorted(seen.get(u1.groupKey))).toEqual([0, 2]);
    expect(sorted(seen.get(u2.groupKey))).toEqual([1]);
  });

  test('claims full of SQL are data: the policy compares them and nothing else runs', async () => {
    const { visibility, errors } = checker();
    const group = groupFor({ sub: SQL_SUB, [`weird key'; drop table x; --`]: `'); drop table x; --`, nested: { "a'b": ['$$', '\\'] } });
    const visible = await visibility.checkVisible(NOTES, [group], noteRows([NOTE_COUNT, 1, 10]));
    expect(errors).toEqual([]);
    expect(sorted(visible.get(group.groupKey))).toEqual([0, 2]);
    expect((await pool.query('select count(*)::int as n from x')).rows[0].n).toBe(0);
  });

  test('a role name made of SQL is only ever a name: unknown, it sees nothing and is reported once', async () => {
    const { visibility, errors } = checker();
    const evil: SubscriberGroup = { groupKey: 'evil', role: '"; drop table x; --', claims: { role: '"; drop table x; --', sub: 'user1' } };
    const good = user('user1');
    for (let i = 0; i < 2; i++) {
      const visible = await visibility.checkVisible(NOTES, [evil, good], noteRows(range(12)));
      expect(sorted(visible.get('evil'))).toEqual([]);
      expect(sorted(visible.get(good.groupKey))).toEqual([0, 1, 10]);
    }
    expect(errors.map((error) => error.code)).toEqual(['ROLE_NOT_FOUND']);
    expect(errors[0]!.details.role).toBe('"; drop table x; --');
    expect((await pool.query('select count(*)::int as n from x')).rows[0].n).toBe(0);
  });

  test('an existing role whose name is SQL works as that role', async () => {
    const { visibility, errors } = checker();
    const group: SubscriberGroup = { groupKey: 'odd', role: ODD_ROLE, claims: { role: ODD_ROLE, sub: 'user3' } };
    const visible = await visibility.checkVisible(NOTES, [group], noteRows(range(14)));
    expect(errors).toEqual([]);
    expect(sorted(visible.get('odd'))).toEqual([0, 3, 10]);
    expect((await pool.query('select count(*)::int as n from x')).rows[0].n).toBe(0);
  });

  test('a role PostgREST\'s authenticator may not switch to sees nothing, however privileged, reported once', async () => {
    const { visibility, errors } = checker();
    for (const role of [UNGRANTED_ROLE, NO_SET_ROLE, 'postgres']) {
      const group: SubscriberGroup = { groupKey: role, role, claims: { role, sub: 'user1' } };
      const visible = await visibility.checkVisible(NOTES, [group, user('user1')], noteRows(range(12)));
      expect(sorted(visible.get(role))).toEqual([]);
      expect(sorted(visible.get(user('user1').groupKey))).toEqual([0, 1, 10]);
    }
    expect(errors.map((error) => [error.code, error.details.role])).toEqual([
      ['ROLE_NOT_ALLOWED', UNGRANTED_ROLE],
      ['ROLE_NOT_ALLOWED', NO_SET_ROLE],
      ['ROLE_NOT_ALLOWED', 'postgres'],
    ]);
  });

  test('a role name PostgreSQL would truncate (or with NUL) is refused without a query', async () => {
    const { visibility, stats, errors } = checker();
    const long = `authenticated${'_'.repeat(60)}`;
    const groups = [long, 'a\0b', ''].map((role, index) => ({ groupKey: `g${index}`, role, claims: { role } }));
    const visible = await visibility.checkVisible(NOTES, groups, noteRows([0]));
    expect([...visible.values()].map(sorted)).toEqual([[], [], []]);
    expect(stats.queries).toBe(0);
    expect(errors.map((error) => error.code)).toEqual(['ROLE_INVALID_NAME', 'ROLE_INVALID_NAME', 'ROLE_INVALID_NAME']);
  });

  test('a role without SELECT on the table sees nothing, reported once, and others in the batch are unaffected', async () => {
    const { visibility, errors } = checker();
    const locked = { schema: 'public', name: 'locked', primaryKey: ['id'] };
    const [a, u] = [anon(), user('user1')];
    for (let i = 0; i < 3; i++) {
      const visible = await visibility.checkVisible(locked, [a, u], ids([1, 2]));
      expect(sorted(visible.get(a.groupKey))).toEqual([]);
      expect(sorted(visible.get(u.groupKey))).toEqual([0, 1]);
    }
    expect(errors.map((error) => [error.code, error.details.role])).toEqual([['NOT_SELECTABLE', 'anon']]);
  });

  test('a policy that raises or stalls for one group fails that group only', async () => {
    const { visibility, errors } = checker({ statementTimeoutMs: 200 });
    const touchy = { schema: 'public', name: 'touchy', primaryKey: ['id'] };
    const [boom, slow, fine] = [user('boom'), user('slow'), user('fine')];
    const visible = await visibility.checkVisible(touchy, [boom, slow, fine], ids([1, 2]));
    expect(sorted(visible.get(boom.groupKey))).toEqual([]);
    expect(sorted(visible.get(slow.groupKey))).toEqual([]);
    expect(sorted(visible.get(fine.groupKey))).toEqual([0, 1]);
    expect(errors.map((error) => error.code)).toEqual(['CHECK_FAILED', 'CHECK_FAILED']);
    expect(errors.map((error) => error.message).join('\n')).toMatch(/division by zero[\s\S]*statement timeout|statement timeout[\s\S]*division by zero/);
    // The pooled sessions went back clean: superuser, no claims left behind.
    const sessions = await Promise.all(range(8).map(() => pool.query(`select current_user as u, current_setting('request.jwt.claims', true) as c`)));
    for (const { rows } of sessions) expect(rows[0]).toEqual({ u: 'postgres', c: expect.not.stringContaining('sub') });
  });

  test('an unknown table leaves everyone seeing nothing, reported', async () => {
    const { visibility, errors } = checker();
    const group = user('user1');
    const missing = await visibility.checkVisible({ schema: 'public', name: 'nope', primaryKey: ['id'] }, [group], ids([1]));
    expect(sorted(missing.get(group.groupKey))).toEqual([]);
    expect(errors.map((error) => error.code)).toEqual(['TABLE_NOT_FOUND']);
    await expect(visibility.isRlsEnabled({ schema: 'public', name: 'nope' })).rejects.toMatchObject({ code: 'TABLE_NOT_FOUND' });
  });

  test('isRlsEnabled tells which tables filter rows per subscriber', async () => {
    const { visibility } = checker();
    expect(await visibility.isRlsEnabled(NOTES)).toBe(true);
    expect(await visibility.isRlsEnabled(OPEN)).toBe(false);
  });

  test('a batch of 1,000 rows for 50 groups costs one query per connection it may use, and is right', async () => {
    const { visibility, stats } = checker({ maxConcurrentQueries: 4 });
    const groups = USERS.map(user);
    const rows = noteRows(range(NOTE_COUNT));
    const cold = await visibility.checkVisible(NOTES, groups, rows);
    expect(stats.queries).toBe(4 + 4); // + the table, role and policy catalog lookups, and the parse of the hoisted policy
    stats.queries = 0;
    const warm = await visibility.checkVisible(NOTES, groups, rows);
    expect(stats.queries).toBe(4);
    for (const [index, group] of groups.entries()) {
      const expected = range(NOTE_COUNT).filter((id) => isPublic(id) || ownerOf(id) === USERS[index]);
      expect(sorted(cold.get(group.groupKey))).toEqual(expected);
      expect(sorted(warm.get(group.groupKey))).toEqual(expected);
    }
  });

  test('with one connection allowed, all 50 groups share one round trip', async () => {
    const { visibility, stats } = checker({ maxConcurrentQueries: 1 });
    const groups = USERS.map(user);
    await visibility.checkVisible(NOTES, groups, noteRows([0]));
    stats.queries = 0;
    const visible = await visibility.checkVisible(NOTES, groups, noteRows(range(100)));
    expect(stats.queries).toBe(1);
    for (const [index, group] of groups.entries()) {
      expect(sorted(visible.get(group.groupKey))).toEqual(range(100).filter((id) => isPublic(id) || ownerOf(id) === USERS[index]));
    }
  });

  test('groups sharing a message never see each other\'s per-claim settings', async () => {
    const { visibility, errors } = checker({ maxConcurrentQueries: 1 });
    // `email` exists only in the first group's claims; the next group in the message must not inherit it.
    const withEmail = groupFor({ sub: 'a', email: 'a@example.com' });
    const without = groupFor({ sub: 'b' });
    for (const order of [[withEmail, without], [without, withEmail]]) {
      const visible = await visibility.checkVisible({ schema: 'public', name: 'by_email', primaryKey: ['id'] }, order, emailRows);
      expect(sorted(visible.get(withEmail.groupKey))).toEqual([0]);
      expect(sorted(visible.get(without.groupKey))).toEqual([1]);
    }
    expect(errors).toEqual([]);
  });

  test('a group whose check fails in a shared message is retried alone, then kept alone', async () => {
    const { visibility, stats, errors } = checker({ maxConcurrentQueries: 1 });
    const touchy = { schema: 'public', name: 'touchy', primaryKey: ['id'] };
    const [boom, fine, other] = [user('boom'), user('fine'), user('other')];
    await visibility.checkVisible(touchy, [fine], ids([1])); // fill the catalog cache
    stats.queries = 0;
    const first = await visibility.checkVisible(touchy, [fine, boom, other], ids([1, 2]));
    expect([first.get(fine.groupKey), first.get(boom.groupKey), first.get(other.groupKey)].map(sorted)).toEqual([[0, 1], [], [0, 1]]);
    expect(stats.queries).toBe(1 + 3);
    stats.queries = 0;
    const second = await visibility.checkVisible(touchy, [fine, boom, other], ids([1, 2]));
    expect([second.get(fine.groupKey), second.get(boom.groupKey), second.get(other.groupKey)].map(sorted)).toEqual([[0, 1], [], [0, 1]]);
    expect(stats.queries).toBe(2);
    expect(errors.map((error) => error.code)).toEqual(['CHECK_FAILED']);
  });

  test('without RLS, streaming costs no query once the catalog is cached', async () => {
    const { visibility, stats } = checker();
    const groups = [...USERS.map(user), anon()];
    const rows = ids(range(NOTE_COUNT));
    await visibility.checkVisible(OPEN, groups, rows);
    expect(stats.queries).toBeLessThanOrEqual(2);
    stats.queries = 0;
    for (let i = 0; i < 20; i++) {
      const visible = await visibility.checkVisible(OPEN, groups, rows);
      expect(visible.get(groups[i]!.groupKey)?.size).toBe(NOTE_COUNT);
    }
    expect(stats.queries).toBe(0);
  });

  test('concurrent batches share catalog lookups, stay under the query limit and are each right', async () => {
    const { visibility, stats } = checker({ maxConcurrentQueries: 3 });
    const groups = USERS.slice(0, 10).map(user);
    const batches = range(20).map((batch) => range(50, batch * 50));
    const results = await Promise.all(batches.map((batch) => visibility.checkVisible(NOTES, groups, noteRows(batch))));
    expect(stats.maxInFlight).toBeLessThanOrEqual(3);
    expect(stats.texts.filter((text) => text.includes('pg_class c'))).toHaveLength(2);
    for (const [b, batch] of batches.entries()) {
      for (const [g, group] of groups.entries()) {
        const expected = batch.flatMap((id, index) => (isPublic(id) || ownerOf(id) === USERS[g] ? [index] : []));
        expect(sorted(results[b]!.get(group.groupKey))).toEqual(expected);
      }
    }
  });

  test('catalog facts are cached until invalidated (enabling RLS takes effect on invalidate)', async () => {
    const { visibility } = checker({ cacheTtlMs: 60_000 });
    const toggled = { schema: 'public', name: 'toggled', primaryKey: ['id'] };
    const group = user('user1');
    const rows = [{ id: '1', owner: 'user1' }, { id: '2', owner: 'user2' }];
    expect(sorted((await visibility.checkVisible(toggled, [group], rows)).get(group.groupKey))).toEqual([0, 1]);
    await pool.query(`alter table toggled enable row level security;
      create policy toggled_read on toggled for select using (owner = current_setting('request.jwt.claims', true)::jsonb ->> 'sub')`);
    expect(sorted((await visibility.checkVisible(toggled, [group], rows)).get(group.groupKey))).toEqual([0, 1]);
    visibility.invalidate(toggled);
    expect(sorted((await visibility.checkVisible(toggled, [group], rows)).get(group.groupKey))).toEqual([0]);
  });

  test.each([
    ['one query at a time', false],
    ['statements prepared on pooled sessions', true],
  ])('agrees with PostgreSQL on whether each row, as the change carries it, is visible (%s)', async (_, onPool) => {
    const { visibility, errors } = onPool ? onSessions(pool) : checker({ cacheTtlMs: 0 });
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const subs = ['u1', 'u2', 'u3', "o'brien"];
    // The truth: the row alone in the table, read as the subscriber (where RLS does not filter the
    // role, as service_role's BYPASSRLS, every row is visible).
    const truth = async (group: SubscriberGroup, row: { id: number; owner: string; isPublic: boolean }): Promise<boolean> => {
      await client.query('begin');
      try {
        await client.query('delete from prop_notes');
        await client.query('insert into prop_notes values ($1, $2, $3)', [row.id, row.owner, row.isPublic]);
        await client.query(`select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)`, [group.role, JSON.stringify(group.claims)]);
        const { rows } = await client.query('select exists(select from prop_notes where id = $1) as e', [row.id]);
        return rows[0].e as boolean;
      } finally {
        await client.query('rollback');
      }
    };
    try {
      await fc.assert(
        fc.asyncProperty(
          // The table holds other values than the changes carry: what it holds must not matter.
          fc.array(fc.record({ id: fc.integer({ min: 1, max: 40 }), owner: fc.constantFrom(...subs), isPublic: fc.boolean() }), { maxLength: 10 }),
          fc.array(fc.record({ id: fc.integer({ min: 1, max: 45 }), owner: fc.constantFrom(...subs), isPublic: fc.boolean() }), { minLength: 1, maxLength: 25 }),
          fc.subarray([...subs.map(user), anon(), serviceRole()], { minLength: 1 }),
          async (table, batch, groups) => {
            await pool.query('truncate prop_notes');
            for (const row of table) await pool.query('insert into prop_notes values ($1, $2, $3) on conflict do nothing', [row.id, row.owner, !row.isPublic]);
            const rows = batch.map((row) => ({ id: String(row.id), owner: row.owner, is_public: row.isPublic ? 't' : 'f' }));
            const visible = await visibility.checkVisible({ schema: 'public', name: 'prop_notes', primaryKey: ['id'] }, groups, rows);
            for (const group of groups) {
              const expected: number[] = [];
              for (const [index, row] of batch.entries()) if (await truth(group, row)) expected.push(index);
              expect(sorted(visible.get(group.groupKey))).toEqual(expected);
            }
          },
        ),
        { numRuns: 30 },
      );
    } finally {
      await client.end();
    }
    expect(errors).toEqual([]);
  });

  test('bad arguments are programmer errors with a stable code', async () => {
    const { visibility } = checker();
    await expect(visibility.checkVisible({ schema: 'public', name: '', primaryKey: ['id'] }, [], [])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(visibility.checkVisible({ ...NOTES, primaryKey: 'id' as unknown as string[] }, [], [])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => createVisibilityChecker({ pool: {} as Queryable })).toThrow(AuthorizationError);
    expect(() => createVisibilityChecker({ pool, maxConcurrentQueries: 0 })).toThrow(AuthorizationError);
  });
});

describe('policies applied to a change\'s own row', () => {
  const DOCS: KeyedTable = { schema: 'public', name: 'docs', primaryKey: ['id'] };
  const doc = (id: number, orgId: number | null, owner: string | null, hidden = false): RowText => ({ id: String(id), org_id: orgId === null ? null : String(orgId), 'Owner Name': owner, hidden: hidden ? 't' : 'f', big: 'x' });

  test.each([
    ['one query at a time', false],
    ['statements prepared on pooled sessions', true],
  ])('permissive policies OR\'ed, restrictive ones AND\'ed, per role, subqueries reading the present (%s)', async (_, onPool) => {
    const { visibility, errors } = onPool ? onSessions(pool) : checker({ cacheTtlMs: 0 });
    const [u1, u2, a] = [user('user1'), user('user2'), anon()];
    const rows = [doc(1, 1, null), doc(2, 2, 'user1'), doc(3, 1, 'user2', true), doc(4, 0, null), doc(5, 0, null, true), doc(6, null, null)];
    let visible = await visibility.checkVisible(DOCS, [u1, u2, a], rows);
    expect([u1, u2, a].map((group) => sorted(visible.get(group.groupKey)))).toEqual([[0, 1], [1], [3]]);
    // The membership table is read as it is when the check runs: a new member sees the next batch.
    await pool.query(`insert into org_members values (2, 'user1')`);
    try {
      visible = await visibility.checkVisible(DOCS, [u1], rows);
      expect(sorted(visible.get(u1.groupKey))).toEqual([0, 1]);
      visible = await visibility.checkVisible(DOCS, [u1], [doc(7, 2, null)]);
      expect(sorted(visible.get(u1.groupKey))).toEqual([0]);
    } finally {
      await pool.query(`delete from org_members where org_id = 2 and user_id = 'user1'`);
    }
    expect(errors).toEqual([]);
  });

  test.each([
    ['one query at a time', false],
    ['statements prepared on pooled sessions', true],
  ])('a column\'s collation decides as on the table: case-insensitive equality, linguistic order (%s)', async (_, onPool) => {
    const { visibility, errors } = onPool ? onSessions(pool) : checker({ cacheTtlMs: 0 });
    const group = user('user1');
    const rows = [{ id: '1', tag: 'SECRET', name: 'a' }, { id: '2', tag: 'open', name: 'Z' }, { id: '3', tag: 'open', name: 'b' }];
    const visible = await visibility.checkVisible({ schema: 'public', name: 'tagged', primaryKey: ['id'] }, [group], rows);
    // Under the table's collations 'SECRET' = 'secret' and 'Z' > 'm' (en-x-icu), unlike byte order.
    expect(sorted(visible.get(group.groupKey))).toEqual([2]);
    expect(errors).toEqual([]);
  });

  test('what a policy\'s function sets for its transaction never reaches the next group\'s check', async () => {
    const { visibility, errors } = checker({ cacheTtlMs: 0, maxConcurrentQueries: 1 });
    const [t1, t2] = [user('t1'), user('t2')];
    const rows = [{ id: '1', tenant: '1' }, { id: '2', tenant: '2' }];
    for (const order of [[t1, t2], [t2, t1]]) {
      const visible = await visibility.checkVisible({ schema: 'public', name: 'tenant_rows', primaryKey: ['id'] }, order, rows);
      expect([sorted(visible.get(t1.groupKey)), sorted(visible.get(t2.groupKey))]).toEqual([[0], [1]]);
    }
    expect(errors).toEqual([]);
  });

  test('a better-matching function created later on the search path does not take over a policy\'s call', async () => {
    // Unprepared, so every check is parsed anew (a prepared one keeps the function it resolved).
    const { visibility, errors } = checker({ cacheTtlMs: 0 });
    const group = user('user1');
    const counted = { schema: 'public', name: 'counted', primaryKey: ['id'] };
    const rows = [{ id: '1', tags: '{1,2,3}' }, { id: '2', tags: '{1}' }];
    expect(sorted((await visibility.checkVisible(counted, [group], rows)).get(group.groupKey))).toEqual([0]);
    // An exact match for (int[], int) beats pg_catalog's polymorphic one wherever it is on the path.
    await pool.query('create function public.array_length(int[], int) returns int language sql immutable as $$ select 99 $$');
    try {
      expect(sorted((await visibility.checkVisible(counted, [group], rows)).get(group.groupKey))).toEqual([0]);
    } finally {
      await pool.query('drop function public.array_length(int[], int)');
    }
    expect(errors).toEqual([]);
  });

  test('a row lacking a value a policy reads is undecided for the roles that policy applies to, and only those', async () => {
    const { visibility } = checker({ cacheTtlMs: 0 });
    const [u1, a] = [user('user1'), anon()];
    const { 'Owner Name': _, ...lacking } = doc(8, 0, 'user1') as Record<string, string | null>;
    const facts = await visibility.checkBatch(DOCS, [u1, a], [lacking, doc(9, 1, null)], ['anon', 'authenticated']);
    expect(sorted(facts.undecided.get(u1.groupKey))).toEqual([0]);
    expect(sorted(facts.visible.get(u1.groupKey))).toEqual([1]);
    expect(facts.undecided.get(a.groupKey)).toBeUndefined(); // anon's policy reads org_id and hidden only
    expect(sorted(facts.visible.get(a.groupKey))).toEqual([0]);
  });

  test('a policy reading the whole row can\'t be judged on a change: undecided, reported once', async () => {
    const { visibility, errors } = checker({ cacheTtlMs: 0 });
    const group = user('user1');
    for (let i = 0; i < 2; i++) {
      const facts = await visibility.checkBatch({ schema: 'public', name: 'whole', primaryKey: ['id'] }, [group], [{ id: '1', v: '5' }], ['authenticated']);
      expect(sorted(facts.undecided.get(group.groupKey))).toEqual([0]);
      expect(sorted(facts.visible.get(group.groupKey))).toEqual([]);
    }
    expect(errors.map((error) => [error.code, error.message])).toEqual([['POLICY_UNEVALUABLE', expect.stringContaining('"whole_read" reads the whole row')]]);
  });

  test('the columns a stored policy reads are found at every query level, and only the policy table\'s', async () => {
    const trees = async (name: string) => (await pool.query<{ tree: string }>('select polqual::text as tree from pg_policy where polname = $1', [name])).rows[0]!.tree;
    const attnum = async (table: string, column: string) =>
      (await pool.query<{ n: number }>('select attnum::int as n from pg_attribute where attrelid = $1::regclass and attname = $2', [table, column])).rows[0]!.n;
    expect(policyReferences(await trees('docs_members'))).toEqual({ attnums: new Set([await attnum('docs', 'org_id')]), wholeRow: false, systemColumns: false });
    expect(policyReferences(await trees('docs_named'))).toEqual({ attnums: new Set([await attnum('docs', 'Owner Name')]), wholeRow: false, systemColumns: false });
    expect(policyReferences(await trees('whole_read'))).toMatchObject({ wholeRow: true });
    // A tree it can't read is taken to read the whole row: undecided, never wrongly decided.
    expect(policyReferences('{OPEXPR :args ({VAR :varno 1')).toMatchObject({ wholeRow: true });
  });
});

describe('prepared checks on pooled sessions', () => {
  let single: pg.Pool;
  beforeAll(() => {
    // One session, so every batch runs on it and reuses (or must re-plan) what it prepared.
    single = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  });
  afterAll(async () => {
    await single?.end();
  });
  const prepared = async () =>
    (await single.query(`select name, statement from pg_catalog.pg_prepared_statements where name like 'rtk\_rls\_%' order by name`)).rows as Array<{ name: string; statement: string }>;

  test('one prepared check serves every role and claim: re-planned per role, never answering with another\'s rows', async () => {
    const { visibility, errors } = onSessions(single, { maxConcurrentQueries: 1 });
    const odd: SubscriberGroup = { groupKey: 'odd', role: ODD_ROLE, claims: { role: ODD_ROLE, sub: 'user3' } };
    const [a, u1, u2] = [anon(), user('user1'), user('user2')];
    const expected = new Map([
      [a.groupKey, [0, 10, 20]],
      [u1.groupKey, [0, 1, 10, 20]],
      [u2.groupKey, [0, 2, 10, 20]],
      ['odd', [0, 3, 10, 20]],
    ]);
    for (const order of [[a, u1, odd, u2], [u1, u2, a, odd], [odd, a, u2, u1], [u2], [a], [u1, odd]]) {
      const visible = await visibility.checkVisible(NOTES, order, noteRows(range(30)));
      for (const group of order) expect(sorted(visible.get(group.groupKey))).toEqual(expected.get(group.groupKey));
    }
    // Policies per role: a plan rewritten for one role must never run for the next.
    await pool.query(`create table by_role (id int primary key, owner text, is_public boolean);
      alter table by_role enable row level security;
      create policy by_role_anon on by_role for select to anon using (is_public);
      create policy by_role_user on by_role for select to authenticated using (owner = current_setting('request.jwt.claims', true)::jsonb ->> 'sub');
      grant select on by_role to anon, authenticated;
      insert into by_role values (1, 'user1', false), (2, 'user2', true), (3, 'user1', true), (4, 'user2', false)`);
    try {
      const byRole = { schema: 'public', name: 'by_role', primaryKey: ['id'] };
      for (const order of [[a, u1, u2], [u1, a, u2], [u2, u1, a], [a]]) {
        const rows = [[1, 'user1', 'f'], [2, 'user2', 't'], [3, 'user1', 't'], [4, 'user2', 'f']].map(([id, owner, isPublic]) => ({ id: String(id), owner: String(owner), is_public: String(isPublic) }));
        const visible = await visibility.checkVisible(byRole, order, rows);
        expect([sorted(visible.get(a.groupKey)), sorted(visible.get(u1.groupKey)), sorted(visible.get(u2.groupKey))]).toEqual([
          order.includes(a) ? [1, 2] : [],
          order.includes(u1) ? [0, 2] : [],
          order.includes(u2) ? [1, 3] : [],
        ]);
      }
    } finally {
      await pool.query('drop table by_role');
    }
    expect(errors).toEqual([]);
    const statements = await prepared();
    // One statement per set of policies (notes has one, for every role), not per role or claims.
    expect(statements.filter((row) => row.statement.includes('"notes"'))).toHaveLength(1);
    // The session went back clean: no role, no claims.
    const { rows } = await single.query(`select current_user as u, current_setting('request.jwt.claims', true) as c`);
    expect(rows[0]).toEqual({ u: 'postgres', c: expect.not.stringContaining('sub') });
  });

  test('a table dropped and created again (other key type, other policy) is checked as it is now', async () => {
    const { visibility, errors } = onSessions(single, { maxConcurrentQueries: 1 });
    const table = { schema: 'public', name: 'reborn', primaryKey: ['id'] };
    const [u1, u2] = [user('user1'), user('user2')];
    await pool.query(`create table reborn (id int primary key, owner text);
      alter table reborn enable row level security;
      create policy reborn_read on reborn for select using (owner = current_setting('request.jwt.claims', true)::jsonb ->> 'sub');
      grant select on reborn to authenticated;
      insert into reborn values (1, 'user1'), (2, 'user2')`);
    try {
      let visible = await visibility.checkVisible(table, [u1, u2], [{ id: '1', owner: 'user1' }, { id: '2', owner: 'user2' }]);
      expect([sorted(visible.get(u1.groupKey)), sorted(visible.get(u2.groupKey))]).toEqual([[0], [1]]);

      // Same name, a text key now: the rows are judged by their values under the same policy.
      await pool.query(`drop table reborn; create table reborn (id text primary key, owner text);
        alter table reborn enable row level security;
        create policy reborn_read on reborn for select using (owner = current_setting('request.jwt.claims', true)::jsonb ->> 'sub');
        grant select on reborn to authenticated;
        insert into reborn values ('a', 'user2'), ('b', 'user1')`);
      const textKeys = [{ id: 'a', owner: 'user2' }, { id: 'b', owner: 'user1' }, { id: 'zz', owner: 'user3' }];
      visible = await visibility.checkVisible(table, [u1, u2], textKeys);
      expect([sorted(visible.get(u1.groupKey)), sorted(visible.get(u2.groupKey))]).toEqual([[1], [0]]);

      // Same name and key type as before, other policy: the prepared plan is rebuilt, not reused.
      await pool.query(`drop table reborn; create table reborn (id text primary key, owner text);
        alter table reborn enable row level security;
        create policy reborn_read on reborn for select using (owner <> current_setting('request.jwt.claims', true)::jsonb ->> 'sub');
        grant select on reborn to authenticated;
        insert into reborn values ('a', 'user2'), ('b', 'user1')`);
      visible = await visibility.checkVisible(table, [u1, u2], textKeys);
      expect([sorted(visible.get(u1.groupKey)), sorted(visible.get(u2.groupKey))]).toEqual([[0, 2], [1, 2]]);

      // A policy replaced in place applies to the very next batch.
      await pool.query(`drop policy reborn_read on reborn; create policy reborn_read on reborn for select using (false)`);
      visible = await visibility.checkVisible(table, [u1, u2], textKeys);
      expect([sorted(visible.get(u1.groupKey)), sorted(visible.get(u2.groupKey))]).toEqual([[], []]);
      expect(errors).toEqual([]);
      // A statement per policy text (owner = sub, owner <> sub, false): the first served both tables.
      expect((await prepared()).filter((row) => row.statement.includes('"reborn"'))).toHaveLength(3);
    } finally {
      await pool.query('drop table if exists reborn');
    }
  });

  test('enabling RLS applies from the very next batch; disabling it too', async () => {
    const { visibility } = onSessions(single, { maxConcurrentQueries: 1 });
    const table = { schema: 'public', name: 'flipped', primaryKey: ['id'] };
    const group = user('user1');
    await pool.query(`create table flipped (id int primary key, owner text);
      grant select on flipped to authenticated;
      create policy flipped_read on flipped for select using (owner = current_setting('request.jwt.claims', true)::jsonb ->> 'sub');
      insert into flipped values (1, 'user1'), (2, 'user2')`);
    try {
      const batch = async () => {
        const facts = await visibility.checkBatch(table, [group], [{ id: '1', owner: 'user1' }, { id: '2', owner: 'user2' }], ['authenticated']);
        return [facts.rlsEnabled, sorted(facts.visible.get(group.groupKey))];
      };
      expect(await batch()).toEqual([false, [0, 1]]);
      await pool.query('alter table flipped enable row level security');
      expect(await batch()).toEqual([true, [0]]);
      expect(await batch()).toEqual([true, [0]]);
      await pool.query('alter table flipped disable row level security');
      expect(await batch()).toEqual([false, [0, 1]]);
      await pool.query('alter table flipped enable row level security');
      expect(await batch()).toEqual([true, [0]]);
    } finally {
      await pool.query('drop table if exists flipped');
    }
  });

  test('checkBatch reads columns and RLS in one statement, as before', async () => {
    const { visibility } = onSessions(single);
    const [a, u1] = [anon(), user('user1')];
    const facts = await visibility.checkBatch(NOTES, [a, u1], noteRows(range(12)), ['anon', 'authenticated', 'no_such_role', 'a\0b']);
    expect(facts.rlsEnabled).toBe(true);
    expect(Object.fromEntries(facts.columns)).toEqual({
      anon: ['id', 'owner', 'is_public', 'body'],
      authenticated: ['id', 'owner', 'is_public', 'body', 'secret'],
      no_such_role: [],
      'a\0b': [],
    });
    expect([sorted(facts.visible.get(a.groupKey)), sorted(facts.visible.get(u1.groupKey))]).toEqual([[0, 10], [0, 1, 10]]);
    await expect(visibility.checkBatch({ schema: 'public', name: 'nope', primaryKey: ['id'] }, [u1], ids([1]), ['authenticated'])).rejects.toMatchObject({
      code: 'TABLE_NOT_FOUND',
    });
    const locked = await visibility.checkBatch({ schema: 'public', name: 'locked', primaryKey: ['id'] }, [a, u1], ids([1, 2]), ['anon', 'authenticated']);
    expect(Object.fromEntries(locked.columns)).toEqual({ anon: [], authenticated: ['id'] });
    expect([sorted(locked.visible.get(a.groupKey)), sorted(locked.visible.get(u1.groupKey))]).toEqual([[], [0, 1]]);
  });

  test('per-claim settings, composite keys and hostile values work the same prepared', async () => {
    const { visibility, errors } = onSessions(single, { maxConcurrentQueries: 1 });
    const withEmail = groupFor({ sub: 'a', email: 'a@example.com' });
    const without = groupFor({ sub: 'b' });
    for (const order of [[withEmail, without], [without, withEmail]]) {
      const visible = await visibility.checkVisible({ schema: 'public', name: 'by_email', primaryKey: ['id'] }, order, emailRows);
      expect(sorted(visible.get(withEmail.groupKey))).toEqual([0]);
      expect(sorted(visible.get(without.groupKey))).toEqual([1]);
    }
    const [u1, u2] = [user('user1'), user('user2')];
    const visible = await visibility.checkVisible(ODD, [u1, u2], oddRows());
    expect(sorted(visible.get(u1.groupKey))).toEqual(range(ODD_KEYS.length).filter((index) => index % 2 === 0));
    expect(sorted(visible.get(u2.groupKey))).toEqual(range(ODD_KEYS.length).filter((index) => index % 2 === 1));
    const hostile = groupFor({ sub: SQL_SUB, [`weird key'; drop table x; --`]: `'); drop table x; --` });
    const seen = await visibility.checkVisible(NOTES, [hostile, u1], noteRows([NOTE_COUNT, 1, 10]));
    expect([sorted(seen.get(hostile.groupKey)), sorted(seen.get(u1.groupKey))]).toEqual([[0, 2], [1, 2]]);
    expect(errors).toEqual([]);
    expect((await pool.query('select count(*)::int as n from x')).rows[0].n).toBe(0);
  });

  test('a policy that raises or stalls fails its group only, and the session keeps its statements', async () => {
    const { visibility, errors } = onSessions(single, { maxConcurrentQueries: 1, statementTimeoutMs: 200 });
    const touchy = { schema: 'public', name: 'touchy', primaryKey: ['id'] };
    const [boom, slow, fine] = [user('boom'), user('slow'), user('fine')];
    const pid = (await single.query('select pg_catalog.pg_backend_pid() as p')).rows[0].p;
    for (let i = 0; i < 2; i++) {
      const visible = await visibility.checkVisible(touchy, [fine, boom, slow], ids([1, 2]));
      expect([sorted(visible.get(fine.groupKey)), sorted(visible.get(boom.groupKey)), sorted(visible.get(slow.groupKey))]).toEqual([[0, 1], [], []]);
    }
    expect(errors.map((error) => error.code)).toEqual(['CHECK_FAILED', 'CHECK_FAILED']);
    const { rows } = await single.query(`select pg_catalog.pg_backend_pid() as p, current_user as u, current_setting('request.jwt.claims', true) as c`);
    expect(rows[0]).toEqual({ p: pid, u: 'postgres', c: expect.not.stringContaining('sub') });
  });
});

describe('prepared statement bookkeeping', () => {
  /** A session recording what it was sent; `fail` makes matching statements fail like PostgreSQL would. */
  function fakeSession(fail: (text: string) => boolean = () => false) {
    const sent: string[] = [];
    const released: unknown[] = [];
    const client: PooledClient = {
      async query(text) {
        const sql = typeof text === 'string' ? text : text.text;
        sent.push(sql);
        if (fail(sql)) throw Object.assign(new Error('nope'), { code: '42P01', severity: 'ERROR' });
        return { rows: [] };
      },
      release(destroy) {
        released.push(destroy);
      },
    };
    return { client, sent, released, pool: { query: client.query, connect: async () => client } };
  }

  test('prepares each definition once per session, under generated names, and keeps at most the limit', async () => {
    const { client, sent } = fakeSession();
    const definition = (index: number) => `(pg_catalog.int4[]) as select ${index}`;
    const [first] = await preparedOn(client, [definition(0)]);
    expect(first).toMatch(/^rtk_rls_[0-9a-z]+$/);
    expect(await preparedOn(client, [definition(0)])).toEqual([first]);
    expect(sent).toEqual([`prepare ${first}${definition(0)}`]);
    for (let index = 1; index < MAX_PREPARED_PER_SESSION + 5; index++) {
      await preparedOn(client, [definition(0), definition(index)]); // 0 stays the most recently used
    }
    const live = new Set<string>();
    for (const text of sent) {
      const [verb, name] = text.split(/[ (]/);
      if (verb === 'prepare') live.add(name!);
      else live.delete(name!);
    }
    expect(live.size).toBe(MAX_PREPARED_PER_SESSION);
    expect(live.has(first!)).toBe(true);
    expect(sent.filter((text) => text.startsWith('deallocate'))).toHaveLength(5);
  });

  test('a failed PREPARE records nothing; a PostgreSQL error keeps the session, any other error drops it', async () => {
    let failing = true;
    const session = fakeSession((text) => failing && text.startsWith('prepare'));
    await expect(withSession(session.pool, (client) => preparedOn(client, ['(pg_catalog.int4[]) as select 1']))).rejects.toMatchObject({ code: '42P01' });
    expect(session.released).toEqual([undefined]);
    failing = false;
    await withSession(session.pool, (client) => preparedOn(client, ['(pg_catalog.int4[]) as select 1']));
    expect(session.sent.filter((text) => text.startsWith('prepare'))).toHaveLength(2);
    await expect(withSession(session.pool, async () => { throw new Error('connection terminated'); })).rejects.toThrow('connection terminated');
    expect(session.released[2]).toBeInstanceOf(Error);
    // Dropped: its record is gone too, so a new session under the same object would prepare again.
    await withSession(session.pool, (client) => preparedOn(client, ['(pg_catalog.int4[]) as select 1']));
    expect(session.sent.filter((text) => text.startsWith('prepare'))).toHaveLength(3);
  });
});

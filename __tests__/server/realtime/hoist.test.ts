/**
 * hoistRowIndependent: what a policy computes without reading the row is wrapped in `(select ...)`
 * (computed once per check), and nothing else is touched. Inputs are pg_get_expr's output.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { hoistRowIndependent } from '../../../lib/server/realtime/authorization/hoist';
import { loadPolicySet } from '../../../lib/server/realtime/authorization/policies';
import { testStack } from '../../support/stack';

const NAMES = ['notes', 'id', 'owner', 'team', 'Name', 'tags', 'created'];

describe('hoistRowIndependent', () => {
  test.each([
    ['a claim read and cast', `(owner = (((current_setting('request.jwt.claims'::text, true))::jsonb ->> 'sub'::text))::uuid)`,
      `(owner = (select ((current_setting('request.jwt.claims'::text, true))::jsonb ->> 'sub'::text))::uuid)`],
    ['a bare call', '(owner = auth.uid())', '(owner = (select auth.uid()))'],
    ['a quoted schema', '(owner = "Auth".uid())', '(owner = (select "Auth".uid()))'],
    ['both sides of AND', `(("Name" = ((current_setting('request.jwt.claims'::text, true))::json ->> 'name'::text)) AND (created > (now() - '1 day'::interval)))`,
      `(("Name" = (select (current_setting('request.jwt.claims'::text, true))::json ->> 'name'::text)) AND (created > (select now() - '1 day'::interval)))`],
    ['an OR operand and a call before ANY', `((auth.uid() = ANY (ARRAY[owner])) OR ((((current_setting('x'::text, true))::jsonb -> 'a'::text) ->> 'role'::text) = 'admin'::text))`,
      `(((select auth.uid()) = ANY (ARRAY[owner])) OR (select (((current_setting('x'::text, true))::jsonb -> 'a'::text) ->> 'role'::text) = 'admin'::text))`],
    ['a whole row-independent policy', `(current_setting('app.on'::text) = 'on'::text)`, `(select current_setting('app.on'::text) = 'on'::text)`],
    ['one of two calls', '(f(owner) AND g(1))', '(f(owner) AND (select g(1)))'],
    ['the fields of a row constructor', '(ROW(owner, id) = (f(1), g(2)))', '(ROW(owner, id) = ((select f(1)), (select g(2))))'],
    ['strings holding column names and quotes', `(owner = (lower(E'owner\\'s'::text) || 'id'::text))`, `(owner = (select lower(E'owner\\'s'::text) || 'id'::text))`],
  ])('hoists %s', (_, qual, expected) => {
    expect(hoistRowIndependent(qual, NAMES)).toBe(expected);
  });

  test.each([
    ['a subquery (its aggregates and correlation stay as they are)', `(team IN ( SELECT m.team FROM members m WHERE (m.uid = auth.uid() AND (1 + count(*)) > 0)))`],
    ['a column read', '(owner = lower((owner)::text))'],
    ['the table named in a call', '(my_check(notes.*))'],
    ['a column named like a function argument, case-insensitively', `(f("NAME") = g(name))`],
    ['an explicit collation', `("Name" = (lower('x'::text) COLLATE "C"))`],
    ['an OPERATOR() call', '(owner OPERATOR(public.===) (x.y))'],
    ['a constant with a type modifier (nothing to gain)', `((owner)::text = ('a'::character varying(10))::text)`],
    ['a call after IS DISTINCT FROM', '(owner IS DISTINCT FROM auth.uid())'],
    ['unbalanced or foreign text', '(owner = f(1)'],
    ['a dollar sign', '(owner = $1)'],
  ])('leaves alone %s', (_, qual) => {
    expect(hoistRowIndependent(qual, NAMES)).toBe(qual);
  });
});

describe('policies read for checks', () => {
  const database = `rt_hoist_${randomBytes(4).toString('hex')}`;
  let admin: pg.Client;
  let db: pg.Client;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: testStack().databaseUrl });
    await admin.connect();
    await admin.query(`create database ${database}`);
    const url = new URL(testStack().databaseUrl);
    url.pathname = `/${database}`;
    db = new pg.Client({ connectionString: url.toString() });
    await db.connect();
    await db.query(`
      create table notes (id int4 primary key, owner text);
      create policy stable_claims on notes for select using (owner = current_setting('request.jwt.claims', true)::json ->> 'sub');
      create policy volatile_call on notes for select using (owner = (random() * 0)::text || current_setting('app.x', true));
      create function dice() returns int language sql volatile as $$ select 4 $$;
      create policy volatile_inside on notes for select using (owner = dice()::text);`);
  });

  afterAll(async () => {
    await db?.end();
    await admin?.query(`drop database if exists ${database} with (force)`);
    await admin?.end();
  });

  test('a policy is hoisted unless it calls a volatile function, and PostgreSQL parses what is used', async () => {
    const { rows } = await db.query(`select 'notes'::regclass::oid::text as oid`);
    const set = await loadPolicySet(db, rows[0].oid, 'public', 'notes');
    const quals = Object.fromEntries([...set.policies.values()].map((policy) => [policy.name, policy.qual]));
    expect(quals.stable_claims).toBe(`(owner = (select (current_setting('request.jwt.claims'::text, true))::json ->> 'sub'::text))`);
    expect(quals.volatile_call).not.toContain('select');
    expect(quals.volatile_inside).toBe('(owner = (dice())::text)');
  });
});

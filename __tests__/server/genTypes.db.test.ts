/**
 * `rtk-postgrest gen types --db` against the suite's real PostgreSQL: the catalog's model of schema.sql
 * next to PostgREST's OpenAPI model of it (where both know, they agree; where they differ, the catalog
 * is right, shown by inserting), what only the catalog tells (function results, domains, overloads,
 * views that take inserts, materialized views) on a schema this file creates, a TypeScript compile
 * of code using it, and the CLI's errors.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { readCatalog } from '../../lib/server/cli/types/catalog';
import { generateTypes } from '../../lib/server/cli/types/genTypes';
import type { RelationModel, SchemaModel } from '../../lib/server/cli/types/model';
import { fetchOpenApi, schemaFromOpenApi } from '../../lib/server/cli/types/openapi';
import { expectEventually } from '../support/eventually';
import { testStack } from '../support/stack';
import { CLIENT, closedPort, compileAgainst, runGenTypesCli as run } from './genTypesSupport';

/** A schema only this file uses (PostgREST does not expose it), dropped afterwards. */
const FIXTURE = `
create schema gt_catalog;
create domain gt_catalog.positive as integer not null check (value > 0);
create domain gt_catalog.label as text default 'none';
create type gt_catalog.level as enum ('low', 'high');
create type gt_catalog.pair as (a integer, b text);
create table gt_catalog.things (
  id     bigint generated always as identity primary key,
  n      gt_catalog.positive,
  l      gt_catalog.label,
  level  gt_catalog.level not null,
  levels gt_catalog.level[],
  twice  integer generated always as (n * 2) stored,
  "two words" text not null
);
create view gt_catalog.thing_levels as select id, level from gt_catalog.things;
create view gt_catalog.level_counts as select level, count(*) as n from gt_catalog.things group by level;
create materialized view gt_catalog.level_totals as select level, count(*) as n from gt_catalog.things group by level;
create function gt_catalog.nothing() returns void language sql as 'select';
create function gt_catalog.pair_of(a integer, b text default 'x') returns gt_catalog.pair language sql as $$ select a, b $$;
create function gt_catalog.span(lo integer, out first integer, out last integer) language sql as $$ select lo, lo + 1 $$;
create function gt_catalog.grid(n integer) returns table (x integer, y text) language sql as $$ select i, i::text from generate_series(1, n) i $$;
create function gt_catalog.all_things() returns setof gt_catalog.things language sql as 'select * from gt_catalog.things';
create function gt_catalog.public_notes() returns setof public.item_notes language sql as 'select * from public.item_notes';
create function gt_catalog.pick(a integer) returns integer language sql as 'select a';
create function gt_catalog.pick(b text) returns text language sql as 'select b';
create function gt_catalog.total(variadic xs integer[]) returns bigint language sql as 'select sum(x) from unnest(xs) x';
-- PostgREST offers no /rpc for a function whose inputs are all unnamed (an extension's akeys(hstore),
-- say), except one unnamed json / jsonb / text / xml / bytea input, which gets the request body.
create function gt_catalog.two_unnamed(integer, integer) returns integer language sql as 'select $1 + $2';
create function gt_catalog.echo_raw(json) returns json language sql as 'select $1';
create function gt_catalog.touch() returns trigger language plpgsql as 'begin return new; end';
create procedure gt_catalog.tidy() language sql as 'select';
`;

let dir: string;
let catalog: SchemaModel;
let openApi: SchemaModel;
let fixture: SchemaModel;
beforeAll(async () => {
  const { sql, databaseUrl, postgrestUrl } = testStack();
  dir = await mkdtemp(path.join(os.tmpdir(), 'rtk-gen-types-db-'));
  await sql('drop schema if exists gt_catalog cascade');
  await sql(FIXTURE);
  // A label added later, before another: the order is the enum's, not the labels' creation order.
  await sql(`alter type gt_catalog.level add value 'mid' before 'high'`);
  [catalog, fixture] = await readCatalog(databaseUrl, ['public', 'gt_catalog']) as [SchemaModel, SchemaModel];
  openApi = schemaFromOpenApi(await fetchOpenApi(postgrestUrl, 'public', undefined), 'public');
});
afterAll(async () => {
  await testStack().sql('drop schema if exists gt_catalog cascade');
  await testStack().closeSql();
  await rm(dir, { recursive: true, force: true });
});

const names = (list: readonly { name: string }[]) => list.map((item) => item.name);
const columnsOf = (list: readonly RelationModel[], name: string) => list.find((relation) => relation.name === name)!.columns;

describe('gen types --db: the catalog next to the OpenAPI document (schema.sql)', () => {
  it('lists the same tables and views with the same column types and nullability', () => {
    expect(names(catalog.tables)).toEqual(names(openApi.tables));
    expect(names(catalog.views)).toEqual(names(openApi.views));
    expect(names(catalog.tables)).toEqual(expect.arrayContaining(['gt_entries', 'gt_titles', 'items', 'memberships']));
    const shape = (model: SchemaModel) =>
      [...model.tables, ...model.views].map(({ name, columns }) => ({ name, columns: columns.map(({ name, type, nullable }) => ({ name, type, nullable })) }));
    expect(shape(catalog)).toEqual(shape(openApi));
    // A view's columns are nullable in both: PostgreSQL records NOT NULL only on table columns.
    expect(columnsOf(catalog.tables, 'gt_titles').map((column) => column.nullable)).toEqual([true, true, true]);
  });

  it('differs on insert optionality only where the OpenAPI document guesses, and the catalog is right', async () => {
    const differences = catalog.tables.flatMap((table) =>
      table.columns.flatMap((column, i) =>
        column.optionalOnInsert === columnsOf(openApi.tables, table.name)[i]!.optionalOnInsert ? [] : [`${table.name}.${column.name} ${column.optionalOnInsert ? 'optional' : 'required'}`],
      ),
    );
    const client = new pg.Client({ connectionString: testStack().databaseUrl });
    await client.connect();
    try {
      // Integer primary key columns without a default (schema.sql has several), which the OpenAPI
      // reading takes as generated; and a '{}' default PostgREST does not show.
      const keys = await client.query<{ name: string }>(`
        select c.relname || '.' || a.attname as name
        from pg_attribute a
        join pg_class c on c.oid = a.attrelid
        join pg_namespace n on n.oid = c.relnamespace
        join pg_index i on i.indrelid = c.oid and i.indisprimary and a.attnum = any (i.indkey)
        where n.nspname = 'public' and c.relkind in ('r', 'p') and a.atttypid in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
          and not a.atthasdef and a.attidentity = ''`);
      expect(keys.rows.map((row) => row.name)).toEqual(expect.arrayContaining(['docs.id', 'memberships.org_id', 'memberships.user_id']));
      expect(differences.sort()).toEqual([...keys.rows.map((row) => `${row.name} required`), 'gt_entries.tags optional'].sort());
      await client.query('begin');
      const inserted = await client.query(`insert into gt_entries (title) values ('no tags') returning tags`);
      expect(inserted.rows).toEqual([{ tags: [] }]);
      await expect(client.query(`insert into item_notes (item_id) values (1)`)).rejects.toThrow(/null value in column "id"/);
    } finally {
      await client.query('rollback');
      await client.end();
    }
  });

  it('gives the same enum labels, and the same function arguments with their types and optionality', () => {
    expect([...catalog.enums]).toEqual([['gt_mood', ['happy', 'sad', "it's complicated"]]]);
    expect([...catalog.enums]).toEqual([...openApi.enums]);
    const signatures = (model: SchemaModel) => model.functions.map(({ name, args }) => ({ name, args: [...args].sort((a, b) => (a.name < b.name ? -1 : 1)) }));
    expect(signatures(catalog)).toEqual(signatures(openApi));
    // The catalog keeps the declaration order (the OpenAPI document sorts by name).
    expect(names(catalog.functions.find((fn) => fn.name === 'bump_qty')!.args)).toEqual(['item_id', 'amount']);
  });

  it('knows the functions\' result types, which the OpenAPI document does not', () => {
    const returns = (model: SchemaModel) => Object.fromEntries(model.functions.map((fn) => [fn.name, fn.returns]));
    // Contains: other test files may add functions to public (pgValues creates the hstore extension);
    // the same list as the OpenAPI document's is checked above.
    expect(returns(catalog)).toMatchObject({
      add_numbers: 'number',
      bump_qty: 'Database["public"]["Tables"]["items"]["Row"]',
      client_notes_bump: 'Database["public"]["Tables"]["client_notes"]["Row"][]',
      gt_count_mood: 'number',
      items_named: 'Database["public"]["Tables"]["items"]["Row"][]',
      raise_structured: 'null',
    });
    expect(new Set(Object.values(returns(openApi)))).toEqual(new Set(['unknown']));
  });
});

describe('gen types --db: what only the catalog tells (a schema of this file)', () => {
  it('reads domains, identity and generated columns, enum labels in their order, and which views take inserts', () => {
    expect(names(fixture.tables)).toEqual(['thing_levels', 'things']);
    expect(names(fixture.views)).toEqual(['level_counts', 'level_totals']);
    expect([...fixture.enums]).toEqual([['level', ['low', 'mid', 'high']]]);
    const level = '"low" | "mid" | "high"';
    expect(columnsOf(fixture.tables, 'things')).toEqual([
      { name: 'id', type: 'number', nullable: false, optionalOnInsert: true },
      { name: 'n', type: 'number', nullable: false, optionalOnInsert: false },
      { name: 'l', type: 'string', nullable: true, optionalOnInsert: true },
      { name: 'level', type: level, nullable: false, optionalOnInsert: false },
      { name: 'levels', type: `(${level})[]`, nullable: true, optionalOnInsert: true },
      { name: 'twice', type: 'number', nullable: true, optionalOnInsert: true },
      { name: 'two words', type: 'string', nullable: false, optionalOnInsert: false },
    ]);
    expect(columnsOf(fixture.views, 'level_totals')).toEqual([
      { name: 'level', type: level, nullable: true, optionalOnInsert: true },
      { name: 'n', type: 'number', nullable: true, optionalOnInsert: true },
    ]);
  });

  it('types void, composite, OUT, table, setof, variadic and overloaded functions; leaves out trigger functions, procedures and functions PostgREST cannot call by name', () => {
    expect(fixture.functions.map(({ name, args, returns }) => ({ name, args: args.map((a) => `${a.name}${a.optional ? '?' : ''}: ${a.type}`), returns }))).toEqual([
      { name: 'all_things', args: [], returns: 'Database["gt_catalog"]["Tables"]["things"]["Row"][]' },
      { name: 'echo_raw', args: [': Json'], returns: 'Json' },
      { name: 'grid', args: ['n: number'], returns: '{ x: number; y: string }[]' },
      { name: 'nothing', args: [], returns: 'null' },
      { name: 'pair_of', args: ['a: number', 'b?: string'], returns: '{ a: number | null; b: string | null }' },
      { name: 'pick', args: ['a: number'], returns: 'number' },
      { name: 'pick', args: ['b: string'], returns: 'string' },
      // A row type of a schema not generated is written out.
      { name: 'public_notes', args: [], returns: '{ id: number; item_id: number; note: string | null; stars: number | null }[]' },
      { name: 'span', args: ['lo: number'], returns: '{ first: number; last: number }' },
      { name: 'total', args: ['xs: number[]'], returns: 'number' },
    ]);
  });

  it('writes a Database that types from / rpc on that schema, and fails on wrong columns, arguments and labels', async () => {
    const database = await generateTypes({ db: testStack().databaseUrl, schemas: ['public', 'gt_catalog'] });
    const header = `
import { postgrestClient, type ResultOf } from ${CLIENT};
import type { Database } from './database.js';
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const yes = <T extends true>(): T | undefined => undefined;
const db = postgrestClient<Database, 'gt_catalog'>({ schema: 'gt_catalog' });
`;
    const good = `${header}
type Thing = Database['gt_catalog']['Tables']['things']['Row'];
yes<Equal<Thing['levels'], ("low" | "mid" | "high")[] | null>>();
db.from('things').insert({ n: 1, level: 'mid', 'two words': 'x' });
db.from('thing_levels').insert({ level: 'low' });
db.from('level_totals').select('level, n').eq('level', 'high');
const all = db.rpc('all_things');
yes<Equal<ResultOf<typeof all>, Thing[]>>();
const grid = db.rpc('grid', { n: 3 }).eq('x', 2).order('y');
yes<Equal<ResultOf<typeof grid>, { x: number; y: string }[]>>();
const nothing = db.rpc('nothing');
yes<Equal<ResultOf<typeof nothing>, null>>();
const pair = db.rpc('pair_of', { a: 1 });
yes<Equal<ResultOf<typeof pair>, { a: number | null; b: string | null }>>();
db.rpc('pick', { a: 1 });
db.rpc('pick', { b: 'x' });
db.rpc('total', { xs: [1, 2] });
const count = db.schema('public').rpc('gt_count_mood', { m: 'sad' });
yes<Equal<ResultOf<typeof count>, number>>();
`;
    const bad: Record<string, string> = {
      'insert without a domain NOT NULL column': `db.from('things').insert({ level: 'low', 'two words': 'x' });`,
      'insert of a label not in the enum': `db.from('things').insert({ n: 1, level: 'middle', 'two words': 'x' });`,
      'a filter on a column the function does not return': `db.rpc('grid', { n: 3 }).eq('z', 1);`,
      'an argument of no overload': `db.rpc('pick', { c: 1 });`,
      'a procedure, which PostgREST does not call': `db.rpc('tidy');`,
      'a string where the function returns a number': `const total = db.rpc('total', { xs: [1] }); const sum: ResultOf<typeof total> = 'x';`,
    };
    const errors = await compileAgainst(dir, database, { good, ...Object.fromEntries(Object.entries(bad).map(([name, line]) => [name, header + line])) });
    expect(errors.good).toEqual([]);
    expect(Object.fromEntries(Object.keys(bad).map((name) => [name, errors[name]!.length > 0]))).toEqual(Object.fromEntries(Object.keys(bad).map((name) => [name, true])));
  }, 120_000);
});

describe('gen types --db: the connection and the errors', () => {
  it('closes its connection after reading and after failing on an unknown schema', async () => {
    const url = new URL(testStack().databaseUrl);
    url.searchParams.set('application_name', 'gen-types-close-test');
    await readCatalog(url.href, ['public']);
    await expect(readCatalog(url.href, ['public', 'no_such_schema'])).rejects.toThrow('schema "no_such_schema" does not exist in this database');
    await expectEventually(async () => {
      expect(await testStack().sql(`select pid from pg_stat_activity where application_name = 'gen-types-close-test'`)).toEqual([]);
    });
  });

  it('writes the same text from the CLI, and fails with exit code 1 and one line for an unreachable database, an unknown schema or a bad URL', async () => {
    const printed = await run(['--db', testStack().databaseUrl, '--schema', 'public']);
    expect(printed).toMatchObject({ code: 0, stderr: '' });
    expect(printed.stdout).toBe(await generateTypes({ db: testStack().databaseUrl, schemas: ['public'] }));
    const port = await closedPort();
    const unreachable = await run(['--db', `postgres://postgres:secret@127.0.0.1:${port}/postgres`]);
    expect(unreachable).toMatchObject({ code: 1, stdout: '' });
    expect(unreachable.stderr).toBe(`rtk-postgrest: gen types: cannot connect to PostgreSQL at postgres://postgres:***@127.0.0.1:${port}/postgres: connect ECONNREFUSED 127.0.0.1:${port}\n`);
    const schema = await run(['--db', testStack().databaseUrl, '--schema', 'public,nope']);
    expect(schema).toMatchObject({ code: 1, stdout: '', stderr: 'rtk-postgrest: gen types: schema "nope" does not exist in this database\n' });
    expect((await run(['--db', 'localhost'])).stderr).toBe('rtk-postgrest: gen types: --db "localhost" is not a URL (postgres://user:password@host:port/database)\n');
    expect((await run(['--db', 'http://localhost:5432/db'])).stderr).toMatch(/^rtk-postgrest: gen types: --db must be a postgres:\/\/ URL/);
  }, 60_000);

  it('takes exactly one of --url and --db (exit code 2)', async () => {
    const both = await run(['--db', testStack().databaseUrl, '--url', testStack().postgrestUrl]);
    expect(both).toMatchObject({ code: 2, stdout: '', stderr: 'rtk-postgrest: gen types takes --url or --db, not both (see rtk-postgrest --help)\n' });
    const neither = await run(['--schema', 'public']);
    expect(neither).toMatchObject({ code: 2, stdout: '', stderr: 'rtk-postgrest: gen types needs --url <PostgREST URL> or --db <PostgreSQL URL> (see rtk-postgrest --help)\n' });
    await expect(generateTypes({ schemas: ['public'] } as never)).rejects.toThrow('give exactly one of --url (PostgREST) and --db (PostgreSQL)');
  }, 60_000);
});

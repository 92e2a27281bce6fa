/**
 * What "Subscribed to PostgreSQL" tells clients about a table's columns (lib/server/realtime/changes/
 * catalog.ts): base types and the collation each text column compares under — the database default
 * resolved by its provider, and under libc the lc_ctype case folding follows when it differs from
 * lc_collate (a common set-up: C order, UTF-8 case folding).
 */
import pg from 'pg';
import { loadPublishedTable } from '../../../lib/server/realtime/changes/catalog';
import { testStack } from '../../support/stack';

const DATABASE = `catalog_${process.pid}`;
let admin: pg.Pool;
let pool: pg.Pool;

beforeAll(async () => {
  const stack = testStack();
  admin = new pg.Pool({ connectionString: stack.databaseUrl, max: 1 });
  await admin.query(`create database ${DATABASE} template template0 locale_provider libc lc_collate 'C' lc_ctype 'C.UTF-8'`);
  const url = new URL(stack.databaseUrl);
  url.pathname = `/${DATABASE}`;
  pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  await pool.query(`
    create collation c_order_utf8_case (provider = libc, lc_collate = 'C', lc_ctype = 'C.UTF-8');
    create domain label as text;
    create table t (id int4 primary key, plain text, posix text collate "POSIX", mixed text collate c_order_utf8_case, tag label, tags text[], n numeric);
    create table hidden (id int4, code text, secret text, primary key (id, code));
    grant select on t to anon;
    grant select (id, code) on hidden to anon;
    create publication catalog_pub for table t, hidden;`);
});

afterAll(async () => {
  await pool?.end();
  // Not WITH (FORCE): pool.end() resolves before the server closed the sessions, and FORCE would
  // kill them under the closing clients' feet (an unhandled 57P01).
  await admin?.query(`drop database if exists ${DATABASE}`);
  await admin?.end();
});

test('columns are described with base types, collations and, where it differs, the ctype', async () => {
  const table = await loadPublishedTable(pool, 'public', 't', 'catalog_pub', 'anon');
  expect(table.published).toBe(true);
  expect(table.described).toEqual([
    { name: 'id', type: 'int4' },
    { name: 'plain', type: 'text', collation: 'C', ctype: 'C.UTF-8' },
    { name: 'posix', type: 'text', collation: 'POSIX' },
    { name: 'mixed', type: 'text', collation: 'c_order_utf8_case', ctype: 'C.UTF-8' },
    { name: 'tag', type: 'text', collation: 'C', ctype: 'C.UTF-8' },
    { name: 'tags', type: '_text', collation: 'C', ctype: 'C.UTF-8' },
    { name: 'n', type: 'numeric' },
  ]);
  // Why the ctype matters: PostgreSQL folds non-ASCII letters under this database's default.
  const [row] = (await pool.query<{ folds: boolean }>(`select 'ÉTÉ' ilike '%été%' as folds`)).rows;
  expect(row!.folds).toBe(true);
});

test('describes only what the subscriber\'s role may read, and knows the primary key', async () => {
  const asAnon = await loadPublishedTable(pool, 'public', 'hidden', 'catalog_pub', 'anon');
  expect(asAnon.columns.map((column) => [column.name, column.readable])).toEqual([['id', true], ['code', true], ['secret', false]]);
  expect(asAnon.described.map((column) => column.name)).toEqual(['id', 'code']);
  expect(asAnon.primaryKey).toEqual(['id', 'code']);
  const asNobody = await loadPublishedTable(pool, 'public', 'hidden', 'catalog_pub', 'no such role');
  expect(asNobody.columns.every((column) => !column.readable)).toBe(true);
  expect(asNobody.described).toEqual([]);
});

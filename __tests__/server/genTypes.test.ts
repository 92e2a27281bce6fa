/**
 * `rtk-postgrest gen types` against the suite's real PostgREST (schema.sql's gt_* fixtures): the
 * generated text, a TypeScript compile of code using it (right columns compile, wrong ones fail; the
 * same code against the `--db` output too), and the CLI as a process with its errors. The catalog
 * source's own tests are in genTypes.db.test.ts.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateTypes } from '../../lib/server/cli/types/genTypes';
import { testStack } from '../support/stack';
import { blockLines, CLIENT, closedPort, REACT, compileAgainst, runGenTypesCli as run } from './genTypesSupport';

let dir: string;
let generated: string;
let generatedFromDb: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rtk-gen-types-'));
  generated = await generateTypes({ url: testStack().postgrestUrl, schemas: ['public'] });
  generatedFromDb = await generateTypes({ db: testStack().databaseUrl, schemas: ['public'] });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('gen types from PostgREST OpenAPI', () => {
  it('maps each column type as PostgREST sends it, with | null for nullable columns', () => {
    expect(blockLines(generated, 'Tables', 'gt_entries', 'Row')).toEqual([
      'id: number;',
      'title: string;',
      `mood: "happy" | "sad" | "it's complicated";`,
      'tags: string[];',
      'scores: number[] | null;',
      'meta: Json | null;',
      'note: string | null;',
      'price: number | null;',
      'ratio: number;',
      'done: boolean;',
      'key: string;',
      'day: string | null;',
      'created_at: string;',
    ]);
    expect(generated).toContain('export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[];');
    expect(generated).toMatch(/bigint and numeric columns are `number`/);
  });

  it('makes defaulted, nullable and identity columns optional in Insert, and every column optional in Update', () => {
    const insert = blockLines(generated, 'Tables', 'gt_entries', 'Insert');
    expect(insert.filter((line) => !/^\w+\?:/.test(line))).toEqual(['title: string;', 'tags: string[];']);
    expect(insert).toEqual(expect.arrayContaining(['id?: number;', 'key?: string;', 'note?: string | null;', `mood?: "happy" | "sad" | "it's complicated";`]));
    expect(blockLines(generated, 'Tables', 'gt_entries', 'Update').every((line) => /^\w+\?:/.test(line))).toBe(true);
    // A plain bigint primary key without a default stays required... unless it looks generated (see openapi.ts).
    expect(blockLines(generated, 'Tables', 'authors', 'Insert')).toEqual(['id: string;', 'name: string;']);
  });

  it('lists enums and functions with their arguments (optional when defaulted)', () => {
    expect(blockLines(generated, 'Enums')).toContain(`gt_mood: "happy" | "sad" | "it's complicated";`);
    expect(blockLines(generated, 'Functions', 'gt_count_mood')).toEqual([
      'Args: {',
      `m: "happy" | "sad" | "it's complicated";`,
      'since?: string;',
      '};',
      'Returns: unknown;',
    ]);
    expect(blockLines(generated, 'Functions', 'raise_structured')).toEqual(['Args: Record<string, never>;', 'Returns: unknown;']);
  });

  it('rejects a schema PostgREST does not expose, naming it', async () => {
    await expect(generateTypes({ url: testStack().postgrestUrl, schemas: ['no_such_schema'] })).rejects.toThrow(/schema "no_such_schema" is not exposed by this PostgREST/);
  });
});

describe('the generated Database types postgrestClient<Database>()', () => {
  const good = `
import { postgrestClient, type ResultOf } from ${CLIENT};
import { createPostgrestApi, createQueryHooks } from ${REACT};
import type { Database, Json } from './database.js';
type Entry = Database['public']['Tables']['gt_entries']['Row'];
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const yes = <T extends true>(): T | undefined => undefined;
const db = postgrestClient<Database>();
const read = db.from('gt_entries').select('id, title, mood, tags').eq('mood', 'sad').in('id', [1, 2]).order('created_at').or((q) => q.is('note', null).gt('ratio', 1));
yes<Equal<ResultOf<typeof read>, Entry[]>>();
yes<Equal<Entry['meta'], Json | null>>();
yes<Equal<Entry['tags'], string[]>>();
db.from('gt_entries').eq('meta->>k', 'v').eq('authors.name', 'x');
db.from('gt_entries').insert({ title: 'x', tags: [] }).select().single();
db.from('gt_entries').insert([{ title: 'x', tags: ['a'], mood: "it's complicated", meta: { a: [1, null] } }]);
db.from('gt_entries').update({ note: null, done: true }).eq('id', 1);
db.from('gt_titles').select('title');
db.rpc('gt_count_mood', { m: 'sad' });
db.rpc('raise_structured');
db.schema('public').from('posts').select('id, title');
// createPostgrestApi<Database>(): the api's own builders, and the query hooks' client, typed the same way.
const api = createPostgrestApi<Database>({ url: 'http://localhost:3000' });
const viaApi = api.from('gt_entries').select('id, title').eq('mood', 'sad');
yes<Equal<ResultOf<typeof viaApi>, Entry[]>>();
api.from('gt_entries').insert({ title: 'x', tags: [] });
api.rpc('gt_count_mood', { m: 'sad' });
const { useQuery } = createQueryHooks(api);
export function Entries() {
  const { data } = useQuery(['entries'], (client) => client.from('gt_entries').select('id, title'));
  yes<Equal<typeof data, Entry[] | undefined>>();
  return null;
}
`;
  const bad: Record<string, string> = {
    'select of a misspelt column': `db.from('gt_entries').select('id, titel');`,
    'filter on a misspelt column': `db.from('gt_entries').eq('titel', 'x');`,
    'order by a misspelt column': `db.from('gt_entries').order('createdAt');`,
    'insert with a misspelt column': `db.from('gt_entries').insert({ title: 'x', tags: [], titel: 'y' });`,
    'insert without a required column': `db.from('gt_entries').insert({ tags: [] });`,
    'insert of a value outside the enum': `db.from('gt_entries').insert({ title: 'x', tags: [], mood: 'angry' });`,
    'insert of a wrong value type': `db.from('gt_entries').insert({ title: 1, tags: [] });`,
    'update with a misspelt column': `db.from('gt_entries').update({ titel: 'y' });`,
    'null into a not-null column': `db.from('gt_entries').update({ title: null });`,
    'a table not in the Database': `db.from('gt_entriez');`,
    'rpc with a wrong argument': `db.rpc('gt_count_mood', { mood: 'sad' });`,
    'the api: filter on a misspelt column': `createPostgrestApi<Database>({ url: 'http://x' }).from('gt_entries').eq('titel', 'x');`,
    'the api: insert with a misspelt column': `createPostgrestApi<Database>({ url: 'http://x' }).from('gt_entries').insert({ title: 'x', tags: [], titel: 'y' });`,
    'the query hooks: a table not in the Database': `createQueryHooks(createPostgrestApi<Database>({ url: 'http://x' })).useQuery(['k'], (client) => client.from('gt_entriez'));`,
  };

  it.each(['--url', '--db'])('compiles code with the right columns and fails on each wrong one (%s)', async (source) => {
    const header = `import { postgrestClient } from ${CLIENT};\nimport { createPostgrestApi, createQueryHooks } from ${REACT};\nimport type { Database } from './database.js';\nconst db = postgrestClient<Database>();\n`;
    const sources = { good, ...Object.fromEntries(Object.entries(bad).map(([name, line]) => [name, header + line])) };
    const errors = await compileAgainst(await mkdtemp(path.join(dir, 'compile-')), source === '--url' ? generated : generatedFromDb, sources);
    expect(errors.good).toEqual([]);
    expect(Object.fromEntries(Object.keys(bad).map((name) => [name, errors[name]!.length > 0]))).toEqual(Object.fromEntries(Object.keys(bad).map((name) => [name, true])));
    expect(errors['select of a misspelt column']!.join('\n')).toMatch(/titel/);
    // The typed api fails for the wrong column, not for a missing `from`.
    expect(errors['the api: filter on a misspelt column']!.join('\n')).toMatch(/titel/);
    expect(errors['the api: insert with a misspelt column']!.join('\n')).toMatch(/titel/);
    expect(errors['the query hooks: a table not in the Database']!.join('\n')).toMatch(/gt_entriez/);
  }, 120_000);
});

describe('rtk-postgrest gen types, the CLI', () => {
  it('writes the Database to --out, or to stdout', async () => {
    const out = path.join(dir, 'cli-db.ts');
    const written = await run(['--url', testStack().postgrestUrl, '--out', out]);
    expect(written).toMatchObject({ code: 0, stdout: '' });
    expect(written.stderr).toContain(`wrote ${out}`);
    expect(await readFile(out, 'utf8')).toBe(generated);
    const printed = await run(['--url', testStack().postgrestUrl, '--schema', 'public']);
    expect(printed).toMatchObject({ code: 0, stderr: '' });
    expect(printed.stdout).toBe(generated);
  }, 60_000);

  it('fails with exit code 1 and one clear line for an unreachable URL or an unknown schema, 2 for bad usage', async () => {
    const port = await closedPort();
    const unreachable = await run(['--url', `http://127.0.0.1:${port}`]);
    expect(unreachable).toMatchObject({ code: 1, stdout: '' });
    expect(unreachable.stderr).toMatch(new RegExp(`^rtk-postgrest: gen types: cannot reach PostgREST at http://127.0.0.1:${port}/: .*ECONNREFUSED`));
    const schema = await run(['--url', testStack().postgrestUrl, '--schema', 'nope']);
    expect(schema).toMatchObject({ code: 1, stdout: '' });
    expect(schema.stderr).toContain('schema "nope" is not exposed by this PostgREST');
    const notUrl = await run(['--url', 'localhost']);
    expect(notUrl.stderr).toContain('--url "localhost" is not a URL');
    expect((await run([])).code).toBe(2);
  }, 60_000);
});

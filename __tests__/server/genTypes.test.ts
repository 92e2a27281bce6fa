/**
 * `rtk-postgrest gen types` against the suite's real PostgREST (schema.sql's gt_* fixtures): the
 * generated text, a TypeScript compile of code using it (right columns compile, wrong ones fail), and
 * the CLI as a process with its errors.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { generateTypes } from '../../lib/server/cli/types/genTypes';
import { testStack } from '../support/stack';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let dir: string;
let generated: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rtk-gen-types-'));
  generated = await generateTypes({ url: testStack().postgrestUrl, schemas: ['public'] });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The lines of one block (`gt_entries: {` … `Row: {` …) of the generated text, trimmed. */
function blockLines(text: string, ...names: string[]): string[] {
  let lines = text.split('\n');
  for (const name of names) {
    const start = lines.findIndex((line) => line.trim() === `${name}: {`);
    if (start < 0) throw new Error(`no block ${names.join(' > ')}`);
    const depth = lines[start]!.search(/\S/);
    const end = lines.findIndex((line, i) => i > start && line.search(/\S/) === depth && line.trim().startsWith('}'));
    lines = lines.slice(start + 1, end);
  }
  return lines.map((line) => line.trim());
}

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
  const lib = path.join(ROOT, 'lib/postgrest/index.js');
  const good = `
import { postgrestClient, type ResultOf } from ${JSON.stringify(lib)};
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
  };

  it('compiles code with the right columns and fails on each wrong one', async () => {
    await writeFile(path.join(dir, 'database.ts'), generated);
    const header = `import { postgrestClient } from ${JSON.stringify(lib)};\nimport type { Database } from './database.js';\nconst db = postgrestClient<Database>();\n`;
    const files = [path.join(dir, 'good.ts')];
    await writeFile(files[0]!, good);
    const names = Object.keys(bad);
    for (const [i, name] of names.entries()) {
      files.push(path.join(dir, `bad${i}.ts`));
      await writeFile(files[i + 1]!, header + bad[name]);
    }
    const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
    const program = ts.createProgram(files, { ...config.options, noUnusedLocals: false, types: [] });
    const errors = (file: string) =>
      ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(errors(files[0]!)).toEqual([]);
    const compiled = Object.fromEntries(names.map((name, i) => [name, errors(files[i + 1]!).length > 0]));
    expect(compiled).toEqual(Object.fromEntries(names.map((name) => [name, true])));
    expect(errors(files[1]!).join('\n')).toMatch(/titel/);
  }, 120_000);
});

describe('rtk-postgrest gen types, the CLI', () => {
  function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'lib/server/cli/main.ts', 'gen', 'types', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  }

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
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
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

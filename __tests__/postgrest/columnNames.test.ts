/**
 * A typed `from<Row>()` checks column names when it compiles: a misspelt column fails, and the
 * compiler's message names it. Untyped builders and column paths (embedded, JSON, casts) take any
 * string. Compiled as an app would (support/compile.ts): `tsc` alone can only say "some error".
 */
import { appFolder, type AppFolder, type CompileDiagnostic } from '../support/compile';

const header = `import { from } from 'rtk-postgrest';
interface Post { id: number; author_id: string; title: string; data: unknown }
`;

const misspelt: Record<string, string> = {
  eq: `from<Post>('posts').eq('titel', 'x');`,
  in: `from<Post>('posts').in('titel', ['x']);`,
  not: `from<Post>('posts').not('titel', 'eq', 'x');`,
  order: `from<Post>('posts').select('*').order('titel');`,
  select: `from<Post>('posts').select('id, titel');`,
  'after a write': `from<Post>('posts').update({ title: 'y' }).eq('titel', 'x');`,
};

let folder: AppFolder;
let diagnostics: Record<string, CompileDiagnostic[]>;
beforeAll(async () => {
  folder = await appFolder('rtk-columns-');
  const good = `${header}
from<Post>('posts').eq('title', 'x').in('id', [1, 2]).order('author_id');
from<Post>('posts').select('id, title').eq('author_id', 'a');
from<Post>('posts').eq('authors.name', 'x').eq('data->>key', 'x').eq('id::text', '1').order('authors.name');
from('posts').eq('titel', 'x').order('titel');
`;
  const files = { 'good.ts': good, ...Object.fromEntries(Object.entries(misspelt).map(([name, line]) => [`${name.replace(/ /g, '-')}.ts`, header + line])) };
  diagnostics = await folder.compile(files);
}, 120_000);
afterAll(async () => {
  await folder?.remove();
});

it('compiles right columns, column paths, and any column of an untyped builder', () => {
  expect(diagnostics['good.ts']).toEqual([]);
});

it.each(Object.entries(misspelt))('a misspelt column fails to compile, named in the error: %s', (name, line) => {
  const errors = diagnostics[`${name.replace(/ /g, '-')}.ts`]!;
  expect(errors.map((d) => `${line} → TS${d.code}: ${d.message}`)).toEqual([expect.stringMatching(/TS\d+: .*"titel"/s)]);
  expect(errors[0]!.line).toBe(3);
});

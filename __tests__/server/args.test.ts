import { parseArgs, UsageError } from '../../lib/server/cli/args';

function usageError(argv: string[]): string {
  try {
    parseArgs(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('rtk-postgrest argument parsing', () => {
  it('parses every dev flag, in both --flag value and --flag=value forms', () => {
    expect(
      parseArgs(['dev', '--sql', 's.sql', '--migrations=m', '--data', 'd', '--db-port', '5432', '--api-port=3000', '--realtime-port', '4000', '--publication=feed', '--schemas', 'public, api', '--verbose']),
    ).toEqual({
      command: 'dev', sql: 's.sql', migrations: 'm', data: 'd', dbPort: 5432, apiPort: 3000, realtimePort: 4000, publication: 'feed', schemas: ['public', 'api'], verbose: true,
    });
    expect(parseArgs(['dev'])).toEqual({ command: 'dev', verbose: false });
  });

  it('parses a realtime cluster for dev: --realtime-nodes with --redis (a URL, or none for a local redis-server)', () => {
    expect(parseArgs(['dev', '--realtime-nodes', '3', '--redis'])).toEqual({ command: 'dev', realtimeNodes: 3, redis: true, verbose: false });
    expect(parseArgs(['dev', '--redis', '--verbose'])).toEqual({ command: 'dev', redis: true, verbose: true });
    expect(parseArgs(['dev', '--realtime-nodes=2', '--redis', 'redis://127.0.0.1:6379'])).toEqual({ command: 'dev', realtimeNodes: 2, redis: 'redis://127.0.0.1:6379', verbose: false });
    expect(usageError(['dev', '--realtime-nodes', '3'])).toMatch(/needs --redis/);
    expect(usageError(['dev', '--realtime-nodes', '0', '--redis'])).toMatch(/--realtime-nodes must be a number from 1 to 16/);
    expect(usageError(['dev', '--redis', 'localhost:6379'])).toMatch(/--redis must be a redis:\/\/ URL/);
  });

  it('parses --jwt-secret (at least 32 characters) and --env-file for dev', () => {
    const secret = 'x'.repeat(32);
    expect(parseArgs(['dev', '--jwt-secret', secret, '--env-file', '.env.local'])).toEqual({ command: 'dev', jwtSecret: secret, envFile: '.env.local', verbose: false });
    expect(usageError(['dev', '--jwt-secret', 'short'])).toMatch(/--jwt-secret must be at least 32 characters .* got 5/);
  });

  it('parses the realtime command: one node, its secret required, the cluster optional', () => {
    expect(parseArgs(['realtime', '--jwt-secret', 's', '--database-url', 'postgres://u:p@h/db', '--redis', 'redis://r:6379', '--node-id', 'a', '--port', '4100', '--host', '0.0.0.0', '--publication', 'feed'])).toEqual({
      command: 'realtime', jwtSecret: 's', databaseUrl: 'postgres://u:p@h/db', redis: 'redis://r:6379', nodeId: 'a', port: 4100, host: '0.0.0.0', publication: 'feed',
    });
    expect(parseArgs(['realtime', '--jwt-secret=s'])).toEqual({ command: 'realtime', jwtSecret: 's', port: 4000, host: '127.0.0.1' });
    const saved = process.env.RTK_REALTIME_JWT_SECRET;
    delete process.env.RTK_REALTIME_JWT_SECRET;
    try {
      expect(usageError(['realtime'])).toMatch(/needs --jwt-secret/);
    } finally {
      if (saved !== undefined) process.env.RTK_REALTIME_JWT_SECRET = saved;
    }
    expect(usageError(['realtime', '--jwt-secret', 's', '--redis', 'http://x'])).toMatch(/--redis must be a redis:\/\/ URL/);
    expect(usageError(['realtime', '--jwt-secret', 's', '--database-url', 'mysql://x'])).toMatch(/--database-url must be a postgres:\/\/ URL/);
    expect(usageError(['realtime', '--jwt-secret', 's', '--sql', 'x.sql'])).toMatch(/unknown option --sql/);
  });

  it('answers --help anywhere', () => {
    expect(parseArgs(['--help'])).toEqual({ command: 'help' });
    expect(parseArgs(['dev', '-h'])).toEqual({ command: 'help' });
    expect(parseArgs(['help'])).toEqual({ command: 'help' });
  });

  it.each([
    [[], /^missing command/],
    [['serve'], /^unknown command "serve"$/],
    [['dev', '--sqll', 'x'], /^unknown option --sqll$/],
    [['dev', 'schema.sql'], /^unexpected argument "schema.sql"$/],
    [['dev', '--sql'], /^--sql needs a value$/],
    [['dev', '--sql', '--data', 'd'], /^--sql needs a value$/],
    [['dev', '--db-port', 'abc'], /^--db-port must be a port number \(1-65535\), got "abc"$/],
    [['dev', '--api-port', '70000'], /^--api-port must be a port number/],
    [['dev', '--realtime-port', '0'], /^--realtime-port must be a port number/],
    [['dev', '--publication'], /^--publication needs a value$/],
    [['dev', '--sql', 'a', '--sql', 'b'], /^--sql given twice$/],
    [['dev', '--schemas', ','], /^--schemas needs at least one schema name$/],
  ])('rejects %j', (argv, message) => {
    expect(usageError(argv as string[])).toMatch(message);
  });
});

describe('rtk-postgrest gen types argument parsing', () => {
  it('parses --url, --schema (comma-separated or repeated), --key and --out; schema defaults to public', () => {
    expect(parseArgs(['gen', 'types', '--url', 'http://x:3000'])).toEqual({ command: 'gen types', url: 'http://x:3000', schemas: ['public'] });
    expect(parseArgs(['gen', 'types', '--url=http://x', '--schema', 'public, api', '--schema=other', '--key', 'k', '--out', 'db.ts'])).toEqual({
      command: 'gen types', url: 'http://x', schemas: ['public', 'api', 'other'], key: 'k', out: 'db.ts',
    });
  });

  it('parses --db in place of --url', () => {
    expect(parseArgs(['gen', 'types', '--db', 'postgres://u:p@h:5432/d', '--schema', 'api', '--out', 'db.ts'])).toEqual({
      command: 'gen types', db: 'postgres://u:p@h:5432/d', schemas: ['api'], out: 'db.ts',
    });
  });

  it.each([
    [['gen'], /^gen needs a subcommand/],
    [['gen', 'models'], /^unknown gen subcommand "models"/],
    [['gen', 'types'], /^gen types needs --url <PostgREST URL> or --db <PostgreSQL URL>$/],
    [['gen', 'types', '--url', 'u', '--db', 'd'], /^gen types takes --url or --db, not both$/],
    [['gen', 'types', '--db', 'd', '--key', 'k'], /^--key is for --url; --db connects as the user in its URL$/],
    [['gen', 'types', '--db', 'd', '--db', 'e'], /^--db given twice/],
    [['gen', 'types', '--url'], /^--url needs a value/],
    [['gen', 'types', '--url', 'u', '--url', 'v'], /^--url given twice/],
    [['gen', 'types', '--url', 'u', '--schema', 'a,,b'], /^--schema needs schema names/],
    [['gen', 'types', '--url', 'u', '--sql', 'x.sql'], /^unknown option --sql/],
    [['gen', 'types', '--url', 'u', '--verbose'], /^unknown option --verbose/],
  ])('rejects %j', (argv, message) => {
    expect(usageError(argv)).toMatch(message);
  });
});

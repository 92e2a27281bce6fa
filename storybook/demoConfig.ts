/**
 * What the demos need to reach a running PostgREST. Storybook gets it from `STORYBOOK_*` variables
 * (set by scripts/storybook.ts); tests pass the test stack's values. Only browser-safe secrets:
 * the anon key and user tokens, never the service key.
 */

/** A user the demos can act as: an `authors` row and a token whose `sub` is its id. */
export interface DemoUser {
  id: string;
  name: string;
  token: string;
}

export interface DemoConfig {
  postgrestUrl: string;
  anonKey: string;
  /** The demo's authors; the feed only shows their posts, so a demo can share a database. */
  users: DemoUser[];
  /** The stack's realtime server (`ws://…/realtime/v1`), for the live sync demo; the other demos don't need it. */
  realtimeUrl?: string;
}

/** The variables scripts/storybook.ts sets; Vite exposes them as `import.meta.env`. */
export const ENV = {
  url: 'STORYBOOK_POSTGREST_URL',
  anonKey: 'STORYBOOK_POSTGREST_ANON_KEY',
  users: 'STORYBOOK_DEMO_USERS',
  realtimeUrl: 'STORYBOOK_REALTIME_URL',
} as const;

/**
 * A built Storybook (`storybook build`) has no env: whoever serves it may set the config on the page
 * as `window[RUNTIME_CONFIG]` (the browser tests inject it into iframe.html for their test stack).
 */
export const RUNTIME_CONFIG = '__RTK_POSTGREST_DEMO__';

/** The config a server put on the page, or undefined. */
export function demoConfigFromPage(page: Record<string, unknown> | undefined): DemoConfig | undefined {
  const config = page?.[RUNTIME_CONFIG];
  return configProblem(config) === undefined ? (config as DemoConfig) : undefined;
}

/** Reads the config from Vite's env; undefined when Storybook was started without the dev stack. */
export function demoConfigFromEnv(env: Record<string, unknown> | undefined): DemoConfig | undefined {
  const url = env?.[ENV.url];
  const anonKey = env?.[ENV.anonKey];
  if (typeof url !== 'string' || url === '' || typeof anonKey !== 'string' || anonKey === '') return undefined;
  const realtimeUrl = env?.[ENV.realtimeUrl];
  return {
    postgrestUrl: url,
    anonKey,
    users: parseUsers(env?.[ENV.users]),
    ...(typeof realtimeUrl === 'string' && realtimeUrl !== '' && { realtimeUrl }),
  };
}

/** Names what is wrong with a config, or returns undefined when it is usable. */
export function configProblem(config: unknown): string | undefined {
  if (config === null || typeof config !== 'object') return 'no PostgREST is configured';
  const { postgrestUrl, anonKey, users } = config as Partial<DemoConfig>;
  if (typeof postgrestUrl !== 'string' || !/^https?:\/\//.test(postgrestUrl)) return `postgrestUrl must be an http(s) URL, got ${JSON.stringify(postgrestUrl)}`;
  if (typeof anonKey !== 'string' || anonKey === '') return 'anonKey is missing';
  if (!Array.isArray(users)) return 'users must be an array of { id, name, token }';
  const bad = users.findIndex((u: Partial<DemoUser>) => !u || typeof u.id !== 'string' || typeof u.name !== 'string' || typeof u.token !== 'string');
  if (bad >= 0) return `users[${bad}] must be { id, name, token } strings`;
  return undefined;
}

/** Like configProblem, for a demo that also needs the realtime server and `count` demo users. */
export function liveConfigProblem(config: unknown, count: number): string | undefined {
  const problem = configProblem(config);
  if (problem) return problem;
  const { realtimeUrl, users } = config as DemoConfig;
  if (typeof realtimeUrl !== 'string' || !/^wss?:\/\//.test(realtimeUrl)) return `realtimeUrl must be a ws(s) URL, got ${JSON.stringify(realtimeUrl)}`;
  if (users.length < count) return `this demo needs ${count} demo users, the config has ${users.length}`;
  return undefined;
}

function parseUsers(raw: unknown): DemoUser[] {
  if (typeof raw !== 'string' || raw === '') return [];
  try {
    const users = JSON.parse(raw) as unknown;
    return Array.isArray(users) ? (users as DemoUser[]) : [];
  } catch {
    return [];
  }
}

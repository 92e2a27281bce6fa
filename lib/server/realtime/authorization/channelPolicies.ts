/**
 * Private channel authorization, Supabase's way: row level security on `realtime.messages` decides
 * what a token may do on a topic. In one transaction that is always rolled back:
 * - as the server's role, one probe row per extension (`broadcast`, `presence`) for the topic;
 * - then as the token's role, with its claims and `realtime.topic` set as Supabase sets them,
 *   read = the probe row is visible to a SELECT, write = an INSERT of such a row passes its policies.
 * Rolled-back rows never reach logical replication. Results are cached per (topic, claims) for a
 * short time, and concurrent checks of one key share one query, so a burst of joins is one check.
 */
import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { roleIsUsable } from './catalog.js';
import { claimSettings, claimSettingNames } from './checkSql.js';
import { canonicalJson } from './groupKey.js';
import type { ChannelPolicies } from '../channels/rooms.js';
import type { JwtClaims } from '../../stack/jwt.js';

/** Why a private join can't be decided at all (as opposed to refused by the policies). */
export class ChannelAuthorizationError extends Error {
  constructor(
    readonly code: 'PrivateChannelsUnavailable' | 'UnableToAuthorize' | 'Unauthorized',
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'ChannelAuthorizationError';
  }
}

/** Supabase's refusal of a private join whose token may neither receive broadcasts nor see presence. */
export const readRefusedMessage = (topic: string) => `Unauthorized: You do not have permissions to read from this Channel topic: ${topic}`;
/** Our wording of Supabase's silent drop of a broadcast the token may not send. */
export const writeRefusedMessage = (topic: string) => `Unauthorized: You do not have permissions to write to this Channel topic: ${topic}`;
/** A presence track the token may not make. */
export const trackRefusedMessage = (topic: string) => `Unauthorized: You do not have permissions to track presence on this Channel topic: ${topic}`;

export const NO_MESSAGES_TABLE_MESSAGE =
  'the database has no realtime.messages table, whose row level security authorizes private channels; create the realtime schema (startStack does, see docs/realtime-protocol-extensions.md)';
const ROLE_REFUSED = 'the token\'s role can\'t be used: PostgREST\'s authenticator may not switch to it';

export interface ChannelAuthorizerOptions {
  /** Sessions of a role that may insert into realtime.messages past RLS and SET ROLE to tokens' roles. */
  pool: pg.Pool;
  /** PostgREST's login role: a token's role is used only if it may switch to it. */
  authenticator: string;
  /** How long a decision is reused for the same (topic, claims). Default 5000 ms. */
  cacheMs?: number;
  /** A policy taking longer than this is an error (the join is refused). Default 2000 ms. */
  statementTimeoutMs?: number;
}

export interface ChannelAuthorizer {
  /** What `claims` may do on `topic` (the name after `realtime:`); throws ChannelAuthorizationError when it can't be decided. */
  check(topic: string, claims: JwtClaims): Promise<ChannelPolicies>;
  /** Forgets every cached decision (policies or grants changed). */
  invalidate(): void;
}

const EXTENSIONS = ['broadcast', 'presence'] as const;
/** Cached decisions kept at most; the oldest go first. */
const MAX_CACHED = 10_000;

const PRELUDE =
  `select pg_catalog.set_config('role', $1, true),` +
  ` pg_catalog.set_config('request.jwt.claims', $2, true),` +
  ` pg_catalog.set_config('realtime.topic', $3, true),` +
  ` pg_catalog.set_config('statement_timeout', $4, true),` +
  ` ${claimSettings('$2', '$5')}`;

/** Creates an authorizer over `pool`. */
export function createChannelAuthorizer(options: ChannelAuthorizerOptions): ChannelAuthorizer {
  const cacheMs = options.cacheMs ?? 5000;
  const timeout = String(options.statementTimeoutMs ?? 2000);
  const cache = new Map<string, { policies: ChannelPolicies; expires: number }>();
  const inFlight = new Map<string, Promise<ChannelPolicies>>();
  /** Bumped by invalidate(): a check that started before it is not cached. */
  let generation = 0;

  async function decide(topic: string, claims: JwtClaims, claimsJson: string): Promise<ChannelPolicies> {
    let client: pg.PoolClient;
    try {
      client = await options.pool.connect();
    } catch (error) {
      throw new ChannelAuthorizationError('UnableToAuthorize', `no database session to check the policies on realtime.messages: ${(error as Error).message}`);
    }
    let broken = false;
    try {
      await client.query('begin');
      const table = await client.query<{ exists: boolean }>(`select pg_catalog.to_regclass('realtime.messages') is not null as exists`);
      if (!table.rows[0]?.exists) throw new ChannelAuthorizationError('PrivateChannelsUnavailable', NO_MESSAGES_TABLE_MESSAGE);
      const role = String(claims.role);
      if (!(await roleIsUsable(client, role, options.authenticator))) throw new ChannelAuthorizationError('Unauthorized', ROLE_REFUSED);
      const ids = EXTENSIONS.map(() => randomUUID());
      await client.query(
        `insert into realtime.messages (id, topic, extension, private) values ($1, $3, 'broadcast', true), ($2, $3, 'presence', true)`,
        [ids[0], ids[1], topic],
      );
      const names = claimSettingNames([{ role, claimsJson, claims }]);
      await client.query(PRELUDE, [role, claimsJson, topic, timeout, names]);
      const visible = new Set<string>();
      await allowed(client, async () => {
        const read = await client.query<{ id: string }>('select id::pg_catalog.text as id from realtime.messages where id = any($1::pg_catalog.uuid[])', [ids]);
        for (const row of read.rows) visible.add(row.id);
      });
      const write: Record<string, boolean> = {};
      for (const extension of EXTENSIONS) {
        write[extension] = await allowed(client, () => client.query(`insert into realtime.messages (topic, extension, private) values ($1, $2, true)`, [topic, extension]));
      }
      return {
        broadcast: { read: visible.has(ids[0]!), write: write.broadcast! },
        presence: { read: visible.has(ids[1]!), write: write.presence! },
      };
    } catch (error) {
      if (error instanceof ChannelAuthorizationError) throw error;
      const code = (error as { code?: string }).code;
      // A connection error leaves the session unusable; anything else is the policies' own failure.
      broken = code === undefined;
      throw new ChannelAuthorizationError('UnableToAuthorize', `checking the policies on realtime.messages failed: ${(error as Error).message}`);
    } finally {
      if (!broken) await client.query('rollback').catch(() => (broken = true));
      client.release(broken || undefined);
    }
  }

  return {
    check(topic, claims) {
      const claimsJson = JSON.stringify(claims);
      // A digest: what a cached decision holds stays small whatever the topic and claims weigh.
      const key = createHash('sha256').update(topic).update('\u0000').update(canonicalJson(claims)).digest('base64');
      const now = Date.now();
      const cached = cache.get(key);
      if (cached && cached.expires > now) return Promise.resolve(cached.policies);
      const running = inFlight.get(key);
      if (running) return running;
      const started = generation;
      const decision = decide(topic, claims, claimsJson).then(
        (policies) => {
          if (inFlight.get(key) === decision) inFlight.delete(key);
          if (started === generation) {
            cache.delete(key);
            cache.set(key, { policies, expires: Date.now() + cacheMs });
            if (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value!);
          }
          return policies;
        },
        (error: unknown) => {
          if (inFlight.get(key) === decision) inFlight.delete(key);
          throw error;
        },
      );
      inFlight.set(key, decision);
      return decision;
    },
    invalidate() {
      generation++;
      cache.clear();
      inFlight.clear();
    },
  };
}

/**
 * Runs `statement` in a savepoint: true when it succeeds, false when the role lacks the privilege or
 * a row level security policy refuses it (SQLSTATE 42501); other errors throw.
 */
async function allowed(client: pg.PoolClient, statement: () => Promise<unknown>): Promise<boolean> {
  await client.query('savepoint rtk_probe');
  try {
    await statement();
    await client.query('release savepoint rtk_probe');
    return true;
  } catch (error) {
    if ((error as { code?: string }).code !== '42501') throw error;
    await client.query('rollback to savepoint rtk_probe');
    return false;
  }
}

/**
 * Server-side prepared statements on pooled sessions: which statements each pg.Client has
 * PREPAREd, under names this module makes (`rtk_rls_<n>`, never from input).
 *
 * A statement is known by its definition (`(types) as body`): the same text on the same session
 * reuses it, PostgreSQL's plan cache re-plans it after DDL on what it reads, and a table dropped and
 * created again with other key types has another text, so another statement. Each PREPARE (and
 * DEALLOCATE) travels alone, so what the session holds is always exactly what is recorded here.
 */
import type { Queryable } from './queryable.js';

/** The part of a pg.PoolClient the checker uses. */
export interface PooledClient {
  query(text: string | { name: string; text: string; values?: unknown[] }, values?: unknown[]): Promise<unknown>;
  /** pg-pool: a truthy argument destroys the session instead of returning it to the pool. */
  release(destroy?: Error | boolean): void;
}

/** A pg.Pool: queries on a session of its own, or a session checked out for several. */
export interface ConnectablePool extends Queryable {
  connect(): Promise<PooledClient>;
}

export function canConnect(db: Queryable): db is ConnectablePool {
  return typeof (db as Partial<ConnectablePool>).connect === 'function';
}

/** Statements one session keeps at most; the least recently used beyond this are deallocated. */
export const MAX_PREPARED_PER_SESSION = 64;

let counter = 0;
const sessions = new WeakMap<object, Map<string, string>>();

/**
 * Runs `task` on a session of `pool`, returned afterwards. An error PostgreSQL reported (it has a
 * SQLSTATE) leaves the session usable; any other (a broken connection, a failed bookkeeping step)
 * destroys it, and with it what it had prepared.
 */
export async function withSession<T>(pool: ConnectablePool, task: (client: PooledClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let destroy: Error | undefined;
  try {
    return await task(client);
  } catch (error) {
    if (!isServerError(error)) destroy = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    if (destroy) sessions.delete(client);
    client.release(destroy);
  }
}

/** The names of `definitions` on `client`'s session, preparing those it lacks first. */
export async function prepared(client: PooledClient, definitions: readonly string[]): Promise<string[]> {
  let known = sessions.get(client);
  if (!known) sessions.set(client, (known = new Map()));
  const names: string[] = [];
  for (const definition of definitions) {
    let name = known.get(definition);
    if (name !== undefined) {
      known.delete(definition); // most recently used last
      known.set(definition, name);
    } else {
      for (const [old, oldName] of known) {
        if (known.size < MAX_PREPARED_PER_SESSION) break;
        if (definitions.includes(old)) continue;
        await bookkeeping(client, `deallocate ${oldName}`);
        known.delete(old);
      }
      name = `rtk_rls_${(++counter).toString(36)}`;
      // Fails when the statement can't be analyzed (the table was dropped meanwhile): nothing is
      // prepared then, and the caller's check fails as it would have unprepared.
      await client.query(`prepare ${name}${definition}`);
      known.set(definition, name);
    }
    names.push(name);
  }
  return names;
}

/** A step whose failure would leave the record unsure of the session: the session is dropped then. */
async function bookkeeping(client: PooledClient, text: string): Promise<void> {
  try {
    await client.query(text);
  } catch (error) {
    throw new Error(`prepared statement bookkeeping failed: ${(error as Error)?.message}`);
  }
}

function isServerError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && typeof (error as { severity?: unknown }).severity === 'string';
}

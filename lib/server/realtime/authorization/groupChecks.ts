/**
 * Runs the visibility checks of one batch: the groups RLS filters, spread over at most
 * `maxMessages` messages so the batch costs a few round trips yet still uses several connections.
 * A failing message fails only its groups, and each is then retried alone to find the culprit;
 * culprits stay alone for a while, so one broken policy doesn't make its neighbours pay twice.
 */
import type { Queryable } from './catalog.js';
import { CLAIMS_STATEMENT, preparedCheckSql, STATEMENTS_PER_GROUP, visibilityCheckSql, type GroupCheck, type RowCheck } from './checkSql.js';
import type { Limiter } from './limiter.js';
import { prepared, withSession, type ConnectablePool } from './prepared.js';

export interface CheckedGroup extends GroupCheck {
  groupKey: string;
  /** The rows and policies this group is checked against (shared by groups under the same policies). */
  check: RowCheck;
}

export interface GroupChecksInput {
  db: Queryable;
  /** When set (a pg.Pool), checks run as statements prepared once per pooled session (prepared.ts). */
  sessions?: ConnectablePool;
  limiter: Limiter;
  groups: readonly CheckedGroup[];
  statementTimeoutMs: number;
  /** The search_path checks run under: the one the policies were deparsed under (policies.ts). */
  searchPath: string;
  maxMessages: number;
  /** groupKey → until when (ms) that group is checked alone. Shared by the checker's batches. */
  isolated: Map<string, number>;
  isolateForMs: number;
}

/** Visible row positions per group, or the error that left the group's rows undecided. */
export type GroupCheckResults = Map<string, number[] | Error>;

/** Groups remembered as failing; past this the memory starts over. */
const MAX_ISOLATED = 1000;

export async function runGroupChecks(input: GroupChecksInput): Promise<GroupCheckResults> {
  const { db, limiter, groups, statementTimeoutMs, isolated } = input;
  const results: GroupCheckResults = new Map();
  const sessions = input.sessions;
  const now = Date.now();

  const query = (chunk: readonly CheckedGroup[]): Promise<unknown> => {
    if (!sessions) {
      const text = visibilityCheckSql(chunk, statementTimeoutMs, input.searchPath);
      return limiter.run(() => db.query(text));
    }
    const checks = [...new Set(chunk.map((group) => group.check.definition))];
    return limiter.run(() =>
      withSession(sessions, async (client) => {
        const [claimsName, ...checkNames] = await prepared(client, [CLAIMS_STATEMENT, ...checks]);
        const names = new Map(checks.map((definition, index) => [definition, checkNames[index]!]));
        return client.query(preparedCheckSql(claimsName!, names, chunk, statementTimeoutMs, input.searchPath));
      }),
    );
  };

  const run = async (chunk: readonly CheckedGroup[]): Promise<void> => {
    try {
      const answer = await query(chunk);
      if (!Array.isArray(answer) || answer.length !== chunk.length * STATEMENTS_PER_GROUP) throw new Error('the database answered a different number of statements than were sent');
      chunk.forEach((group, index) => {
        const rows = (answer[index * STATEMENTS_PER_GROUP + 1] as { rows?: Array<{ i: unknown }> }).rows ?? [];
        results.set(group.groupKey, rows.map((row) => Number(row.i)));
      });
    } catch (error) {
      if (chunk.length === 1) {
        const group = chunk[0]!;
        results.set(group.groupKey, error instanceof Error ? error : new Error(String(error)));
        if (isolated.size >= MAX_ISOLATED) isolated.clear();
        isolated.set(group.groupKey, Date.now() + input.isolateForMs);
        return;
      }
      await Promise.all(chunk.map((group) => run([group])));
    }
  };

  const alone: CheckedGroup[] = [];
  const shared: CheckedGroup[] = [];
  for (const group of groups) {
    const until = isolated.get(group.groupKey);
    if (until !== undefined && until <= now) isolated.delete(group.groupKey);
    (until !== undefined && until > now ? alone : shared).push(group);
  }
  await Promise.all([...alone.map((group) => run([group])), ...split(shared, input.maxMessages).map(run)]);
  return results;
}

/** `items` in at most `parts` chunks of near-equal size, order kept. */
function split<T>(items: readonly T[], parts: number): T[][] {
  const count = Math.min(Math.max(1, parts), items.length);
  const chunks: T[][] = [];
  for (let index = 0; index < count; index++) {
    chunks.push(items.slice(Math.floor((index * items.length) / count), Math.floor(((index + 1) * items.length) / count)));
  }
  return chunks;
}

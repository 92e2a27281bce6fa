/**
 * Which changed rows each subscriber group may SELECT, under the table's grants and RLS policies.
 *
 * Supabase runs one query per subscriber per change (protocol notes §5). Here a batch of changed
 * rows costs at most one round trip per group whose reads RLS actually filters (checkSql.ts), and
 * nothing at all when it doesn't: whether RLS applies to a role, and what the role may read, come
 * from a short-lived catalog cache, so streaming a table without RLS queries only to refill it.
 *
 * As in Supabase, a row is checked as it is in the table at check time, not as the change left it:
 * a row deleted or changed again since is judged by its newest state (or is invisible when gone).
 * DELETE events can't be checked that way at all; the server delivers them without a check and,
 * when `isRlsEnabled`, restricts `old_record` to the key (§2.8).
 *
 * Checks on a pg.Pool run as statements each pooled session prepared once (prepared.ts): per group,
 * PostgreSQL then neither parses nor plans, which was most of a small batch's cost.
 */
import { canonicalJson } from './groupKey.js';
import { invalidRoleName, loadAccess, loadFacts, loadTable, type Queryable, type RoleAccess, type TableColumn, type TableInfo } from './catalog.js';
import { runGroupChecks, type CheckedGroup } from './groupChecks.js';
import { AuthorizationError, type AuthorizationErrorCode } from './errors.js';
import { createLimiter } from './limiter.js';
import { createTtlCache } from './ttlCache.js';
import { canConnect, withSession } from './prepared.js';

export interface TableRef {
  schema: string;
  name: string;
}

export interface KeyedTable extends TableRef {
  /** The columns identifying a row (the primary key, as pgoutput's relation flags it). */
  primaryKey: readonly string[];
}

/** Subscribers that share role and claims; `groupKey` from subscriberGroupKey. */
export interface SubscriberGroup {
  groupKey: string;
  role: string;
  claims: Readonly<Record<string, unknown>>;
}

/** A changed row's key columns as PostgreSQL text (what pgoutput sends). */
export type KeyRow = Readonly<Record<string, string | null | undefined>>;

export interface VisibilityCheckerOptions {
  /**
   * A pg.Pool (or anything with its `query`) whose user may SET ROLE to subscribers' roles. Given a
   * pool with `connect` (a pg.Pool), each pooled session PREPAREs the checks once and runs them by
   * name (prepared.ts), and with `cacheTtlMs: 0` a batch's catalog facts are one named statement.
   */
  pool: Queryable;
  /** How long catalog facts (RLS on/off, privileges, column types) are trusted. Default 5000 ms. */
  cacheTtlMs?: number;
  /**
   * Queries in flight at once, and the most messages one batch's checks are spread over (the
   * groups share them; a group whose check failed is checked alone for `cacheTtlMs`). Default 4.
   */
  maxConcurrentQueries?: number;
  /** Cancels a check whose policies run longer. Default 5000 ms; 0 disables. */
  statementTimeoutMs?: number;
  /** Told once per (problem, table, role) why a group sees nothing. Default: console.warn. */
  onError?: (error: AuthorizationError) => void;
}

export interface VisibilityChecker {
  /**
   * For every group, the indexes of `rows` it may SELECT. Never rejects for a group's problem: that
   * group sees nothing. The sets are read-only: groups that see every row (or none) share one.
   */
  checkVisible(table: KeyedTable, groups: readonly SubscriberGroup[], rows: readonly KeyRow[]): Promise<Map<string, ReadonlySet<number>>>;
  /** Columns `role` may SELECT, in table order; empty for roles that can't read the table. Rejects TABLE_NOT_FOUND. */
  visibleColumns(table: TableRef, role: string): Promise<readonly string[]>;
  /** Whether the table has RLS enabled (then DELETE old_record keeps only the key). Rejects TABLE_NOT_FOUND. */
  isRlsEnabled(table: TableRef): Promise<boolean>;
  /**
   * One batch's worth of facts with one read of the catalog: `checkVisible`'s sets, the columns each
   * of `roles` may SELECT (empty when it can't read the table), and whether RLS is enabled. Rejects
   * TABLE_NOT_FOUND or a failed catalog read; group problems only blank that group, as in checkVisible.
   */
  checkBatch(table: KeyedTable, groups: readonly SubscriberGroup[], rows: readonly KeyRow[], roles: readonly string[]): Promise<BatchFacts>;
  /** Forgets cached catalog facts (of one table, or all) and which problems were already reported. */
  invalidate(table?: TableRef): void;
}

export interface BatchFacts {
  visible: Map<string, ReadonlySet<number>>;
  columns: Map<string, readonly string[]>;
  rlsEnabled: boolean;
}

/** Distinct problems remembered for "report once"; past this the memory starts over. */
const MAX_REPORTED = 1000;

/** Makes a checker over `pool`; see VisibilityChecker. */
export function createVisibilityChecker(options: VisibilityCheckerOptions): VisibilityChecker {
  const { pool } = options;
  if (!pool || typeof pool.query !== 'function') {
    throw new AuthorizationError('INVALID_ARGUMENT', 'createVisibilityChecker: pool must be a pg.Pool (an object with query)');
  }
  const ttl = nonNegative(options.cacheTtlMs, 5000, 'cacheTtlMs');
  const timeout = nonNegative(options.statementTimeoutMs, 5000, 'statementTimeoutMs');
  const concurrency = nonNegative(options.maxConcurrentQueries, 4, 'maxConcurrentQueries');
  if (concurrency < 1) throw new AuthorizationError('INVALID_ARGUMENT', 'createVisibilityChecker: maxConcurrentQueries must be at least 1');
  const onError = options.onError ?? ((error: AuthorizationError) => console.warn(`[realtime authorization] ${error.code}: ${error.message}`));

  const limiter = createLimiter(concurrency);
  // A pg.Pool: checks run as statements each pooled session prepares once (prepared.ts).
  const sessions = canConnect(pool) ? pool : undefined;
  const tables = createTtlCache<TableInfo | null>(ttl);
  const access = createTtlCache<RoleAccess>(ttl);
  const claimsText = new WeakMap<object, string>();
  const reported = new Set<string>();
  const isolated = new Map<string, number>();

  const report = (code: AuthorizationErrorCode, message: string, table: TableRef, role?: string, cause?: unknown) => {
    const causeText = code === 'CHECK_FAILED' || code === 'CATALOG_FAILED' ? String((cause as Error | undefined)?.message) : '';
    const key = JSON.stringify([code, table.schema, table.name, role ?? null, causeText]);
    if (reported.has(key)) return;
    if (reported.size >= MAX_REPORTED) reported.clear();
    reported.add(key);
    try {
      onError(new AuthorizationError(code, message, { schema: table.schema, table: table.name, ...(role === undefined ? {} : { role }), ...(cause === undefined ? {} : { cause }) }));
    } catch {
      // A throwing logger must not turn one group's problem into everyone's.
    }
  };

  const tableInfo = async (table: TableRef): Promise<TableInfo | null> => {
    const key = tableKey(table);
    const found = await tables.getMany([key], async () => new Map([[key, await limiter.run(() => loadTable(pool, table.schema, table.name))]]));
    return found.get(key) ?? null;
  };

  const requireTable = async (table: TableRef): Promise<TableInfo> => {
    validateTableRef(table);
    const info = await tableInfo(table);
    if (!info) throw new AuthorizationError('TABLE_NOT_FOUND', `no table ${label(table)}`, { schema: table.schema, table: table.name });
    return info;
  };

  const accessOf = async (info: TableInfo, roles: readonly string[]): Promise<Map<string, RoleAccess>> => {
    // Keyed by oid too: a table dropped and created again under the same name has new grants.
    const prefix = `${tableKey(info)}\0${info.oid}\0`;
    const byKey = await access.getMany(
      roles.map((role) => prefix + role),
      async (missing) => {
        const loaded = await limiter.run(() => loadAccess(pool, info, missing.map((key) => key.slice(prefix.length))));
        return new Map([...loaded].map(([role, value]) => [prefix + role, value]));
      },
    );
    return new Map([...byKey].map(([key, value]) => [key.slice(prefix.length), value]));
  };

  const claimsJson = (claims: Readonly<Record<string, unknown>>): string => {
    let text = claimsText.get(claims);
    if (text === undefined) claimsText.set(claims, (text = canonicalJson(claims)));
    return text;
  };

  const validateCheck = (table: KeyedTable, groups: readonly SubscriberGroup[], rows: readonly KeyRow[]) => {
    validateTableRef(table);
    if (!Array.isArray(table.primaryKey) || table.primaryKey.some((column) => typeof column !== 'string')) {
      throw new AuthorizationError('INVALID_ARGUMENT', 'checkVisible: table.primaryKey must be an array of column names');
    }
    if (!Array.isArray(groups) || !Array.isArray(rows)) throw new AuthorizationError('INVALID_ARGUMENT', 'checkVisible: groups and rows must be arrays');
  };

  /** Every group starts seeing nothing; those with a valid role name are returned for checking. */
  const startCheck = (table: KeyedTable, groups: readonly SubscriberGroup[]) => {
    const visible = new Map<string, ReadonlySet<number>>();
    const none: ReadonlySet<number> = new Set();
    const pending: SubscriberGroup[] = [];
    for (const group of groups) {
      if (!group || typeof group.groupKey !== 'string' || visible.has(group.groupKey)) continue;
      visible.set(group.groupKey, none);
      const problem = invalidRoleName(group.role);
      if (problem) report('ROLE_INVALID_NAME', `subscribers see nothing on ${label(table)}: ${problem}`, table, String(group.role).slice(0, 80));
      else pending.push(group);
    }
    return { visible, pending };
  };

  const checkVisible: VisibilityChecker['checkVisible'] = async (table, groups, rows) => {
    validateCheck(table, groups, rows);
    const { visible, pending } = startCheck(table, groups);
    if (pending.length === 0 || rows.length === 0) return visible;

    let info: TableInfo | null;
    let accessByRole: Map<string, RoleAccess>;
    try {
      info = await tableInfo(table);
      if (!info) {
        report('TABLE_NOT_FOUND', `subscribers see nothing on ${label(table)}: no such table`, table);
        return visible;
      }
      accessByRole = await accessOf(info, [...new Set(pending.map((group) => group.role))]);
    } catch (error) {
      if (error instanceof AuthorizationError) report(error.code, `subscribers see nothing on ${label(table)}: ${error.message}`, table);
      else report('CATALOG_FAILED', `subscribers see nothing on ${label(table)}: reading the catalog failed: ${(error as Error).message}`, table, undefined, error);
      return visible;
    }
    return checkWith(table, info, accessByRole, pending, rows, visible);
  };

  const checkBatch: VisibilityChecker['checkBatch'] = async (table, groups, rows, roles) => {
    validateCheck(table, groups, rows);
    if (!Array.isArray(roles)) throw new AuthorizationError('INVALID_ARGUMENT', 'checkBatch: roles must be an array of role names');
    const groupRoles = groups.filter((group) => group && typeof group.groupKey === 'string').map((group) => group.role);
    const validRoles = [...new Set([...roles, ...groupRoles])].filter((role) => !invalidRoleName(role));
    let info: TableInfo;
    let accessByRole: Map<string, RoleAccess>;
    if (sessions && ttl === 0) {
      // Nothing is cached: the table and its roles in one statement, prepared once per pooled session.
      validateTableRef(table);
      const facts = await limiter.run(() => withSession(sessions, (client) => loadFacts(client, table.schema, table.name, validRoles)));
      if (!facts) throw new AuthorizationError('TABLE_NOT_FOUND', `no table ${label(table)}`, { schema: table.schema, table: table.name });
      ({ table: info, access: accessByRole } = facts);
    } else {
      info = await requireTable(table);
      accessByRole = validRoles.length > 0 ? await accessOf(info, validRoles) : new Map<string, RoleAccess>();
    }
    const { visible, pending } = startCheck(table, groups);
    const columns = new Map<string, readonly string[]>();
    for (const role of roles) {
      const roleAccess = invalidRoleName(role) ? undefined : accessByRole.get(role);
      columns.set(role, roleAccess && roleAccess.exists && roleAccess.canBecome && roleAccess.schemaUsage ? roleAccess.columns : []);
    }
    if (pending.length > 0 && rows.length > 0) await checkWith(table, info, accessByRole, pending, rows, visible);
    return { visible, columns, rlsEnabled: info.rlsEnabled };
  };

  const checkWith = async (
    table: KeyedTable,
    info: TableInfo,
    accessByRole: Map<string, RoleAccess>,
    pending: readonly SubscriberGroup[],
    rows: readonly KeyRow[],
    visible: Map<string, ReadonlySet<number>>,
  ): Promise<Map<string, ReadonlySet<number>>> => {
    const keyColumns = table.primaryKey.map((name) => info.columns.find((column) => column.name === name));
    let allRows: ReadonlySet<number> | undefined;
    const needQuery: CheckedGroup[] = [];
    for (const group of pending) {
      const role = group.role;
      const roleAccess = accessByRole.get(role);
      const denied = whyDenied(roleAccess, keyColumns);
      if (denied) {
        report(denied.code, `subscribers with role ${JSON.stringify(role)} see nothing on ${label(table)}: ${denied.reason}`, table, role);
      } else if (!info.rlsEnabled || roleAccess!.bypassesRls) {
        visible.set(group.groupKey, (allRows ??= new Set(rows.keys())));
      } else {
        try {
          needQuery.push({ groupKey: group.groupKey, role, claims: group.claims, claimsJson: claimsJson(group.claims) });
        } catch (error) {
          report('INVALID_ARGUMENT', `subscribers with role ${JSON.stringify(role)} see nothing on ${label(table)}: ${(error as Error).message}`, table, role);
        }
      }
    }
    if (needQuery.length === 0) return visible;

    if (keyColumns.length === 0 || keyColumns.some((column) => column === undefined)) {
      const reason = keyColumns.length === 0 ? 'it has no primary key to check rows by' : 'a primaryKey column is not a column of the table';
      for (const group of needQuery) report('PRIMARY_KEY_MISMATCH', `subscribers see nothing on ${label(table)}: ${reason}`, table, group.role);
      return visible;
    }
    const { keys, rowIndexes } = keyArrays(table.primaryKey, rows);
    if (rowIndexes.length === 0) return visible;

    const results = await runGroupChecks({
      db: pool, sessions, limiter, table: info, keyColumns: keyColumns as TableColumn[], keys, groups: needQuery,
      statementTimeoutMs: timeout, maxMessages: concurrency, isolated, isolateForMs: ttl,
    });
    for (const group of needQuery) {
      const result = results.get(group.groupKey);
      if (Array.isArray(result)) visible.set(group.groupKey, new Set(result.map((position) => rowIndexes[position]!)));
      else report('CHECK_FAILED', `subscribers with role ${JSON.stringify(group.role)} see nothing of this batch on ${label(table)}: ${result?.message}`, table, group.role, result);
    }
    return visible;
  };

  return {
    checkVisible,
    checkBatch,
    async visibleColumns(table, role) {
      const info = await requireTable(table);
      if (invalidRoleName(role)) return [];
      const roleAccess = (await accessOf(info, [role])).get(role);
      return roleAccess && roleAccess.exists && roleAccess.canBecome && roleAccess.schemaUsage ? roleAccess.columns : [];
    },
    async isRlsEnabled(table) {
      return (await requireTable(table)).rlsEnabled;
    },
    invalidate(table) {
      isolated.clear();
      if (table === undefined) {
        tables.delete();
        access.delete();
        reported.clear();
        return;
      }
      const key = tableKey(table);
      tables.delete((candidate) => candidate === key);
      access.delete((candidate) => candidate.startsWith(`${key}\0`));
      const prefix = JSON.stringify([table.schema, table.name]).slice(1, -1);
      for (const entry of reported) if (entry.includes(prefix)) reported.delete(entry);
    },
  };
}

/** Why a role may not read the table at all, or null when it may read the key columns. */
function whyDenied(access: RoleAccess | undefined, keyColumns: ReadonlyArray<TableColumn | undefined>): { code: AuthorizationErrorCode; reason: string } | null {
  if (!access || !access.exists) return { code: 'ROLE_NOT_FOUND', reason: 'no such role' };
  if (!access.canBecome) return { code: 'ROLE_NOT_ALLOWED', reason: 'the server\'s database user is not a member of that role' };
  if (!access.schemaUsage) return { code: 'NOT_SELECTABLE', reason: 'no USAGE privilege on the schema' };
  if (access.columns.length === 0) return { code: 'NOT_SELECTABLE', reason: 'no SELECT privilege on the table' };
  // Like Supabase (its error 401): a role that can't read the key can't be told which row changed.
  if (keyColumns.some((column) => column !== undefined && !access.columns.includes(column.name))) {
    return { code: 'NOT_SELECTABLE', reason: 'no SELECT privilege on the primary key columns' };
  }
  return null;
}

/** One text array per key column, skipping rows with a missing key value (no row has a NULL key). */
function keyArrays(primaryKey: readonly string[], rows: readonly KeyRow[]): { keys: string[][]; rowIndexes: number[] } {
  const keys: string[][] = primaryKey.map(() => []);
  const rowIndexes: number[] = [];
  rows.forEach((row, index) => {
    const values = primaryKey.map((column) => row?.[column]);
    if (values.some((value) => typeof value !== 'string')) return;
    values.forEach((value, column) => keys[column]!.push(value as string));
    rowIndexes.push(index);
  });
  return { keys, rowIndexes };
}

function validateTableRef(table: TableRef): void {
  if (!table || typeof table.schema !== 'string' || typeof table.name !== 'string' || table.schema === '' || table.name === '') {
    throw new AuthorizationError('INVALID_ARGUMENT', 'table must be { schema, name } with non-empty strings');
  }
}

function tableKey(table: TableRef): string {
  return JSON.stringify([table.schema, table.name]);
}

function label(table: TableRef): string {
  return `${table.schema}.${table.name}`;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new AuthorizationError('INVALID_ARGUMENT', `createVisibilityChecker: ${name} must be a non-negative number`);
  }
  return value;
}

/**
 * Which changed rows each subscriber group may SELECT, under the table's grants and RLS policies,
 * judged as of the change: the table's SELECT policies are applied to the values the change carries
 * (policies.ts, checkSql.ts), never to the row as the table holds it when the check runs. A row
 * inserted by one user and handed to another a moment later is the first user's in its INSERT and
 * the second's in its UPDATE, whoever asks and whenever.
 *
 * Supabase runs one query per subscriber per change (protocol notes §5). Here a batch of changed
 * rows costs at most one round trip per group whose reads RLS actually filters, and nothing at all
 * when it doesn't: whether RLS applies to a role, what the role may read and which policies apply
 * to it come from the catalog (read once per batch by the server, `cacheTtlMs: 0`).
 *
 * A row whose visibility can't be decided (a policy reads a value the change lacks, such as an
 * unchanged TOASTed column; a policy reads the whole row or a system column; the group's check
 * failed) is `undecided`: never delivered, and the caller tells the group to refetch.
 *
 * Checks on a pg.Pool run as statements each pooled session prepared once (prepared.ts): per group,
 * PostgreSQL then neither parses nor plans, which was most of a small batch's cost.
 */
import { escapeIdentifier } from 'pg';
import { canonicalJson } from './groupKey.js';
import { invalidRoleName, loadAccess, loadFacts, loadTable, type Facts, type Queryable, type RoleAccess, type TableInfo } from './catalog.js';
import { DDL_EVENT_TRIGGER, type CatalogVersions } from './catalogEvents.js';
import { rowCheck, type RowCheck } from './checkSql.js';
import { runGroupChecks, type CheckedGroup } from './groupChecks.js';
import { loadPolicySet, type PolicySet, type TablePolicy } from './policies.js';
import { AuthorizationError, type AuthorizationErrorCode } from './errors.js';
import { createLimiter } from './limiter.js';
import { createTtlCache } from './ttlCache.js';
import { canConnect, withSession } from './prepared.js';

export interface TableRef {
  schema: string;
  name: string;
}

export interface KeyedTable extends TableRef {
  /** The columns identifying a row (the primary key, as pgoutput's relation flags it; empty without one). */
  primaryKey: readonly string[];
}

/** Subscribers that share role and claims; `groupKey` from subscriberGroupKey. */
export interface SubscriberGroup {
  groupKey: string;
  role: string;
  claims: Readonly<Record<string, unknown>>;
}

/**
 * A row image of a change as PostgreSQL text (what pgoutput sends): null is NULL, a missing column
 * is a value the change doesn't carry (an unchanged TOASTed value, the non-key columns of an old row
 * under the default replica identity).
 */
export type RowText = Readonly<Record<string, string | null | undefined>>;

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
  /**
   * The role PostgREST logs in as. A token's role is used only if this role may switch to it (is a
   * member of it), as PostgREST's `SET ROLE` requires; others see nothing. Default `authenticator`.
   */
  authenticator?: string;
  /**
   * PostgREST's `db-extra-search-path`: a table's checks run with `search_path` = its schema, then
   * these (as PostgREST sets it for a request on that schema), and its policies are deparsed under
   * the same path. Default `['public']`, PostgREST's default.
   */
  extraSearchPath?: readonly string[];
  /**
   * With a pg.Pool and `cacheTtlMs: 0`: keep each table's facts across batches while their catalog
   * version holds (catalogEvents.ts). The caller must call `invalidate()` for every DDL message of
   * the replication stream, between the batches before and after it.
   */
  catalogVersions?: CatalogVersions;
  /** Told once per (problem, table, role) why a group sees nothing. Default: console.warn. */
  onError?: (error: AuthorizationError) => void;
}

export interface VisibilityChecker {
  /**
   * For every group, the indexes of `rows` it may SELECT, judged on each row's own values. Never
   * rejects for a group's problem: that group sees nothing. The sets are read-only: groups that see
   * every row (or none) share one. Undecided rows count as invisible here (checkBatch tells them).
   */
  checkVisible(table: KeyedTable, groups: readonly SubscriberGroup[], rows: readonly RowText[]): Promise<Map<string, ReadonlySet<number>>>;
  /** Columns `role` may SELECT, in table order; empty for roles that can't read the table. Rejects TABLE_NOT_FOUND. */
  visibleColumns(table: TableRef, role: string): Promise<readonly string[]>;
  /** Whether the table has RLS enabled. Rejects TABLE_NOT_FOUND. */
  isRlsEnabled(table: TableRef): Promise<boolean>;
  /**
   * One batch's worth of facts with one read of the catalog: `checkVisible`'s sets, the rows each
   * group's visibility could not be decided for, the columns each of `roles` may SELECT (empty when
   * it can't read the table), and whether RLS is enabled. Rejects TABLE_NOT_FOUND or a failed
   * catalog read; group problems only blank that group, as in checkVisible.
   */
  checkBatch(table: KeyedTable, groups: readonly SubscriberGroup[], rows: readonly RowText[], roles: readonly string[]): Promise<BatchFacts>;
  /** Forgets cached catalog facts (of one table, or all) and which problems were already reported. */
  invalidate(table?: TableRef): void;
}

export interface BatchFacts {
  visible: Map<string, ReadonlySet<number>>;
  /**
   * Per group, rows neither visible nor invisible as far as the checker can tell: a policy reads a
   * value the row lacks or can't be evaluated on a change, or the group's check failed. Groups with
   * none are absent.
   */
  undecided: Map<string, ReadonlySet<number>>;
  columns: Map<string, readonly string[]>;
  rlsEnabled: boolean;
}

/** A group whose check failed is checked alone this long, so its neighbours in a message don't pay for it. */
const ISOLATE_MS = 5000;

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

  const authenticator = options.authenticator ?? 'authenticator';
  if (typeof authenticator !== 'string' || invalidRoleName(authenticator) !== null) {
    throw new AuthorizationError('INVALID_ARGUMENT', 'createVisibilityChecker: authenticator must be a role name');
  }

  const extraSearchPath = options.extraSearchPath ?? ['public'];
  if (!Array.isArray(extraSearchPath) || extraSearchPath.some((schema) => typeof schema !== 'string' || schema === '')) {
    throw new AuthorizationError('INVALID_ARGUMENT', 'createVisibilityChecker: extraSearchPath must be an array of schema names');
  }
  /** The search_path PostgREST would run a request on `schema` under. */
  const searchPathOf = (schema: string) => [...new Set([schema, ...extraSearchPath])].map((name) => escapeIdentifier(name)).join(', ');

  const limiter = createLimiter(concurrency);
  // A pg.Pool: checks run as statements each pooled session prepares once (prepared.ts).
  const sessions = canConnect(pool) ? pool : undefined;
  const tables = createTtlCache<TableInfo | null>(ttl);
  const access = createTtlCache<RoleAccess>(ttl);
  const claimsText = new WeakMap<object, string>();
  const reported = new Set<string>();
  const isolated = new Map<string, number>();
  /** Deparsed policies per table oid, read again when the fingerprint (policies or columns) changes. */
  const policySets = new Map<string, { fingerprint: string; set: Promise<PolicySet> }>();
  const versions = options.catalogVersions;
  /** Facts kept across batches (catalogVersions), by table key; `generation` moves with every invalidate(). */
  const keptFacts = new Map<string, Facts>();
  let generation = 0;
  let untrackedReported = false;

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
        const loaded = await limiter.run(() => loadAccess(pool, info, missing.map((key) => key.slice(prefix.length)), authenticator));
        return new Map([...loaded].map(([role, value]) => [prefix + role, value]));
      },
    );
    return new Map([...byKey].map(([key, value]) => [key.slice(prefix.length), value]));
  };

  const policySetOf = (info: TableInfo): Promise<PolicySet> => {
    const fingerprint = `${info.policyFingerprint}\0${JSON.stringify(info.columns)}`;
    const cached = policySets.get(info.oid);
    if (cached && cached.fingerprint === fingerprint) return cached.set;
    if (policySets.size >= 10_000) policySets.clear();
    const set = limiter.run(() => loadPolicySet(pool, info.oid, searchPathOf(info.schema), info.name));
    const entry = { fingerprint, set };
    policySets.set(info.oid, entry);
    set.catch(() => {
      if (policySets.get(info.oid) === entry) policySets.delete(info.oid);
    });
    return set;
  };

  const claimsJson = (claims: Readonly<Record<string, unknown>>): string => {
    let text = claimsText.get(claims);
    if (text === undefined) claimsText.set(claims, (text = canonicalJson(claims)));
    return text;
  };

  const validateCheck = (table: KeyedTable, groups: readonly SubscriberGroup[], rows: readonly RowText[]) => {
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
    await checkWith(table, info, accessByRole, pending, rows, visible, new Map());
    return visible;
  };

  const checkBatch: VisibilityChecker['checkBatch'] = async (table, groups, rows, roles) => {
    validateCheck(table, groups, rows);
    if (!Array.isArray(roles)) throw new AuthorizationError('INVALID_ARGUMENT', 'checkBatch: roles must be an array of role names');
    const groupRoles = groups.filter((group) => group && typeof group.groupKey === 'string').map((group) => group.role);
    const validRoles = [...new Set([...roles, ...groupRoles])].filter((role) => !invalidRoleName(role));
    let info: TableInfo;
    let accessByRole: Map<string, RoleAccess>;
    if (sessions && ttl === 0 && versions) {
      validateTableRef(table);
      const key = tableKey(table);
      const kept = keptFacts.get(key);
      if (kept && validRoles.every((role) => kept.access.has(role))) {
        // Checked with the kept facts while their version is read alongside (a snapshot taken after
        // this batch's changes arrived); used only if it still matches.
        const current = versions.versionsOf(table).catch((error: unknown) => {
          report('CATALOG_FAILED', `catalog facts of ${label(table)} are read again: reading their version failed: ${(error as Error).message}`, table, undefined, error);
          return null;
        });
        const checked = await checkBatchWith(table, groups, rows, roles, kept.table, kept.access);
        if ((await current)?.get(key) === kept.catalogVersion) return checked;
        if (keptFacts.get(key) === kept) keptFacts.delete(key);
      }
      // Read now (after this batch's changes): with the roles kept before, so later batches find them.
      const wanted = kept ? [...new Set([...kept.access.keys(), ...validRoles])] : validRoles;
      const readIn = generation;
      const facts = await limiter.run(() => withSession(sessions, (client) => loadFacts(client, table.schema, table.name, wanted, authenticator)));
      if (!facts) throw new AuthorizationError('TABLE_NOT_FOUND', `no table ${label(table)}`, { schema: table.schema, table: table.name });
      if (facts.ddlTracked && readIn === generation) {
        if (keptFacts.size >= 10_000) keptFacts.clear();
        keptFacts.set(key, facts);
        untrackedReported = false;
      } else if (!facts.ddlTracked && !untrackedReported) {
        untrackedReported = true;
        report('CATALOG_UNTRACKED', `catalog facts are read for every batch: the DDL event trigger ${JSON.stringify(DDL_EVENT_TRIGGER)} is missing, disabled or altered (it is installed at start by a superuser)`, table);
      }
      ({ table: info, access: accessByRole } = facts);
    } else if (sessions && ttl === 0) {
      // Nothing is cached: the table and its roles in one statement, prepared once per pooled session.
      validateTableRef(table);
      const facts = await limiter.run(() => withSession(sessions, (client) => loadFacts(client, table.schema, table.name, validRoles, authenticator)));
      if (!facts) throw new AuthorizationError('TABLE_NOT_FOUND', `no table ${label(table)}`, { schema: table.schema, table: table.name });
      ({ table: info, access: accessByRole } = facts);
    } else {
      info = await requireTable(table);
      accessByRole = validRoles.length > 0 ? await accessOf(info, validRoles) : new Map<string, RoleAccess>();
    }
    return checkBatchWith(table, groups, rows, roles, info, accessByRole);
  };

  /** checkBatch's work once the facts are known. */
  const checkBatchWith = async (
    table: KeyedTable,
    groups: readonly SubscriberGroup[],
    rows: readonly RowText[],
    roles: readonly string[],
    info: TableInfo,
    accessByRole: Map<string, RoleAccess>,
  ): Promise<BatchFacts> => {
    const { visible, pending } = startCheck(table, groups);
    const undecided = new Map<string, ReadonlySet<number>>();
    const columns = new Map<string, readonly string[]>();
    for (const role of roles) {
      const roleAccess = invalidRoleName(role) ? undefined : accessByRole.get(role);
      columns.set(role, roleAccess && roleAccess.exists && roleAccess.canBecome && roleAccess.schemaUsage ? roleAccess.columns : []);
    }
    if (pending.length > 0 && rows.length > 0) await checkWith(table, info, accessByRole, pending, rows, visible, undecided);
    return { visible, undecided, columns, rlsEnabled: info.rlsEnabled };
  };

  const checkWith = async (
    table: KeyedTable,
    info: TableInfo,
    accessByRole: Map<string, RoleAccess>,
    pending: readonly SubscriberGroup[],
    rows: readonly RowText[],
    visible: Map<string, ReadonlySet<number>>,
    undecided: Map<string, ReadonlySet<number>>,
  ): Promise<void> => {
    let allRows: ReadonlySet<number> | undefined;
    const filtered: Array<{ group: SubscriberGroup; policies: readonly string[] }> = [];
    for (const group of pending) {
      const role = group.role;
      const roleAccess = accessByRole.get(role);
      const denied = whyDenied(roleAccess);
      if (denied) {
        report(denied.code, `subscribers with role ${JSON.stringify(role)} see nothing on ${label(table)}: ${denied.reason}`, table, role);
      } else if (!info.rlsEnabled || roleAccess!.bypassesRls) {
        visible.set(group.groupKey, (allRows ??= new Set(rows.keys())));
      } else {
        filtered.push({ group, policies: roleAccess!.policies });
      }
    }
    if (filtered.length === 0) return;

    let policySet: PolicySet;
    try {
      policySet = await policySetOf(info);
    } catch (error) {
      for (const { group } of filtered) undecided.set(group.groupKey, (allRows ??= new Set(rows.keys())));
      report('CATALOG_FAILED', `subscribers with RLS see nothing of this batch on ${label(table)}: reading its policies failed: ${(error as Error).message}`, table, undefined, error);
      return;
    }

    // One check per distinct set of applicable policies, shared by every group under it.
    const checks = new Map<string, ReturnType<typeof planCheck>>();
    const needQuery: CheckedGroup[] = [];
    for (const { group, policies } of filtered) {
      const key = policies.join(',');
      let plan = checks.get(key);
      if (plan === undefined) checks.set(key, (plan = planCheck(info, policySet, policies, rows)));
      if (plan === 'none') continue;
      if ('undecided' in plan) {
        undecided.set(group.groupKey, (allRows ??= new Set(rows.keys())));
        report('POLICY_UNEVALUABLE', `subscribers with role ${JSON.stringify(group.role)} can't be sent changes of ${label(table)} as of the change (they are told to refetch): ${plan.undecided}`, table, group.role);
        if (plan.reread) policySets.delete(info.oid);
        continue;
      }
      if (plan.skipped.size > 0) undecided.set(group.groupKey, plan.skipped);
      try {
        needQuery.push({ groupKey: group.groupKey, role: group.role, claims: group.claims, claimsJson: claimsJson(group.claims), check: plan.check });
      } catch (error) {
        report('INVALID_ARGUMENT', `subscribers with role ${JSON.stringify(group.role)} see nothing on ${label(table)}: ${(error as Error).message}`, table, group.role);
      }
    }
    if (needQuery.length === 0) return;

    const results = await runGroupChecks({
      db: pool, sessions, limiter, groups: needQuery, statementTimeoutMs: timeout, searchPath: searchPathOf(info.schema),
      maxMessages: concurrency, isolated, isolateForMs: Math.max(ttl, ISOLATE_MS),
    });
    let stale = false;
    for (const group of needQuery) {
      const result = results.get(group.groupKey);
      if (Array.isArray(result)) {
        visible.set(group.groupKey, new Set(result));
        continue;
      }
      stale ||= mayBeStale(result);
      undecided.set(group.groupKey, (allRows ??= new Set(rows.keys())));
      report('CHECK_FAILED', `subscribers with role ${JSON.stringify(group.role)} get nothing of this batch on ${label(table)} (they are told to refetch): ${result?.message}`, table, group.role, result);
    }
    // The deparsed policies may be what failed (an object they name was renamed since): read them again.
    if (stale) policySets.delete(info.oid);
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
      policySets.clear();
      // Kept facts of every table: a DDL message doesn't say which tables' policies it touched.
      keptFacts.clear();
      generation++;
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

/**
 * Whether a check's failure may come from deparsed policies gone stale: PostgreSQL could not find
 * something they name (SQLSTATE class 42 but a privilege error, or 3F, invalid schema). A policy
 * that raises or times out for one subscriber is not that, and costs no catalog read.
 */
function mayBeStale(error: Error | undefined): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && ((code.startsWith('42') && code !== '42501') || code.startsWith('3F'));
}

/** Why a role may not read the table at all, or null when it may read some column of it. */
function whyDenied(access: RoleAccess | undefined): { code: AuthorizationErrorCode; reason: string } | null {
  if (!access || !access.exists) return { code: 'ROLE_NOT_FOUND', reason: 'no such role' };
  if (!access.canBecome) return { code: 'ROLE_NOT_ALLOWED', reason: 'PostgREST\'s authenticator (and so the server) may not switch to that role' };
  if (!access.schemaUsage) return { code: 'NOT_SELECTABLE', reason: 'no USAGE privilege on the schema' };
  if (access.columns.length === 0) return { code: 'NOT_SELECTABLE', reason: 'no SELECT privilege on the table' };
  return null;
}

/**
 * How groups under `policyOids` are checked: 'none' when no permissive policy applies (RLS then
 * shows no row), 'undecided' when one can't be evaluated on a change, else the check of the rows that
 * carry every column the policies read (the others are `skipped`: undecided).
 */
function planCheck(
  table: TableInfo,
  set: PolicySet,
  policyOids: readonly string[],
  rows: readonly RowText[],
): { check: RowCheck; skipped: ReadonlySet<number> } | 'none' | { undecided: string; reread?: boolean } {
  const policies: TablePolicy[] = [];
  for (const oid of policyOids) {
    const policy = set.policies.get(oid);
    // Created after the policies were read (the catalog moved on meanwhile): read them again.
    if (!policy) return { undecided: 'its policies changed while they were read', reread: true };
    policies.push(policy);
  }
  const permissive = policies.filter((policy) => policy.permissive);
  if (permissive.length === 0) return 'none';
  const unevaluable = policies.find((policy) => policy.unevaluable);
  if (unevaluable) return { undecided: `policy ${JSON.stringify(unevaluable.name)} reads the whole row or a system column` };
  const attnums = [...new Set(policies.flatMap((policy) => policy.attnums))].sort((a, b) => a - b);
  const columns = attnums.map((attnum) => set.columns.get(attnum));
  if (columns.some((column) => column === undefined)) return { undecided: 'its columns changed while they were read', reread: true };
  // RLS: the permissive policies OR'ed, each restrictive one AND'ed to that (rowsecurity.c).
  const restrictive = policies.filter((policy) => !policy.permissive);
  const predicate = [`(${permissive.map((policy) => `(${policy.qual})`).join(' or ')})`, ...restrictive.map((policy) => `(${policy.qual})`)].join(' and ');
  const positions: number[] = [];
  const values: Array<Array<string | null>> = columns.map(() => []);
  const skipped = new Set<number>();
  rows.forEach((row, index) => {
    const row_ = row ?? {};
    if (columns.some((column) => row_[column!.name] === undefined)) {
      skipped.add(index);
      return;
    }
    positions.push(index);
    columns.forEach((column, c) => values[c]!.push(row_[column!.name] as string | null));
  });
  return { check: rowCheck(table, columns as NonNullable<(typeof columns)[number]>[], predicate, positions, values), skipped };
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

/**
 * The SQL of visibility checks: which of a batch of changed rows each subscriber group may SELECT,
 * judged on the rows' own values (the table's policies applied to them, policies.ts), never on what
 * the table holds when the check runs.
 *
 * ## Why two statements per group, in one message
 * The policies must run as the subscriber's role with its claims, as in PostgREST: functions they
 * call and tables their subqueries read are subject to that role's privileges and RLS. Switching role
 * cannot happen inside the statement it applies to (PostgreSQL checks privileges and adds RLS when
 * it plans a statement). So a group's check is two statements, and to keep a whole batch to one
 * round trip they travel in one simple-protocol message: PostgreSQL runs a message as an implicit
 * transaction and plans each statement only after the previous one ran. A group's first statement
 * switches role and claims with `set_config(..., is_local => true)`, its second checks as that role,
 * and a `commit` ends its transaction: whatever the group's check left behind (a policy function's
 * own `set_config(..., true)` included) is gone before the next group's starts, and a failure
 * (rolled back) restores the pooled session untouched.
 *
 * ## Why that is safe
 * Untrusted text (role, claims, row values) enters only as string literals made by pg's
 * escapeLiteral, which doubles quotes and backslashes and uses E'' syntax, so it is correct
 * whatever standard_conforming_strings says; row values are also quoted array elements. Identifiers
 * are quoted with escapeIdentifier; cast types and policy expressions come from the catalog,
 * deparsed schema-qualified (policies.ts), and functions are pg_catalog-qualified, so a schema named
 * after the role (`"$user"` in the search_path) cannot shadow them.
 */
import { escapeIdentifier, escapeLiteral } from 'pg';
import type { TableInfo } from './catalog.js';

/** Claim names PostgreSQL accepts in a setting name `request.jwt.claim.<name>`. */
const CLAIM_SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Ends a group's implicit transaction: what its check set (role, claims, and anything a policy's
 * function set with `set_config(..., true)`) is gone before the next group's check begins.
 */
const GROUP_END = 'commit';

/** Statements each group's part of a message holds (prelude, check, end); the check's result is the second. */
export const STATEMENTS_PER_GROUP = 3;

/** One group's part of a check message. */
export interface GroupCheck {
  role: string;
  /** The claims as JSON, exactly what `request.jwt.claims` will hold. */
  claimsJson: string;
  claims: Readonly<Record<string, unknown>>;
}

/**
 * The per-claim settings older PostgREST made (`request.jwt.claim.sub` ...) and policies written
 * for it still read. Within one message every group sets every name any of them uses (missing
 * ones to ''), so no claim of the group before leaks into the next one's check.
 */
export function claimSettingNames(groups: readonly GroupCheck[]): string[] {
  const names = new Set<string>();
  for (const group of groups) for (const name of Object.keys(group.claims)) if (CLAIM_SETTING_NAME.test(name)) names.add(name);
  return [...names].sort();
}

/** A check of rows under one set of policies: what every group those policies apply to runs. */
export interface RowCheck {
  /** `(parameter types) as body`: what a pooled session PREPAREs (prepared.ts). */
  definition: string;
  /** The same query with its arguments inline (for a checker without pooled sessions). */
  literal: string;
  /** The arguments as EXECUTE takes them. */
  arguments: string;
}

/** What rowCheck needs of a policy column. */
export interface CheckColumn {
  name: string;
  /** A cast target of the column's exact type (format_type, schema-qualified). */
  castSql: string;
  /** The column's collation, schema-qualified and quoted; absent for types without one. */
  collateSql?: string;
}

/**
 * The check of `rows` (by position) under `predicate`, a policy expression over `columns` of
 * `table`: it returns `i`, the positions whose values pass. The values are text (what pgoutput
 * sends), one text array per column, cast to each column's type in a subquery named like the table,
 * so the deparsed policy's column references (plain, or qualified by the table's name inside its
 * subqueries) read the change's values and nothing else. `positions[r]` is row r's position, and
 * `values[c][r]` its text of `columns[c]` (null for NULL).
 *
 * The predicate is applied to each changed row in a LATERAL subquery the planner may not flatten
 * (`offset 0`), with `is true` around it: over the whole batch, the planner would turn a policy's
 * EXISTS into a join or a hashed subplan that reads the other table whole for every group (cost
 * growing with that table); per row, it stays an index probe per changed row, as under RLS's own
 * security quals. Same answer: a row is kept only when its condition is true.
 */
export function rowCheck(
  table: TableInfo,
  columns: readonly CheckColumn[],
  predicate: string,
  positions: readonly number[],
  values: ReadonlyArray<ReadonlyArray<string | null>>,
): RowCheck {
  const taken = new Set(columns.map((column) => column.name));
  let position = '__rtk_position';
  while (taken.has(position)) position += '_';
  const alias = escapeIdentifier(table.name);
  const body = (arg: (index: number, type: string) => string) => {
    const arrays = [`pg_catalog.unnest(${arg(0, 'pg_catalog.int4[]')})`, ...columns.map((_, index) => `pg_catalog.unnest(${arg(index + 1, 'pg_catalog.text[]')})`)];
    const names = ['i', ...columns.map((_, index) => `v${index}`)];
    // The column's collation too: a case-insensitive or linguistic one changes what `=` and `<` say.
    // Set inside the subquery, it reaches the policy as the column's own (implicit), as on the table.
    const typed = columns.map((column, index) => `k.v${index}::${column.castSql}${column.collateSql ? ` collate ${column.collateSql}` : ''} as ${escapeIdentifier(column.name)}`);
    // One row per changed row: the policy runs per row, as RLS runs it per scanned row.
    const row = typed.length > 0 ? `(select ${typed.join(', ')}) as ${alias}` : `(select) as ${alias}`;
    return (
      `select k.i from rows from (${arrays.join(', ')}) as k(${names.join(', ')})` +
      ` cross join lateral (select from ${row} where ((${predicate}) is true) offset 0) as ${escapeIdentifier(position)}`
    );
  };
  const literals = [
    escapeLiteral(`{${positions.join(',')}}`),
    ...columns.map((_, index) => escapeLiteral(textArrayLiteral(values[index] ?? []))),
  ];
  return {
    definition: `(${['pg_catalog.int4[]', ...columns.map(() => 'pg_catalog.text[]')].join(', ')}) as ${body((index) => `$${index + 1}`)}`,
    literal: body((index, type) => `${literals[index]}::${type}`),
    arguments: literals.join(', '),
  };
}

/**
 * A message checking every group in `groups`, each with its own check: two statements per group,
 * the second returning `i`, the positions of the rows the group may see.
 */
export function visibilityCheckSql(groups: ReadonlyArray<GroupCheck & { check: RowCheck }>, statementTimeoutMs: number, searchPath: string): string {
  const names = escapeLiteral(textArrayLiteral(claimSettingNames(groups)));
  const timeout = Math.max(0, Math.floor(statementTimeoutMs));
  const path = escapeLiteral(searchPath);
  return groups
    .map((group) => {
      const claims = escapeLiteral(group.claimsJson);
      const prelude =
        `select pg_catalog.set_config('role', ${escapeLiteral(group.role)}, true),` +
        ` pg_catalog.set_config('request.jwt.claims', ${claims}, true),` +
        ` pg_catalog.set_config('statement_timeout', '${timeout}', true),` +
        ` pg_catalog.set_config('search_path', ${path}, true),` +
        ` (select pg_catalog.count(pg_catalog.set_config('request.jwt.claim.' operator(pg_catalog.||) n.name,` +
        ` coalesce(${claims}::pg_catalog.json operator(pg_catalog.->>) n.name, ''), true))` +
        ` from pg_catalog.unnest(${names}::pg_catalog.text[]) n(name))`;
      return `${prelude};\n${group.check.literal};\n${GROUP_END}`;
    })
    .join(';\n');
}

/** A PostgreSQL array literal with every element quoted (so "NULL" stays a string); null is NULL. */
export function textArrayLiteral(values: ReadonlyArray<string | null>): string {
  return `{${values.map((value) => (value === null ? 'NULL' : `"${value.replace(/["\\]/g, '\\$&')}"`)).join(',')}}`;
}

// ---------------------------------------------------------------------------------------------
// Prepared form (prepared.ts): the same two statements per group, planned once per session.
//
// A pooled session PREPAREs the prelude and each policy set's check once; a batch's message is then
// `EXECUTE <claims>(...); EXECUTE <check>(...)` pairs, so PostgreSQL parses and plans neither per
// group. Still correct under RLS: a cached plan that depends on RLS is rewritten again whenever it
// runs as another role than it was rewritten for (plancache.c, rewriteRoleId), and the policies read
// the claims when they run, not when planned. Arguments are literals made by escapeLiteral, as above;
// statement names are generated (`rtk_rls_<n>`), never taken from input.

/** Parameters and body of the prelude: $1 role, $2 claims JSON, $3 statement_timeout, $4 claim names, $5 search_path. */
export const CLAIMS_STATEMENT =
  `(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text[], pg_catalog.text) as` +
  ` select pg_catalog.set_config('role', $1, true),` +
  ` pg_catalog.set_config('request.jwt.claims', $2, true),` +
  ` pg_catalog.set_config('statement_timeout', $3, true),` +
  ` pg_catalog.set_config('search_path', $5, true),` +
  ` ${claimSettings('$2', '$4')}`;

/**
 * A select-list item setting `request.jwt.claim.<name>` (transaction-local) for each name of the
 * text[] parameter `names` from the claims JSON parameter `claims` (missing ones to '').
 */
export function claimSettings(claims: string, names: string): string {
  return (
    `(select pg_catalog.count(pg_catalog.set_config('request.jwt.claim.' operator(pg_catalog.||) n.name,` +
    ` coalesce(${claims}::pg_catalog.json operator(pg_catalog.->>) n.name, ''), true))` +
    ` from pg_catalog.unnest(${names}::pg_catalog.text[]) n(name))`
  );
}

/**
 * The message running prepared `claimsName` and each group's prepared check (`checkNames` by its
 * definition) for every group, two statements each.
 */
export function preparedCheckSql(
  claimsName: string,
  checkNames: ReadonlyMap<string, string>,
  groups: ReadonlyArray<GroupCheck & { check: RowCheck }>,
  statementTimeoutMs: number,
  searchPath: string,
): string {
  const names = escapeLiteral(textArrayLiteral(claimSettingNames(groups)));
  const timeout = `'${Math.max(0, Math.floor(statementTimeoutMs))}'`;
  const path = escapeLiteral(searchPath);
  return groups
    .map(
      (group) =>
        `execute ${claimsName}(${escapeLiteral(group.role)}, ${escapeLiteral(group.claimsJson)}, ${timeout}, ${names}, ${path});\n` +
        `execute ${checkNames.get(group.check.definition)!}(${group.check.arguments});\n${GROUP_END}`,
    )
    .join(';\n');
}

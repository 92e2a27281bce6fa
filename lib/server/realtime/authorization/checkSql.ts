/**
 * The SQL of visibility checks: which of a batch of rows each subscriber group may SELECT.
 *
 * ## Why literals, and why that is safe
 * Switching role cannot happen inside the statement that reads the table: PostgreSQL checks
 * privileges and adds RLS policies when it plans a statement, as the role current *then*. So a
 * group's check is two statements, and to keep a whole batch to one round trip they travel in one
 * simple-protocol message, which allows no bind parameters. PostgreSQL runs such a message as one
 * implicit transaction and plans each statement only after the previous one ran: a group's first
 * statement switches role and claims with `set_config(..., is_local => true)`, its second reads as
 * that role, the next group's first switches again, and the transaction's end (commit, or rollback
 * on any error) restores the pooled session untouched.
 * Untrusted text (role, claims, key values) enters only as string literals made by pg's
 * escapeLiteral, which doubles quotes and backslashes and uses E'' syntax, so it is correct
 * whatever standard_conforming_strings says; key values are also quoted array elements.
 * Identifiers are quoted with escapeIdentifier; cast types come from the catalog, schema-qualified,
 * and functions are pg_catalog-qualified, so a schema named after the role (`"$user"` in the
 * search_path) cannot shadow them.
 */
import { escapeIdentifier, escapeLiteral } from 'pg';
import type { TableColumn, TableInfo } from './catalog.js';

/** Claim names PostgreSQL accepts in a setting name `request.jwt.claim.<name>`. */
const CLAIM_SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

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

/**
 * The FROM item holding the batch's keys, already of each key column's type (`k0`, `k1` ...,
 * `ord` 1-based). `keys[c][r]` is the text of key column `keyColumns[c]` for row `r`.
 * Typed constants keep `t.id = k.k0` a plain, leakproof equality that RLS lets the planner use as
 * an index condition; a cast inside the condition is not leakproof, so the policies would run
 * first, on every row of the table.
 */
export function keyRowsSql(keyColumns: readonly TableColumn[], keys: ReadonlyArray<readonly string[]>): string {
  // ROWS FROM, not unnest(a, b): the multi-array unnest is syntax PostgreSQL only knows unqualified.
  const arrays = keyColumns.map(
    (column, index) => `pg_catalog.unnest(${escapeLiteral(textArrayLiteral(keys[index] ?? []))}::${column.typeSql}[])`,
  );
  return `rows from (${arrays.join(', ')}) with ordinality as k(${keyColumns.map((_, index) => `k${index}`).join(', ')}, ord)`;
}

/**
 * A message checking every group in `groups` against the same keys: two statements per group, the
 * second returning `i`, the 0-based positions of the visible keys.
 */
export function visibilityCheckSql(
  table: TableInfo,
  keyColumns: readonly TableColumn[],
  keyRows: string,
  groups: readonly GroupCheck[],
  statementTimeoutMs: number,
): string {
  const names = escapeLiteral(textArrayLiteral(claimSettingNames(groups)));
  const timeout = Math.max(0, Math.floor(statementTimeoutMs));
  const matches = keyColumns.map((column, index) => `t.${escapeIdentifier(column.name)} = k.k${index}`).join(' and ');
  // A scalar subquery, not EXISTS: EXISTS becomes a join the planner may run as a scan of the whole
  // table, evaluating the policies on every row; this stays one index probe per key, so the cost
  // grows with the batch, never with the table.
  const check =
    `select (k.ord operator(pg_catalog.-) 1)::pg_catalog.int4 as i from ${keyRows}` +
    ` where (select true from ${escapeIdentifier(table.schema)}.${escapeIdentifier(table.name)} t where ${matches} limit 1)`;

  return groups
    .map((group) => {
      const claims = escapeLiteral(group.claimsJson);
      const prelude =
        `select pg_catalog.set_config('role', ${escapeLiteral(group.role)}, true),` +
        ` pg_catalog.set_config('request.jwt.claims', ${claims}, true),` +
        ` pg_catalog.set_config('statement_timeout', '${timeout}', true),` +
        ` (select pg_catalog.count(pg_catalog.set_config('request.jwt.claim.' operator(pg_catalog.||) n.name,` +
        ` coalesce(${claims}::pg_catalog.json operator(pg_catalog.->>) n.name, ''), true))` +
        ` from pg_catalog.unnest(${names}::pg_catalog.text[]) n(name))`;
      return `${prelude};\n${check}`;
    })
    .join(';\n');
}

/** A PostgreSQL array literal with every element quoted (so "NULL" stays a string). */
export function textArrayLiteral(values: readonly string[]): string {
  return `{${values.map((value) => `"${value.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

// ---------------------------------------------------------------------------------------------
// Prepared form (prepared.ts): the same two statements per group, planned once per session.
//
// A pooled session PREPAREs the prelude and each table's check once; a batch's message is then
// `EXECUTE <claims>(...); EXECUTE <check>(...)` pairs, so PostgreSQL parses and plans neither per
// group. Still correct under RLS: a cached plan that depends on RLS is rewritten again whenever it
// runs as another role than it was rewritten for (plancache.c, rewriteRoleId), and the policies read
// the claims when they run, not when planned. Arguments are literals made by escapeLiteral, as above;
// statement names are generated (`rtk_rls_<n>`), never taken from input.

/** Parameters and body of the prelude: $1 role, $2 claims JSON, $3 statement_timeout, $4 claim names. */
export const CLAIMS_STATEMENT =
  `(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text[]) as` +
  ` select pg_catalog.set_config('role', $1, true),` +
  ` pg_catalog.set_config('request.jwt.claims', $2, true),` +
  ` pg_catalog.set_config('statement_timeout', $3, true),` +
  ` (select pg_catalog.count(pg_catalog.set_config('request.jwt.claim.' operator(pg_catalog.||) n.name,` +
  ` coalesce($2::pg_catalog.json operator(pg_catalog.->>) n.name, ''), true))` +
  ` from pg_catalog.unnest($4) n(name))`;

/**
 * Parameters and body of `table`'s check: one array parameter per key column, of its type, and the
 * same query as visibilityCheckSql's. The text names the table and the key's types, so a table
 * created again with other key types gets a statement of its own.
 */
export function checkStatement(table: TableInfo, keyColumns: readonly TableColumn[]): string {
  const types = keyColumns.map((column) => `${column.typeSql}[]`).join(', ');
  const arrays = keyColumns.map((_, index) => `pg_catalog.unnest($${index + 1})`).join(', ');
  const matches = keyColumns.map((column, index) => `t.${escapeIdentifier(column.name)} = k.k${index}`).join(' and ');
  return (
    `(${types}) as select (k.ord operator(pg_catalog.-) 1)::pg_catalog.int4 as i` +
    ` from rows from (${arrays}) with ordinality as k(${keyColumns.map((_, index) => `k${index}`).join(', ')}, ord)` +
    ` where (select true from ${escapeIdentifier(table.schema)}.${escapeIdentifier(table.name)} t where ${matches} limit 1)`
  );
}

/** The key arrays as EXECUTE arguments: one quoted array literal per key column. */
export function keyArgumentsSql(keys: ReadonlyArray<readonly string[]>, columnCount: number): string {
  return Array.from({ length: columnCount }, (_, index) => escapeLiteral(textArrayLiteral(keys[index] ?? []))).join(', ');
}

/** The message running prepared `claimsName` and `checkName` for every group, two statements each. */
export function preparedCheckSql(
  claimsName: string,
  checkName: string,
  keyArguments: string,
  groups: readonly GroupCheck[],
  statementTimeoutMs: number,
): string {
  const names = escapeLiteral(textArrayLiteral(claimSettingNames(groups)));
  const timeout = `'${Math.max(0, Math.floor(statementTimeoutMs))}'`;
  const check = `execute ${checkName}(${keyArguments})`;
  return groups
    .map((group) => `execute ${claimsName}(${escapeLiteral(group.role)}, ${escapeLiteral(group.claimsJson)}, ${timeout}, ${names});\n${check}`)
    .join(';\n');
}

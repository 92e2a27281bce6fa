/**
 * What the visibility checker reads from the catalog: a table's RLS flags, column types and a
 * fingerprint of its policies, and per role whether it exists, may be switched to (by PostgREST's
 * authenticator, as PostgREST would), bypasses RLS, which columns it may SELECT and which of the
 * table's SELECT policies apply to it. Every name arrives as a bind parameter and is compared as
 * text (`rolname::text = $1`): a `name` parameter would be truncated to 63 bytes and could match a
 * different role.
 */
import { catalogVersionSql, DDL_TRACKED_SQL } from './catalogEvents.js';
import type { Queryable } from './queryable.js';

export type { Queryable } from './queryable.js';
import { AuthorizationError } from './errors.js';

/** The part of a pg.Pool the checker uses: each call runs on a session of its own. */
export interface TableColumn {
  name: string;
  /** Schema-qualified and quoted (`pg_catalog.int4`, `public."My Type"`), safe to splice as a cast. */
  typeSql: string;
}

export interface TableInfo {
  schema: string;
  name: string;
  oid: string;
  /** ALTER TABLE ... ENABLE ROW LEVEL SECURITY. */
  rlsEnabled: boolean;
  columns: TableColumn[];
  /**
   * Changes whenever a policy of the table is created, altered or dropped (their oids and row
   * versions): the deparsed policies (policies.ts) are read again only then.
   */
  policyFingerprint: string;
}

export interface RoleAccess {
  exists: boolean;
  /**
   * PostgREST's authenticator may switch to it (a member of it: what PostgREST's `SET ROLE` needs),
   * and so may the checker's session user.
   */
  canBecome: boolean;
  /** RLS does not filter this role's reads: superuser, BYPASSRLS, or owner of a table without FORCE. */
  bypassesRls: boolean;
  /** USAGE on the table's schema: without it no column is readable. */
  schemaUsage: boolean;
  /** Columns the role may SELECT (table or column grants), in table order. */
  columns: string[];
  /** Oids of the table's SELECT (and ALL) policies with a USING expression that apply to the role, by name. */
  policies: string[];
}

/** PostgreSQL truncates longer identifiers (NAMEDATALEN - 1). */
const MAX_NAME_BYTES = 63;

/** Null when `role` can name a PostgreSQL role, else why not (never quoting the name). */
export function invalidRoleName(role: unknown): string | null {
  if (typeof role !== 'string' || role === '') return 'the role must be a non-empty string';
  if (role.includes('\0')) return 'the role contains a NUL character';
  if (Buffer.byteLength(role, 'utf8') > MAX_NAME_BYTES) return `the role is longer than ${MAX_NAME_BYTES} bytes`;
  return null;
}

// SQL fragments shared by TABLE_SQL / ACCESS_SQL and by FACTS_SQL, which asks both at once.

/** The table `c`'s columns as JSON `[{ name, typeSql }]`, in column order. */
const COLUMNS_JSON = `
       coalesce((select pg_catalog.json_agg(pg_catalog.json_build_object(
                          'name', a.attname, 'typeSql', pg_catalog.format('%I.%I', tn.nspname, t.typname))
                        order by a.attnum)
                   from pg_catalog.pg_attribute a
                   join pg_catalog.pg_type t on t.oid = a.atttypid
                   join pg_catalog.pg_namespace tn on tn.oid = t.typnamespace
                  where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '[]')::pg_catalog.text`;

/** The table `c` named by $1 (schema) and $2 (name). */
const FROM_TABLE = `
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where n.nspname::pg_catalog.text = $1 and c.relname::pg_catalog.text = $2 and c.relkind in ('r', 'p')`;

/**
 * Whether `member` may `SET ROLE` to `role`: from PostgreSQL 16 a membership granted `WITH SET
 * FALSE` doesn't allow it, so the SET privilege is what counts there; before, membership.
 */
const maySetRole = (member: string, role: string) =>
  `(case when pg_catalog.current_setting('server_version_num')::pg_catalog.int4 >= 160000` +
  ` then pg_catalog.pg_has_role(${member}, ${role}, 'SET') else pg_catalog.pg_has_role(${member}, ${role}, 'MEMBER') end)`;

/**
 * The table `c`'s policies as one string that changes with any CREATE, ALTER or DROP POLICY on it,
 * and with any function, operator, type or relation created since (their newest oid): a new object
 * can change what a name in the deparsed policies resolves to (policies.ts).
 */
const POLICY_FINGERPRINT = `
       coalesce((select pg_catalog.string_agg(p.oid::pg_catalog.text operator(pg_catalog.||) '.' operator(pg_catalog.||) p.xmin::pg_catalog.text, ',' order by p.oid)
                   from pg_catalog.pg_policy p where p.polrelid = c.oid), '')
       operator(pg_catalog.||) ';' operator(pg_catalog.||) pg_catalog.concat_ws('.',
         (select pg_catalog.max(oid) from pg_catalog.pg_proc), (select pg_catalog.max(oid) from pg_catalog.pg_operator),
         (select pg_catalog.max(oid) from pg_catalog.pg_type), (select pg_catalog.max(oid) from pg_catalog.pg_class))`;

/**
 * What role `role` (a pg_roles row, or NULLs for a missing role) may do with table `c`, `auth`
 * being the authenticator's pg_roles row. Mirrors PostgreSQL's check_enable_rls: superusers and
 * BYPASSRLS roles skip policies, and so do the owner's members (has_privs_of_role = pg_has_role
 * USAGE) unless the table FORCEs them. Policies apply as in check_role_for_policy: to PUBLIC (0)
 * or to a role whose privileges `role` has; only SELECT and ALL policies with a USING expression
 * filter reads (a WITH CHECK-only ALL policy adds nothing to a SELECT).
 */
const roleAccessSql = (role: string, auth: string) => ({
  canBecome: `coalesce(${maySetRole('session_user', `${role}.oid`)} and ${maySetRole(`${auth}.oid`, `${role}.oid`)}, false)`,
  bypassesRls: `coalesce(${role}.rolsuper or ${role}.rolbypassrls
                or (pg_catalog.pg_has_role(${role}.oid, c.relowner, 'USAGE') and not c.relforcerowsecurity), false)`,
  schemaUsage: `coalesce(pg_catalog.has_schema_privilege(${role}.oid, c.relnamespace, 'USAGE'), false)`,
  columns: `coalesce((select pg_catalog.json_agg(att.attname order by att.attnum)
                   from pg_catalog.pg_attribute att
                  where att.attrelid = c.oid and att.attnum > 0 and not att.attisdropped
                    and pg_catalog.has_column_privilege(${role}.oid, c.oid, att.attnum, 'SELECT')), '[]')`,
  policies: `coalesce((select pg_catalog.json_agg(p.oid::pg_catalog.text order by p.polname)
                   from pg_catalog.pg_policy p
                  where p.polrelid = c.oid and p.polcmd in ('r', '*') and p.polqual is not null and ${role}.oid is not null
                    and (0::pg_catalog.oid operator(pg_catalog.=) any (p.polroles)
                         or exists (select from pg_catalog.unnest(p.polroles) as pr(r) where pg_catalog.pg_has_role(${role}.oid, pr.r, 'USAGE')))), '[]')`,
});

/** The authenticator's pg_roles row (NULLs when it does not exist: then no role can be switched to). */
const authRow = (alias: string, parameter: string) => `left join pg_catalog.pg_roles ${alias} on ${alias}.rolname::pg_catalog.text = ${parameter}`;

const TABLE_SQL = `
select c.oid::pg_catalog.text as oid, c.relrowsecurity as rls_enabled,${COLUMNS_JSON} as columns,${POLICY_FINGERPRINT} as policy_fingerprint${FROM_TABLE}`;

/** The table's RLS flag and column types, or null when there is no such table. */
export async function loadTable(db: Queryable, schema: string, name: string): Promise<TableInfo | null> {
  const row = rowsOf(await db.query(TABLE_SQL, [schema, name]))[0];
  return row ? tableInfoOf(schema, name, row) : null;
}

const ACCESS = roleAccessSql('a', 'auth');
const ACCESS_SQL = `
select r.name, a.oid is not null as exists, ${ACCESS.canBecome} as can_become, ${ACCESS.bypassesRls} as bypasses_rls,
       ${ACCESS.schemaUsage} as schema_usage, ${ACCESS.columns}::pg_catalog.text as columns, ${ACCESS.policies}::pg_catalog.text as policies
  from pg_catalog.unnest($2::pg_catalog.text[]) as r(name)
  join pg_catalog.pg_class c on c.oid = $1::pg_catalog.oid
  left join pg_catalog.pg_roles a on a.rolname::pg_catalog.text = r.name
  ${authRow('auth', '$3')}`;

/** Access of each of `roles` (valid names only) to `table`, in one query; `authenticator` is PostgREST's login role. */
export async function loadAccess(db: Queryable, table: TableInfo, roles: readonly string[], authenticator: string): Promise<Map<string, RoleAccess>> {
  const rows = rowsOf(await db.query(ACCESS_SQL, [table.oid, roles, authenticator]));
  const access = new Map<string, RoleAccess>();
  for (const row of rows) access.set(String(row.name), roleAccessOf({ ...row, columns: JSON.parse(String(row.columns)), policies: JSON.parse(String(row.policies)) }));
  // The join drops every role when the table vanished between the two lookups.
  if (access.size === 0 && roles.length > 0) {
    throw new AuthorizationError('TABLE_NOT_FOUND', `table ${table.schema}.${table.name} no longer exists`, { schema: table.schema, table: table.name });
  }
  return access;
}

function tableInfoOf(schema: string, name: string, row: Record<string, unknown>): TableInfo {
  return {
    schema,
    name,
    oid: String(row.oid),
    rlsEnabled: isTrue(row.rls_enabled),
    columns: JSON.parse(String(row.columns)) as TableColumn[],
    policyFingerprint: String(row.policy_fingerprint ?? ''),
  };
}

/** A row (or JSON object) with exists, can_become, bypasses_rls, schema_usage and parsed columns and policies. */
function roleAccessOf(row: Record<string, unknown>): RoleAccess {
  return {
    exists: isTrue(row.exists),
    canBecome: isTrue(row.can_become),
    bypassesRls: isTrue(row.bypasses_rls),
    schemaUsage: isTrue(row.schema_usage),
    columns: row.columns as string[],
    policies: (row.policies as string[] | null) ?? [],
  };
}

// JSON as text and booleans either way: the caller's pool may have its own type parsers.
function isTrue(value: unknown): boolean {
  return value === true || value === 't';
}

/** Rows of a pg result (or of the last result of a multi-statement query). */
export function rowsOf(result: unknown): Array<Record<string, unknown>> {
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  const rows = (last as { rows?: unknown } | undefined)?.rows;
  return Array.isArray(rows) ? (rows as Array<Record<string, unknown>>) : [];
}

// TABLE_SQL and ACCESS_SQL as one statement: one round trip, one snapshot, and (run by name on a
// pooled session) parsed and planned once per session.
const FACTS_ACCESS = roleAccessSql('ar', 'auth');
const FACTS_SQL = `
select c.oid::pg_catalog.text as oid, c.relrowsecurity as rls_enabled,${COLUMNS_JSON} as columns,${POLICY_FINGERPRINT} as policy_fingerprint,
       coalesce((select pg_catalog.json_agg(pg_catalog.json_build_object(
                          'name', r.name, 'exists', ar.oid is not null, 'can_become', ${FACTS_ACCESS.canBecome},
                          'bypasses_rls', ${FACTS_ACCESS.bypassesRls}, 'schema_usage', ${FACTS_ACCESS.schemaUsage},
                          'columns', ${FACTS_ACCESS.columns}, 'policies', ${FACTS_ACCESS.policies}))
                   from pg_catalog.unnest($3::pg_catalog.text[]) as r(name)
                   left join pg_catalog.pg_roles ar on ar.rolname::pg_catalog.text = r.name
                   ${authRow('auth', '$4')}), '[]')::pg_catalog.text as access,
       ${catalogVersionSql('c')} as catalog_version, ${DDL_TRACKED_SQL} as ddl_tracked${FROM_TABLE}`;

/** Name of FACTS_SQL as a statement prepared by pg (extended protocol) on each pooled session. */
const FACTS_STATEMENT = 'rtk_rls_facts_3';

/** A table's facts and their roles' access, as of one snapshot. */
export interface Facts {
  table: TableInfo;
  access: Map<string, RoleAccess>;
  /** What catalogEvents.ts compares to decide whether the facts still hold (same snapshot). */
  catalogVersion: string;
  /** The DDL event trigger is installed and enabled: the facts may be kept while their version holds. */
  ddlTracked: boolean;
}

/** A named query: what pg.Client.query takes to prepare a statement once per session. */
export interface NamedQueryable {
  query(config: { name: string; text: string; values?: unknown[] }): Promise<unknown>;
}

/** loadTable and loadAccess in one named statement; null when there is no such table. */
export async function loadFacts(
  db: NamedQueryable,
  schema: string,
  name: string,
  roles: readonly string[],
  authenticator: string,
): Promise<Facts | null> {
  const row = rowsOf(await db.query({ name: FACTS_STATEMENT, text: FACTS_SQL, values: [schema, name, roles, authenticator] }))[0];
  if (!row) return null;
  const access = new Map<string, RoleAccess>();
  for (const entry of JSON.parse(String(row.access)) as Array<Record<string, unknown>>) access.set(String(entry.name), roleAccessOf(entry));
  return { table: tableInfoOf(schema, name, row), access, catalogVersion: String(row.catalog_version), ddlTracked: isTrue(row.ddl_tracked) };
}

const ROLE_USABLE_SQL = `
select ${maySetRole('session_user', 'r.oid')} and ${maySetRole('auth.oid', 'r.oid')} as usable
  from pg_catalog.pg_roles r
  join pg_catalog.pg_roles auth on auth.rolname::pg_catalog.text = $2
 where r.rolname::pg_catalog.text = $1`;

/**
 * Whether a token's role can be used as PostgREST would: the role exists and `authenticator` (the
 * role PostgREST logs in as) is a member of it, so its `SET ROLE` succeeds; so must the checker's
 * own session user's. False for a missing role or authenticator.
 */
export async function roleIsUsable(db: Queryable, role: string, authenticator: string): Promise<boolean> {
  if (invalidRoleName(role) !== null) return false;
  return isTrue(rowsOf(await db.query(ROLE_USABLE_SQL, [role, authenticator]))[0]?.usable);
}

/** Whether a role of that name exists (the server checks its authenticator at start). */
export async function roleExists(db: Queryable, role: string): Promise<boolean> {
  return rowsOf(await db.query('select 1 from pg_catalog.pg_roles where rolname::pg_catalog.text = $1', [role])).length > 0;
}

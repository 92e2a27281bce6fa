/**
 * What a postgres_changes join needs to know about a table before it subscribes: that it exists and
 * is published, and each column's base type and collation (filters compile against them). Names
 * arrive as bind parameters, never spliced into SQL.
 */
import type { Queryable } from '../authorization/index.js';
import type { FilterColumn } from '../filters/index.js';
import type { SqlColumnType } from './sqlFilter.js';

export interface PublishedTable {
  exists: boolean;
  /** In the publication the server streams: changes of an unpublished table never arrive. */
  published: boolean;
  /** Every column (filters compile against them), with whether the subscriber's role may read it. */
  columns: Array<FilterColumn & { readable: boolean }>;
  /** The primary key's columns. */
  primaryKey: string[];
  /** Each column's base type and collation as SQL casts spell them (quoted by PostgreSQL). */
  sqlTypes: Map<string, SqlColumnType>;
  /**
   * Each column the role may read, with its base typname and, for collatable types, the collation it
   * compares under (the database default resolved), as clients are told in "Subscribed to
   * PostgreSQL" so they can order text themselves where the collation allows
   * (docs/realtime-protocol-extensions.md). Columns it may not read are not described.
   */
  described: ColumnDescription[];
}

export interface ColumnDescription {
  name: string;
  type: string;
  collation?: string;
  /** The locale case folding (ilike) follows, when it differs from `collation` (libc lc_ctype). */
  ctype?: string;
}

/** Collations that order text by code point, so lt/gt on text can be evaluated in memory. */
const CODEPOINT_COLLATIONS = new Set(['C', 'POSIX', 'C.UTF-8', 'C.utf8', 'ucs_basic', 'pg_c_utf8']);

const TABLE_SQL = `
  select c.oid,
         exists (select 1 from pg_catalog.pg_publication_tables p
                  where p.pubname = $3 and p.schemaname = n.nspname and p.tablename = c.relname) as published
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where n.nspname::text = $1 and c.relname::text = $2 and c.relkind in ('r', 'p')`;

// The database's default collation: lc_collate under libc, the locale of the builtin or ICU provider
// (PostgreSQL 15+; read through to_jsonb so the columns may be missing on older versions).
const DEFAULT_COLLATION_SQL = `
  (select case coalesce(to_jsonb(d) ->> 'datlocprovider', 'c')
            when 'c' then d.datcollate::text
            else coalesce(to_jsonb(d) ->> 'datlocale', to_jsonb(d) ->> 'daticulocale', d.datcollate::text) end
     from pg_catalog.pg_database d where d.datname = current_database())`;

// The default collation's case folding: lc_ctype under libc (it may differ from lc_collate); the
// builtin and ICU providers fold by their locale, so they need nothing beyond the collation.
const DEFAULT_CTYPE_SQL = `
  (select case coalesce(to_jsonb(d) ->> 'datlocprovider', 'c') when 'c' then d.datctype::text end
     from pg_catalog.pg_database d where d.datname = current_database())`;

// A domain's filter compares as its base type (one level of domain, which covers the usual case).
// $2 is the subscriber's role: what it may SELECT (with USAGE on the schema), as PostgREST would let it.
const COLUMNS_SQL = `
  select a.attname::text as name,
         coalesce(pg_catalog.has_schema_privilege(r.oid, c.relnamespace, 'USAGE')
                  and pg_catalog.has_column_privilege(r.oid, a.attrelid, a.attnum, 'SELECT'), false) as readable,
         exists (select from pg_catalog.pg_index i where i.indrelid = a.attrelid and i.indisprimary and a.attnum = any (i.indkey)) as is_key,
         (case when t.typtype = 'd' then bt.typname else t.typname end)::text as typname,
         coalesce(case when a.attcollation = 100 then ${DEFAULT_COLLATION_SQL}
                       else co.collname end, '')::text as collation,
         coalesce(case when a.attcollation = 100 then ${DEFAULT_CTYPE_SQL}
                       when co.collprovider = 'c' then co.collctype end, '')::text as ctype,
         coalesce(co.collisdeterministic, true) as deterministic,
         pg_catalog.format_type(case when t.typtype = 'd' then bt.oid else t.oid end, null) as sqltype,
         case when a.attcollation not in (0, 100)
              then pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname) end as sqlcollation
    from pg_catalog.pg_attribute a
    join pg_catalog.pg_class c on c.oid = a.attrelid
    left join pg_catalog.pg_roles r on r.rolname::text = $2
    join pg_catalog.pg_type t on t.oid = a.atttypid
    left join pg_catalog.pg_type bt on bt.oid = t.typbasetype
    left join pg_catalog.pg_collation co on co.oid = a.attcollation
    left join pg_catalog.pg_namespace cn on cn.oid = co.collnamespace
   where a.attrelid = $1 and a.attnum > 0 and not a.attisdropped
   order by a.attnum`;

/** Reads `schema.table`'s publication membership and filterable columns, and which of them `role` may read. */
export async function loadPublishedTable(db: Queryable, schema: string, table: string, publication: string, role: string): Promise<PublishedTable> {
  const found = rows(await db.query(TABLE_SQL, [schema, table, publication]));
  const row = found[0];
  if (!row) return { exists: false, published: false, columns: [], primaryKey: [], sqlTypes: new Map(), described: [] };
  const catalogColumns = rows(await db.query(COLUMNS_SQL, [row.oid, role]));
  const columns = catalogColumns.map((column) => ({
    name: String(column.name),
    typname: String(column.typname),
    textOrderIsCodepoint: CODEPOINT_COLLATIONS.has(String(column.collation)),
    nondeterministicCollation: column.deterministic === false,
    readable: column.readable === true,
  }));
  const sqlTypes = new Map(
    catalogColumns.map((column) => [String(column.name), { type: String(column.sqltype), collation: column.sqlcollation == null ? null : String(column.sqlcollation) }] as const),
  );
  const described = catalogColumns.filter((column) => column.readable === true).map((column): ColumnDescription => ({
    name: String(column.name),
    type: String(column.typname),
    ...(column.collation ? { collation: String(column.collation) } : {}),
    ...(column.ctype && column.ctype !== column.collation ? { ctype: String(column.ctype) } : {}),
  }));
  const primaryKey = catalogColumns.filter((column) => column.is_key === true).map((column) => String(column.name));
  return { exists: true, published: row.published === true, columns, primaryKey, sqlTypes, described };
}

/** True when `schema` exists. */
export async function schemaExists(db: Queryable, schema: string): Promise<boolean> {
  return rows(await db.query('select 1 from pg_catalog.pg_namespace where nspname::text = $1', [schema])).length > 0;
}

function rows(result: unknown): Array<Record<string, unknown>> {
  return ((result as { rows?: Array<Record<string, unknown>> }).rows ?? []) as Array<Record<string, unknown>>;
}

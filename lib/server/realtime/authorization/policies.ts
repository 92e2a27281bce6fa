/**
 * A table's SELECT policies as SQL the checker can apply to a change's own row (checkSql.ts): each
 * policy's USING expression deparsed by PostgreSQL and the columns of the table it reads.
 *
 * ## Why deparse, and why it is the policy PostgreSQL would apply
 * RLS adds a policy's stored expression to every scan of the table, its column references bound to
 * the scanned row. Judging a change "as of the change" means binding them to the row the change
 * carries instead of the row the table holds now. `pg_get_expr` turns the stored expression back
 * into SQL whose references to the table's columns are plain column names (qualified by the table's
 * name inside subqueries), so the check can put a FROM item named like the table, with those columns
 * typed as the table's, under it: every reference then reads the change's value. Everything else in
 * the expression (functions, operators, other tables in subqueries) is printed schema-qualified
 * where needed, so it names the same objects when the check runs under the same search_path it was
 * deparsed under (PostgREST's for the table:
 * its schema, then the extra search path): PostgreSQL prints a name unqualified only when that path
 * resolves it to the very object the policy stores (a better-matching overload elsewhere on the path
 * gets its schema printed). Functions the policies call run under that path too, as in PostgREST.
 * Subqueries still read other tables (and this one) as they are now, as they would in PostgREST's
 * query at that moment.
 *
 * ## Which columns a policy reads
 * From the stored node tree (`polqual::text`): every Var of the policy's own table (varno 1 at the
 * query level it belongs to). Only those columns are passed to the check, and a change that lacks one
 * (an unchanged TOASTed value the WAL left out) can't be judged. A reference to the whole row or to a
 * system column (ctid, xmin ...) can't be evaluated on a change either: such policies make the
 * table's rows undecidable for the roles they apply to, and the dispatcher tells those subscribers to
 * refetch (documented in docs/realtime-protocol-extensions.md).
 *
 * The deparsed text comes from the catalog, never from a client, and is read again whenever the
 * table's policy fingerprint (its policies, and the newest oid of functions, operators, types and
 * relations: an object created since could resolve a printed name otherwise) or columns change, or
 * a check using it failed for a name it could not resolve.
 */
import { escapeIdentifier, escapeLiteral } from 'pg';
import type { Queryable } from './catalog.js';
import { rowsOf } from './catalog.js';
import { hoistRowIndependent } from './hoist.js';

export interface TablePolicy {
  oid: string;
  name: string;
  permissive: boolean;
  /**
   * The USING expression, deparsed under the search_path the checks run under, with what reads no
   * row value computed once per check (hoist.ts) unless it calls a volatile function.
   */
  qual: string;
  /** attnums of the table's columns the expression reads. */
  attnums: readonly number[];
  /** It reads the whole row or a system column: it can't be evaluated on a change. */
  unevaluable: boolean;
}

export interface PolicyColumn {
  attnum: number;
  name: string;
  /** `format_type` with the column's typmod, deparsed like the policies: a cast target. */
  castSql: string;
  /** The column's collation (`"pg_catalog"."default"`, `"public"."ci"` ...): the policy compares under it, as on the table. */
  collateSql?: string;
}

export interface PolicySet {
  /** By oid. */
  policies: ReadonlyMap<string, TablePolicy>;
  /** By attnum (every column of the table). */
  columns: ReadonlyMap<number, PolicyColumn>;
}

// One simple-protocol message: it runs as one implicit transaction, so the local search_path holds
// for the two selects after it and is gone afterwards. The oid is a number checked by the caller.
const policySetSql = (oid: string, searchPath: string) => `
select pg_catalog.set_config('search_path', ${escapeLiteral(searchPath)}, true);
select p.oid::pg_catalog.text as oid, p.polname::pg_catalog.text as name, p.polpermissive as permissive,
       pg_catalog.pg_get_expr(p.polqual, p.polrelid) as qual, p.polqual::pg_catalog.text as tree,
       exists (select from pg_catalog.regexp_matches(p.polqual::pg_catalog.text, ':(?:func|opfunc)id ([0-9]+)', 'g') as m(id)
                 join pg_catalog.pg_proc f on f.oid = m.id[1]::pg_catalog.oid where f.provolatile = 'v') as volatile
  from pg_catalog.pg_policy p
 where p.polrelid = ${oid}::pg_catalog.oid and p.polcmd in ('r', '*') and p.polqual is not null;
select a.attnum, a.attname::pg_catalog.text as name, pg_catalog.format_type(a.atttypid, a.atttypmod) as cast_sql,
       case when a.attcollation <> 0 then pg_catalog.quote_ident(cn.nspname) operator(pg_catalog.||) '.' operator(pg_catalog.||) pg_catalog.quote_ident(co.collname) end as collate_sql
  from pg_catalog.pg_attribute a
  left join pg_catalog.pg_collation co on co.oid = a.attcollation
  left join pg_catalog.pg_namespace cn on cn.oid = co.collnamespace
 where a.attrelid = ${oid}::pg_catalog.oid and a.attnum > 0 and not a.attisdropped
 order by a.attnum`;

/**
 * Reads the table's SELECT policies (deparsed under `searchPath`, what the checks run under) and
 * columns, in one round trip; a second one when a policy was hoisted (hoist.ts), to have
 * PostgreSQL parse the rewritten text (the policy as stored is used if it doesn't).
 */
export async function loadPolicySet(db: Queryable, tableOid: string, searchPath: string, tableName: string): Promise<PolicySet> {
  if (!/^[0-9]+$/.test(tableOid)) throw new Error(`not a table oid: ${JSON.stringify(tableOid)}`);
  const results = (await db.query(policySetSql(tableOid, searchPath))) as unknown[];
  if (!Array.isArray(results) || results.length !== 3) throw new Error('reading the table\'s policies answered an unexpected number of results');
  const columns = new Map<number, PolicyColumn>();
  for (const row of rowsOf(results[2])) {
    const attnum = Number(row.attnum);
    columns.set(attnum, { attnum, name: String(row.name), castSql: String(row.cast_sql), ...(row.collate_sql ? { collateSql: String(row.collate_sql) } : {}) });
  }
  const names = [tableName, ...[...columns.values()].map((column) => column.name)];
  const policies = new Map<string, TablePolicy>();
  const stored = new Map<string, string>();
  for (const row of rowsOf(results[1])) {
    const references = policyReferences(String(row.tree));
    const qual = String(row.qual);
    stored.set(String(row.oid), qual);
    policies.set(String(row.oid), {
      oid: String(row.oid),
      name: String(row.name),
      permissive: row.permissive === true || row.permissive === 't',
      qual: row.volatile === true || row.volatile === 't' ? qual : hoistRowIndependent(qual, names),
      attnums: [...references.attnums].sort((a, b) => a - b),
      unevaluable: references.wholeRow || references.systemColumns,
    });
  }
  const hoisted = [...policies.values()].filter((policy) => policy.qual !== stored.get(policy.oid));
  if (hoisted.length > 0 && !(await parses(db, hoisted, [...columns.values()], searchPath, tableName))) {
    for (const policy of hoisted) policies.set(policy.oid, { ...policy, qual: stored.get(policy.oid)! });
  }
  return { policies, columns };
}

/** Whether PostgreSQL parses `policies`' quals over the table's columns (nothing is evaluated). */
async function parses(db: Queryable, policies: readonly TablePolicy[], columns: readonly PolicyColumn[], searchPath: string, tableName: string): Promise<boolean> {
  const typed = columns.map((column) => `null::${column.castSql}${column.collateSql ? ` collate ${column.collateSql}` : ''} as ${escapeIdentifier(column.name)}`);
  const row = `(select ${typed.join(', ')}) as ${escapeIdentifier(tableName)}`;
  try {
    await db.query(
      `select pg_catalog.set_config('search_path', ${escapeLiteral(searchPath)}, true);
` +
        `select ${policies.map((policy) => `((${policy.qual}) is true)`).join(', ')} from ${row} where false`,
    );
    return true;
  } catch {
    return false;
  }
}

export interface PolicyReferences {
  /** Columns of the policy's table (attnum > 0). */
  attnums: Set<number>;
  /** A reference to the whole row (varattno 0). */
  wholeRow: boolean;
  /** A reference to a system column (varattno < 0). */
  systemColumns: boolean;
}

/**
 * The policy table's columns read by a stored expression (PostgreSQL's node tree text). A Var
 * belongs to the policy's table when its varno is 1 and its varlevelsup equals the number of
 * queries (sublinks, CTEs, subqueries in FROM) it is nested in: at the top level the expression's
 * only range table entry is the table, and each query level down an outer reference counts one more
 * level up. Backslash escapes any brace inside a token, so braces balance. A tree this can't read is
 * taken to read the whole row (undecidable, never wrongly decided).
 */
export function policyReferences(tree: string): PolicyReferences {
  const result: PolicyReferences = { attnums: new Set(), wholeRow: false, systemColumns: false };
  const nodes: string[] = [];
  let queryDepth = 0;
  for (let i = 0; i < tree.length; i++) {
    const char = tree[i];
    if (char === '\\') {
      i++;
      continue;
    }
    if (char === '{') {
      const name = /^[A-Z_]+/.exec(tree.slice(i + 1, i + 41))?.[0] ?? '';
      if (name === 'VAR') {
        const end = tree.indexOf('}', i);
        if (end < 0) return { ...result, wholeRow: true };
        const body = tree.slice(i, end);
        const field = (field: string) => Number(new RegExp(`:${field} (-?[0-9]+)`).exec(body)?.[1] ?? Number.NaN);
        const [varno, varattno, varlevelsup] = [field('varno'), field('varattno'), field('varlevelsup')];
        if (![varno, varattno, varlevelsup].every(Number.isInteger)) return { ...result, wholeRow: true };
        if (varno === 1 && varlevelsup === queryDepth) {
          if (varattno > 0) result.attnums.add(varattno);
          else if (varattno === 0) result.wholeRow = true;
          else result.systemColumns = true;
        }
        i = end;
        continue;
      }
      nodes.push(name);
      if (name === 'QUERY') queryDepth++;
    } else if (char === '}') {
      if (nodes.pop() === 'QUERY') queryDepth--;
    }
  }
  if (nodes.length !== 0 || queryDepth !== 0) return { ...result, wholeRow: true };
  return result;
}

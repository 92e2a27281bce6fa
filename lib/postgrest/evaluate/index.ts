/**
 * Client-side evaluation of PostgREST reads, for live caches: `compileRequest(request, columnTypes)`
 * gives `matches` / `compare` / `project` / `window` over JSON rows, and says (`exact`, `reasons`)
 * whether they reproduce PostgREST exactly. Pure TypeScript, no I/O; runs in browsers.
 *
 * Exact: eq neq gt gte lt lte in is isdistinct like ilike match imatch cs cd ov, `(any)` / `(all)`,
 * and / or / not trees, for int2/4/8, numeric, float4/8, bool, text/varchar/name, uuid, date,
 * timestamp, timestamptz, jsonb (equality and containment), arrays of these (equality, containment,
 * overlap); orders on the scalar types; plain, aliased and same-value-cast select items; limit,
 * offset and Range. Text order, ilike and imatch only under a C/POSIX collation. Everything else
 * (full-text search, range operators, embedded resources, json paths, aggregates, untranslatable
 * regular expressions, literals the client does not read exactly) is reported as not exact.
 */
export { compileRequest } from './compile.js';
export type { ColumnType, ColumnTypes, CompiledQuery, EvaluateOptions, Row as JsonRow, RowWindow } from './types.js';

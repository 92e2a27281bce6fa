/**
 * `gen types --db`: a schema model from PostgreSQL's catalog, read with `pg` over one connection.
 *
 * Where it is more precise than PostgREST's OpenAPI document: defaults, identity and generated columns
 * as the catalog records them (an integer primary key without a default is required on insert),
 * domains resolved to their base type (with their NOT NULL and DEFAULT), enums by their own labels,
 * functions' results (a scalar, `setof` as an array, `returns table` / OUT parameters as rows, a
 * table's row as that table's `Row`, `void` as `null`: PostgREST answers 204) and their arguments in
 * declaration order, overloads included.
 *
 * What the catalog cannot tell either: whether a view's column can be null (PostgreSQL records NOT
 * NULL only for table columns, so every view column is nullable, as in the OpenAPI document), and
 * whether a function's result (or a column of it) can be null (typed without `| null`, as supabase's
 * generator does). It lists every relation and function of the schema whatever the privileges of
 * PostgREST's roles; the OpenAPI document lists what the requesting role may use.
 */
import pg from 'pg';
import { arrayOf, enumUnion, GenTypesError, propertyKey, tsTypeOf, type ColumnModel, type FunctionModel, type RelationModel, type SchemaModel } from './model.js';
import { redactUrl } from '../../realtime/cluster/redis.js';

/** The schema's functions PostgREST can call (not procedures, aggregates or trigger functions). */
const FUNCTIONS_SQL = `
  select p.proname as name, p.prorettype::text as returns, p.proretset as returns_set, t.typrelid::text as returns_relid,
    coalesce(p.proallargtypes, p.proargtypes::oid[])::text[] as arg_types, coalesce(p.proargmodes::text[], '{}') as arg_modes,
    coalesce(p.proargnames, '{}') as arg_names, p.pronargdefaults as defaults
  from pg_proc p join pg_type t on t.oid = p.prorettype
  where p.pronamespace = $1::oid and p.prokind = 'f' and p.prorettype not in ('trigger'::regtype, 'event_trigger'::regtype)
  order by p.proname, p.oid`;

/**
 * The schema's relations (in_schema) and the row types functions return, with their columns. A relation
 * is a table when it takes inserts, as PostgREST decides (it offers POST on those): tables, and views or
 * foreign tables that are auto-updatable or have an INSTEAD OF trigger; materialized views never.
 */
const COLUMNS_SQL = `
  select c.oid::text as relid, c.relname as relation, c.relnamespace = $1::oid and c.relkind in ('r', 'p', 'v', 'm', 'f') as in_schema,
    c.relkind in ('r', 'p') or (c.relkind in ('v', 'f') and pg_relation_is_updatable(c.oid, true) & 8 = 8) as insertable,
    a.attname as name, a.atttypid::text as type, not (a.attnotnull or coalesce(d.typnotnull, false)) as nullable,
    a.atthasdef or a.attidentity <> '' or a.attgenerated <> '' or d.typdefault is not null as defaulted
  from pg_class c
  left join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
  left join pg_type d on d.oid = a.atttypid and d.typtype = 'd'
  where (c.relnamespace = $1::oid and c.relkind in ('r', 'p', 'v', 'm', 'f')) or c.oid = any($2::oid[])
  order by c.relname, c.oid, a.attnum`;

/** The types used (and what they are built on: domains' base types, arrays' items), and the schema's enums. */
const TYPES_SQL = `
  with recursive used(oid) as (
    select unnest($2::oid[]) union select oid from pg_type where typnamespace = $1::oid and typtype = 'e'
    union select v.oid from used join pg_type t on t.oid = used.oid, lateral (values (t.typbasetype), (t.typelem)) v(oid) where v.oid <> 0
  )
  select t.oid::text, t.typname as name, t.typnamespace = $1::oid as in_schema, t.typtype as kind, t.typcategory as category,
    t.typbasetype::text as base, t.typelem::text as item, format_type(t.oid, null) as sql_name,
    array(select e.enumlabel::text from pg_enum e where e.enumtypid = t.oid order by e.enumsortorder) as labels
  from used join pg_type t on t.oid = used.oid
  order by t.typname`;

interface FunctionRow {
  name: string;
  returns: string;
  returns_set: boolean;
  returns_relid: string;
  arg_types: string[];
  arg_modes: string[];
  arg_names: string[];
  defaults: number;
}

interface ColumnRow {
  relid: string;
  relation: string;
  in_schema: boolean;
  insertable: boolean;
  name: string | null;
  type: string;
  nullable: boolean;
  defaulted: boolean;
}

interface TypeRow {
  oid: string;
  name: string;
  in_schema: boolean;
  kind: string;
  category: string;
  base: string;
  item: string;
  sql_name: string;
  labels: string[];
}

/** Reads the model of each of `schemas` from the database at `databaseUrl`; the connection is closed however it ends. */
export async function readCatalog(databaseUrl: string, schemas: readonly string[]): Promise<SchemaModel[]> {
  const client = new pg.Client({ connectionString: checkedUrl(databaseUrl), connectionTimeoutMillis: 15_000, application_name: 'rtk-postgrest gen types' });
  // A dropped connection fails the pending query too; without a listener its 'error' event would crash the process.
  client.on('error', () => {});
  try {
    try {
      await client.connect();
    } catch (error) {
      throw new GenTypesError(`cannot connect to PostgreSQL at ${redactUrl(databaseUrl)}: ${reason(error)}`);
    }
    const models: SchemaModel[] = [];
    for (const schema of schemas) models.push(await readSchema(client, schema));
    return models;
  } catch (error) {
    if (error instanceof pg.DatabaseError) throw new GenTypesError(`reading the catalog failed: ${error.message}`);
    throw error;
  } finally {
    await client.end().catch(() => {});
  }
}

async function readSchema(client: pg.Client, schema: string): Promise<SchemaModel> {
  const namespace = (await client.query<{ oid: string }>('select oid::text from pg_namespace where nspname = $1', [schema])).rows[0]?.oid;
  if (namespace === undefined) throw new GenTypesError(`schema "${schema}" does not exist in this database`);
  const functionRows = (await client.query<FunctionRow>(FUNCTIONS_SQL, [namespace])).rows;
  const rowTypes = functionRows.map((fn) => fn.returns_relid).filter((relid) => relid !== '0');
  const columnRows = (await client.query<ColumnRow>(COLUMNS_SQL, [namespace, rowTypes])).rows;
  const usedTypes = [...columnRows.map((row) => row.type), ...functionRows.flatMap((fn) => [fn.returns, ...fn.arg_types])].filter(Boolean);
  const typeRows = (await client.query<TypeRow>(TYPES_SQL, [namespace, usedTypes])).rows;

  const types = new Map(typeRows.map((row) => [row.oid, row]));
  const tsType = (oid: string) => typeOf(oid, types);
  const relations = new Map<string, { row: ColumnRow; columns: ColumnModel[] }>();
  for (const row of columnRows) {
    const relation = relations.get(row.relid) ?? relations.set(row.relid, { row, columns: [] }).get(row.relid)!;
    if (row.name !== null) relation.columns.push({ name: row.name, type: tsType(row.type), nullable: row.nullable, optionalOnInsert: row.defaulted || row.nullable });
  }
  const inSchema = [...relations.values()].filter(({ row }) => row.in_schema);
  const model = (list: typeof inSchema): RelationModel[] => list.map(({ row, columns }) => ({ name: row.relation, columns }));
  const rowTypeOf = (relid: string): string => {
    const relation = relations.get(relid);
    if (!relation) return 'unknown';
    const { row, columns } = relation;
    if (row.in_schema) return `Database[${JSON.stringify(schema)}][${row.insertable ? '"Tables"' : '"Views"'}][${JSON.stringify(row.relation)}]["Row"]`;
    return objectType(columns);
  };
  return {
    schema,
    tables: model(inSchema.filter(({ row }) => row.insertable)),
    views: model(inSchema.filter(({ row }) => !row.insertable)),
    functions: functionRows.filter((fn) => callable(fn, types)).map((fn) => functionOf(fn, tsType, rowTypeOf)),
    enums: new Map(typeRows.filter((row) => row.in_schema && row.kind === 'e').map((row) => [row.name, row.labels])),
  };
}

/** A function's parameters: type oid, mode (i, o, b, v, t) and name ('' when unnamed). */
const paramsOf = (fn: FunctionRow) => fn.arg_types.map((type, i) => ({ type, mode: fn.arg_modes[i] ?? 'i', name: fn.arg_names[i] ?? '' }));
const isInput = (param: { mode: string }) => param.mode === 'i' || param.mode === 'b' || param.mode === 'v';

/** Types PostgREST passes a request body to as a function's one unnamed argument. */
const RAW_BODY_TYPES = new Set(['json', 'jsonb', 'text', 'xml', 'bytea']);

/**
 * Whether PostgREST offers the function at /rpc: not when every input is unnamed (an extension's
 * `akeys(hstore)`, say), except the one unnamed json / jsonb / text / xml / bytea input it passes the
 * body to (checked against PostgREST 12's OpenAPI document).
 */
function callable(fn: FunctionRow, types: ReadonlyMap<string, TypeRow>): boolean {
  const inputs = paramsOf(fn).filter(isInput);
  if (inputs.length === 0 || inputs.some((param) => param.name !== '')) return true;
  return inputs.length === 1 && RAW_BODY_TYPES.has(types.get(inputs[0]!.type)?.sql_name ?? '');
}

/** A function's named inputs (optional when defaulted) and its result as PostgREST sends it. */
function functionOf(fn: FunctionRow, tsType: (oid: string) => string, rowTypeOf: (relid: string) => string): FunctionModel {
  const params = paramsOf(fn);
  const inputs = params.filter(isInput);
  const args = inputs.map((param, i) => ({ name: param.name, type: tsType(param.type), optional: i >= inputs.length - fn.defaults }));
  // OUT / INOUT / TABLE parameters make the result rows of those columns (even a single one: PostgREST 12 answers {"x": 1}).
  const outputs = params.filter((param) => param.mode === 'o' || param.mode === 'b' || param.mode === 't');
  let item: string;
  if (outputs.length > 0) item = objectType(outputs.map((param) => ({ name: param.name, type: tsType(param.type), nullable: false, optionalOnInsert: false })));
  else if (fn.returns_relid !== '0') item = rowTypeOf(fn.returns_relid);
  else if (fn.returns === String(VOID_OID)) item = 'null';
  else item = tsType(fn.returns);
  return { name: fn.name, args, returns: fn.returns_set ? arrayOf(item) : item };
}

const VOID_OID = 2278;

/** The TypeScript type of the type `oid`: domains as their base type, enums as their labels. */
function typeOf(oid: string, types: ReadonlyMap<string, TypeRow>): string {
  const type = types.get(oid);
  if (!type) return 'unknown';
  if (type.kind === 'd') return typeOf(type.base, types);
  if (type.kind === 'e') return enumUnion(type.labels);
  if (type.category === 'A' && type.item !== '0') return arrayOf(typeOf(type.item, types));
  return tsTypeOf(type.sql_name, new Map());
}

/** `{ a: number; b: string | null }`: an inline row type. */
function objectType(columns: readonly ColumnModel[]): string {
  return `{ ${columns.map((column) => `${propertyKey(column.name)}: ${column.type}${column.nullable ? ' | null' : ''}`).join('; ')} }`;
}

function checkedUrl(databaseUrl: string): string {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new GenTypesError(`--db ${JSON.stringify(databaseUrl)} is not a URL (postgres://user:password@host:port/database)`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new GenTypesError(`--db must be a postgres:// URL, got ${redactUrl(databaseUrl)}`);
  return databaseUrl;
}


/** Why a connection failed; a refused dual-stack connect is an AggregateError with an empty message. */
function reason(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return [...new Set(error.errors.map(reason))].join('; ');
  if (!(error instanceof Error)) return String(error);
  return error.message || (error as NodeJS.ErrnoException).code || error.name;
}

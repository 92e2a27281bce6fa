/**
 * The shape of a generated `Database` type (`rtk-postgrest gen types`), laid out as supabase's is, and
 * `postgrestClient<Database>()`: `from` / `rpc` typed by it, so rows, filter and select columns and
 * insert / update payloads are checked by the compiler.
 */
import { from as untypedFrom, type FromOptions, type PostgrestTableBuilder } from './table.js';
import { rpc as untypedRpc, type RpcBuilder, type RpcOptions } from './rpc.js';
import type { CountMethod } from '../request/types.js';

/** A JSON value as PostgREST sends json / jsonb columns. */
export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[];

/** One table: the row PostgREST returns, and what insert and update accept. */
export interface GenericTable {
  Row: Record<string, unknown>;
  Insert: Record<string, unknown>;
  Update: Record<string, unknown>;
}

/** One view (Insert / Update when it is updatable). */
export interface GenericView {
  Row: Record<string, unknown>;
  Insert?: Record<string, unknown>;
  Update?: Record<string, unknown>;
}

/** One database function: its named arguments and its result. */
export interface GenericFunction {
  Args: Record<string, unknown>;
  Returns: unknown;
}

/** One schema of a `Database`. */
export interface GenericSchema {
  Tables: Record<string, GenericTable>;
  Views: Record<string, GenericView>;
  Functions: Record<string, GenericFunction>;
}

/** A generated `Database`: schema name → schema. */
export type GenericDatabase = Record<string, GenericSchema>;

/** Tables and views of a schema by name. */
export type RelationName<Schema extends GenericSchema> = (keyof Schema['Tables'] | keyof Schema['Views']) & string;

type Relation<Schema extends GenericSchema, Name extends RelationName<Schema>> = Name extends keyof Schema['Tables'] ? Schema['Tables'][Name] : Schema['Views'][Name];

/** The builder of one table or view: its Row, and its Insert / Update (any part of the row for a view without them). */
export type TableBuilderOf<T> = T extends { Row: infer Row }
  ? PostgrestTableBuilder<Row, T extends { Insert: infer Insert } ? Insert : Partial<Row>, T extends { Update: infer Update } ? Update : Partial<Row>>
  : never;

type FunctionOf<Schema extends GenericSchema, Fn extends keyof Schema['Functions']> = Schema['Functions'][Fn];
/** The arguments may be left out when the function takes none (or only defaulted ones). */
type ArgsParam<F extends GenericFunction> = {} extends F['Args'] ? [args?: F['Args']] : [args: F['Args']];

/** `from` and `rpc` of one schema of `Database`; `schema(name)` switches to another. */
export interface PostgrestClient<Database extends GenericDatabase, SchemaName extends keyof Database & string> {
  /** A table or view of the schema; a name not in the `Database` fails to compile. */
  from<Name extends RelationName<Database[SchemaName]>>(relation: Name, options?: FromOptions): TableBuilderOf<Relation<Database[SchemaName], Name>>;
  /** A function of the schema, with its typed arguments and result. */
  rpc<Fn extends keyof Database[SchemaName]['Functions'] & string>(
    fn: Fn,
    ...rest: [...ArgsParam<FunctionOf<Database[SchemaName], Fn>>, options?: RpcOptions & { count?: undefined; head?: false }]
  ): RpcBuilder<FunctionOf<Database[SchemaName], Fn>['Returns'], true, false>;
  rpc<Fn extends keyof Database[SchemaName]['Functions'] & string>(
    fn: Fn,
    args: FunctionOf<Database[SchemaName], Fn>['Args'],
    options: RpcOptions & { count: CountMethod },
  ): RpcBuilder<FunctionOf<Database[SchemaName], Fn>['Returns'], boolean, true>;
  /** The same client for another schema of `Database` (sent as Accept-Profile / Content-Profile). */
  schema<Other extends keyof Database & string>(name: Other): PostgrestClient<Database, Other>;
}

/**
 * `from` / `rpc` typed by a generated `Database`: `postgrestClient<Database>().from('posts')`. The
 * builders are the ordinary ones (usable with `createPostgrestApi`'s endpoints and hooks); only their
 * types come from `Database`. `schema` (default: PostgREST's first exposed schema) picks the schema sent.
 */
export function postgrestClient<Database extends GenericDatabase>(): PostgrestClient<Database, 'public' & keyof Database>;
export function postgrestClient<Database extends GenericDatabase, SchemaName extends keyof Database & string>(options: { schema: SchemaName }): PostgrestClient<Database, SchemaName>;
export function postgrestClient(options?: { schema?: string }): unknown {
  return clientFor(options?.schema);
}

function clientFor(schema: string | undefined): PostgrestClient<GenericDatabase, string> {
  const scoped = <O extends { schema?: string }>(options: O | undefined): O | undefined =>
    schema === undefined || options?.schema !== undefined ? options : ({ ...options, schema } as O);
  return {
    from: (relation: string, options?: FromOptions) => untypedFrom(relation, scoped(options)),
    rpc: (fn: string, args?: Record<string, unknown>, options?: RpcOptions) => untypedRpc(fn, args, scoped(options)),
    schema: (name: string) => clientFor(name),
  } as unknown as PostgrestClient<GenericDatabase, string>;
}

import { PostgrestBuilder } from './builder.js';
import { PostgrestBuilderError, describeValue } from '../errors.js';
import { assertName } from './names.js';
import { booleanOption, countOption, readOptions, schemaOption } from './options.js';
import { initialState } from './state.js';
import type { CountMethod } from '../request/types.js';
import { formatArrayLiteral, formatScalar, isPlainObject, toJsonValue } from './values.js';

/** Options of `rpc`. `get` sends GET with the arguments in the query string; `head` sends HEAD. */
export interface RpcOptions {
  get?: boolean;
  head?: boolean;
  count?: CountMethod;
  schema?: string;
}

/**
 * The builder an rpc gives: an array result type becomes a set of rows that filters, order and
 * `single()` apply to; anything else is a single value.
 */
export type RpcBuilder<Result, Returns extends boolean, Counted extends boolean> =
  Result extends readonly (infer Item)[] ? PostgrestBuilder<Item, 'many', Returns, Counted> : PostgrestBuilder<Result, 'value', Returns, Counted>;

/** Calls a database function: POST with `args` as JSON, or GET / HEAD with them as query parameters. */
export function rpc<Result = unknown>(fn: string, args?: Record<string, unknown>, options?: RpcOptions & { count?: undefined; head?: false }): RpcBuilder<Result, true, false>;
export function rpc<Result = unknown>(fn: string, args: Record<string, unknown> | undefined, options: RpcOptions & { count: CountMethod; head?: false }): RpcBuilder<Result, true, true>;
export function rpc<Result = unknown>(fn: string, args: Record<string, unknown> | undefined, options: RpcOptions & { count: CountMethod; head: true }): RpcBuilder<Result, false, true>;
export function rpc<Result = unknown>(fn: string, args: Record<string, unknown> | undefined, options: RpcOptions & { count?: undefined; head: true }): RpcBuilder<Result, false, false>;
export function rpc<Result = unknown>(fn: string, args?: Record<string, unknown>, options?: RpcOptions): RpcBuilder<Result, boolean, boolean>;
export function rpc(fn: string, args: Record<string, unknown> = {}, options?: RpcOptions): PostgrestBuilder<unknown, 'value', boolean, boolean> {
  const opts = readOptions(options, ['get', 'head', 'count', 'schema'], 'rpc()');
  const name = assertName(fn, 'rpc() function name');
  if (!isPlainObject(args)) {
    throw new PostgrestBuilderError('INVALID_VALUE', `rpc(): args must be a plain object of argument → value, got ${describeValue(args)}`);
  }
  const head = booleanOption(opts.head, 'head', 'rpc()') ?? false;
  const get = booleanOption(opts.get, 'get', 'rpc()') ?? false;
  const base = initialState('rpc', head ? 'HEAD' : get ? 'GET' : 'POST', name, schemaOption(opts.schema, 'rpc()'));
  const count = countOption(opts.count, 'rpc()');
  if (head || get) return new PostgrestBuilder({ ...base, count, args: queryArgs(args) });
  return new PostgrestBuilder({ ...base, count, body: toJsonValue(args, 'rpc() args') });
}

/** Arguments as query pairs: scalars as text, arrays as PostgreSQL array literals. */
function queryArgs(args: Record<string, unknown>): Array<readonly [string, string]> {
  const pairs: Array<readonly [string, string]> = [];
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined) continue;
    const where = `rpc() argument ${JSON.stringify(key)}`;
    if (value === null) {
      // A query string has no NULL: omitting the argument uses its default, an empty string is ''.
      throw new PostgrestBuilderError('NULL_NOT_ALLOWED', `${where}: null cannot be sent in a GET/HEAD rpc; omit it to use the default or use POST`);
    }
    assertName(key, 'rpc() argument name');
    if (Array.isArray(value)) pairs.push([key, formatArrayLiteral(value, where)]);
    else if (typeof value === 'object' && !(value instanceof Date)) {
      // PostgREST hands query arguments to the function as JSON strings, so a json/jsonb parameter would
      // receive the string '{"k":1}' rather than the object (checked against PostgREST 12).
      throw new PostgrestBuilderError('INVALID_VALUE', `${where}: objects cannot be sent in a GET/HEAD rpc (a jsonb parameter would get a string); use POST`);
    }
    else pairs.push([key, formatScalar(value, where)]);
  }
  return pairs;
}

/** Stable codes for every way the request builder rejects its input. */
export type PostgrestBuilderErrorCode =
  /** A table, column, function, schema or referenced-table name is empty or malformed. */
  | 'INVALID_NAME'
  /** A filter or argument value has a type or content PostgREST cannot receive. */
  | 'INVALID_VALUE'
  /** `null` where SQL comparison semantics would silently never match. */
  | 'NULL_NOT_ALLOWED'
  /** An unknown or malformed filter operator. */
  | 'INVALID_OPERATOR'
  /** A modifier or option out of range or not valid for this kind of request. */
  | 'INVALID_OPTION'
  /** Rows or values for a write that are not plain JSON objects. */
  | 'INVALID_BODY'
  /** An `or` / `and` callback that did not return a condition builder, or added nothing. */
  | 'INVALID_CONDITION'
  /** Something given where a `PostgrestRequest` or a builder was expected. */
  | 'NOT_A_REQUEST';

/** Thrown synchronously by builders for bad input; `code` is stable, `message` names the problem. */
export class PostgrestBuilderError extends Error {
  override readonly name = 'PostgrestBuilderError';
  readonly code: PostgrestBuilderErrorCode;

  constructor(code: PostgrestBuilderErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Short human description of a value for error messages: `a string ("x")`, `a Promise`, `undefined`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`;
  if (typeof value === 'number') return `the number ${String(value)}`;
  if (typeof value === 'bigint') return `the bigint ${value.toString()}`;
  if (typeof value === 'boolean') return `the boolean ${String(value)}`;
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (typeof (value as { then?: unknown }).then === 'function') return 'a Promise (or other thenable)';
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
  const name = proto?.constructor?.name;
  return name && name !== 'Object' ? `an instance of ${name}` : 'an object';
}

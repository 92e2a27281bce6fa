/**
 * The contract every filterable type implements: read a filter value the way the type's input
 * function would, read a row's value from its text output, and order two values the way the type's
 * default btree operator class does. Keys are compared, never the texts.
 */

/** Only PostgreSQL can tell (a value form we do not parse exactly): evaluate that condition in SQL. */
export const NEEDS_SQL = Symbol('needs SQL');

/** The input function would raise this error (message as PostgreSQL words it). */
export class ValueRejected {
  constructor(readonly message: string) {}
}

export interface ValueDomain<Key> {
  /** PostgreSQL's name of the type in its error messages ("integer", "double precision"). */
  readonly sqlName: string;
  /** A filter value as the type's input function reads it. */
  parse(input: string): Key | ValueRejected | typeof NEEDS_SQL;
  /** A row's value as pgoutput sends it (the type's output text). */
  read(text: string): Key;
  /** Negative, zero or positive, as the type's btree comparison orders them. */
  compare(a: Key, b: Key): number;
}

/** C's isspace in the C locale, which PostgreSQL's input functions skip around values. */
export function isCSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

/** `input` without leading and trailing C whitespace. */
export function trimCSpace(input: string): string {
  let start = 0;
  let end = input.length;
  while (start < end && isCSpace(input.charCodeAt(start))) start++;
  while (end > start && isCSpace(input.charCodeAt(end - 1))) end--;
  return input.slice(start, end);
}

/** PostgreSQL's wording for a value its input function cannot read. */
export function invalidSyntax(sqlName: string, input: string): ValueRejected {
  return new ValueRejected(`invalid input syntax for type ${sqlName}: "${input}"`);
}

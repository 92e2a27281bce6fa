/** Errors of postgres_changes filters: the message is what the subscriber is told, the code is stable. */

export type RealtimeFilterErrorCode =
  /** Not Supabase's grammar (missing `=` or `.`, unbalanced `in` list, empty segment, bad `is` value). */
  | 'FILTER_SYNTAX'
  | 'FILTER_UNKNOWN_OPERATOR'
  | 'FILTER_EMPTY_COLUMN'
  | 'FILTER_EMPTY_VALUE'
  /** More than 100 `in` values (Supabase's limit). */
  | 'FILTER_TOO_MANY_VALUES'
  /** Longer or with more conditions than the server accepts. */
  | 'FILTER_TOO_LONG'
  /** No such column (or not one the subscriber may filter on). */
  | 'FILTER_UNKNOWN_COLUMN'
  /** The value is not valid input for the column's type: PostgreSQL would reject the cast. */
  | 'FILTER_INVALID_VALUE'
  /** PostgreSQL has no such operator for the column's type (json has no `=`, `is.true` needs a boolean). */
  | 'FILTER_UNSUPPORTED_OPERATOR';

export class RealtimeFilterError extends Error {
  constructor(
    readonly code: RealtimeFilterErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RealtimeFilterError';
  }
}

export function isRealtimeFilterError(value: unknown): value is RealtimeFilterError {
  return value instanceof RealtimeFilterError;
}

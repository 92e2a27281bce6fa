/** Stable codes for rejected tokens and for subscribers the visibility checker could not authorize. */

/** Why `claimsFromToken` refused a token. */
export type TokenErrorCode =
  /** Not a string, or an empty one. */
  | 'TOKEN_MISSING'
  /** Not three base64url segments of JSON objects. */
  | 'TOKEN_MALFORMED'
  /** A header `alg` other than HS256 (including `none`). */
  | 'TOKEN_ALGORITHM'
  /** Signed with another secret, or altered after signing. */
  | 'TOKEN_SIGNATURE'
  /** `exp` is now or in the past. */
  | 'TOKEN_EXPIRED'
  /** `nbf` is in the future. */
  | 'TOKEN_NOT_YET_VALID'
  /** No non-empty string `role`, or no integer `exp` (Supabase requires both). */
  | 'TOKEN_CLAIMS_MISSING';

/** Why a subscriber group sees nothing, or why a lookup failed. */
export type AuthorizationErrorCode =
  /** The role cannot name a PostgreSQL role: empty, longer than 63 bytes (PostgreSQL would truncate it), or containing NUL. */
  | 'ROLE_INVALID_NAME'
  | 'ROLE_NOT_FOUND'
  /** The role exists but PostgREST's authenticator (or the checker's database user) may not switch to it (not a member). */
  | 'ROLE_NOT_ALLOWED'
  /** The role lacks USAGE on the schema or SELECT on every column of the table. */
  | 'NOT_SELECTABLE'
  | 'TABLE_NOT_FOUND'
  /** A policy that applies to the role can't be evaluated on a change's row (it reads the whole row or a system column). */
  | 'POLICY_UNEVALUABLE'
  /** Reading the catalog (table or role privileges) failed. */
  | 'CATALOG_FAILED'
  /** Catalog facts can't be kept across batches (the DDL event trigger is missing or disabled): they are read per batch. */
  | 'CATALOG_UNTRACKED'
  /** The visibility query failed: a policy raised, the statement timed out, the connection broke. */
  | 'CHECK_FAILED'
  /** Programmer error: a function was called with arguments of the wrong shape. */
  | 'INVALID_ARGUMENT';

/**
 * A failed authorization lookup. Its own text never includes claims (personal data, and this goes to
 * logs); `cause` is PostgreSQL's error as raised, which a policy may have worded any way.
 */
export class AuthorizationError extends Error {
  override readonly name = 'AuthorizationError';
  constructor(
    readonly code: AuthorizationErrorCode,
    message: string,
    readonly details: { schema?: string; table?: string; role?: string; cause?: unknown } = {},
  ) {
    super(message);
  }
}

/** True when `error` is an AuthorizationError, optionally with the given code. */
export function isAuthorizationError(error: unknown, code?: AuthorizationErrorCode): error is AuthorizationError {
  return error instanceof AuthorizationError && (code === undefined || error.code === code);
}

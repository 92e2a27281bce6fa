/**
 * Access tokens of realtime subscribers (the socket's `apikey`, a join's `access_token`): HS256 with
 * the server's secret, and, like Supabase Realtime, a non-empty `role` and an integer `exp` are
 * required. Messages never quote the token or its claims: they go back to the client and into logs.
 */
import { JwtError, verifyJwt, type JwtClaims, type JwtErrorCode } from '../../stack/jwt.js';
import { invalidRoleName } from './catalog.js';
import { AuthorizationError, type TokenErrorCode } from './errors.js';
import { canonicalJson } from './groupKey.js';

/** Supabase's text for a token without `role` or integer `exp` (clients may match on it). */
export const CLAIMS_REQUIRED_MESSAGE = 'Fields `role` and `exp` are required in JWT';

export type ClaimsResult =
  | { ok: true; claims: JwtClaims; role: string; /** Seconds since the epoch. */ exp: number }
  | { ok: false; code: TokenErrorCode; message: string };

const MESSAGES: Record<Exclude<TokenErrorCode, 'TOKEN_EXPIRED' | 'TOKEN_CLAIMS_MISSING'>, string> = {
  TOKEN_MISSING: 'No access token was provided',
  TOKEN_MALFORMED: 'The token provided is not a valid JWT',
  TOKEN_ALGORITHM: 'The token is not signed with HS256, the only algorithm accepted',
  TOKEN_SIGNATURE: 'The token signature is invalid',
  TOKEN_NOT_YET_VALID: 'The token is not valid yet (its nbf is in the future)',
};

const JWT_CODES: Record<JwtErrorCode, keyof typeof MESSAGES | 'TOKEN_EXPIRED'> = {
  JWT_MALFORMED: 'TOKEN_MALFORMED',
  JWT_ALGORITHM: 'TOKEN_ALGORITHM',
  JWT_SIGNATURE: 'TOKEN_SIGNATURE',
  JWT_EXPIRED: 'TOKEN_EXPIRED',
  JWT_NOT_YET_VALID: 'TOKEN_NOT_YET_VALID',
};

/** Verifies `token` and returns its claims, role and expiry, or a stable code and Supabase-like message. */
export function claimsFromToken(token: unknown, jwtSecret: string, nowSeconds: number = Math.floor(Date.now() / 1000)): ClaimsResult {
  // An empty secret would make any token "signed": refuse the configuration, not the token.
  if (typeof jwtSecret !== 'string' || jwtSecret === '') {
    throw new AuthorizationError('INVALID_ARGUMENT', 'claimsFromToken: jwtSecret must be a non-empty string');
  }
  if (typeof nowSeconds !== 'number' || !Number.isFinite(nowSeconds)) {
    throw new AuthorizationError('INVALID_ARGUMENT', 'claimsFromToken: now must be a finite number of seconds since the epoch');
  }
  if (typeof token !== 'string' || token === '') return failure('TOKEN_MISSING');

  let claims: JwtClaims;
  try {
    claims = verifyJwt(jwtSecret, token, nowSeconds);
  } catch (error) {
    if (!(error instanceof JwtError)) throw error;
    const code = JWT_CODES[error.code];
    if (code !== 'TOKEN_EXPIRED') return failure(code);
    // verifyJwt checks the signature before `exp`, so this payload is authentic. It is read again
    // because verifyJwt also calls a non-number `exp` "expired", which Supabase reports as missing.
    claims = authenticPayload(token);
  }

  const { role, exp } = claims;
  if (typeof role !== 'string' || role === '' || typeof exp !== 'number' || !Number.isInteger(exp)) {
    return { ok: false, code: 'TOKEN_CLAIMS_MISSING', message: CLAIMS_REQUIRED_MESSAGE };
  }
  if (exp <= nowSeconds) {
    return { ok: false, code: 'TOKEN_EXPIRED', message: `Token has expired ${Math.floor(nowSeconds - exp)} seconds ago` };
  }
  return { ok: true, claims, role, exp };
}

function failure(code: keyof typeof MESSAGES): ClaimsResult {
  return { ok: false, code, message: MESSAGES[code] };
}

function authenticPayload(token: string): JwtClaims {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as JwtClaims;
}

/** Claims larger than this (as canonical JSON) are not a real token's: every check would carry them. */
export const MAX_CLAIMS_BYTES = 32 * 1024;

/**
 * Why the server can't use these (verified) claims to check rows, or null: the role can't name a
 * PostgreSQL role, the claims are nested too deep or too large to set as `request.jwt.claims`, or
 * hold a NUL character PostgreSQL's text can't. Such tokens are refused at join (and refresh), never
 * found out at delivery time, where they would cost every subscriber of the table their changes.
 */
export function unusableClaims(claims: Readonly<Record<string, unknown>>): string | null {
  const roleProblem = invalidRoleName(claims.role);
  if (roleProblem !== null) return `the token's role can't be used: ${roleProblem}`;
  let json: string;
  try {
    json = canonicalJson(claims);
  } catch (error) {
    return error instanceof AuthorizationError ? error.message : 'the claims are not JSON';
  }
  if (json.length > MAX_CLAIMS_BYTES || Buffer.byteLength(json) > MAX_CLAIMS_BYTES) return `the claims are larger than ${MAX_CLAIMS_BYTES} bytes`;
  // An escape \u0000 not itself escaped (a NUL in a key or string); PostgreSQL's json ->> rejects it.
  if (/(?:^|[^\\])(?:\\\\)*\\u0000/.test(json)) return 'the claims contain a NUL character';
  if (hasInexactInteger(claims)) return 'the claims hold an integer beyond 2^53, which the server can\'t pass on exactly';
  return null;
}

/**
 * An integer JavaScript rounded when it read the token (beyond ±2^53): policies would see another
 * number than PostgREST passes them, and two tokens differing only there would share a group.
 */
function hasInexactInteger(value: unknown): boolean {
  if (typeof value === 'number') return Number.isInteger(value) && !Number.isSafeInteger(value);
  if (value === null || typeof value !== 'object') return false;
  return Object.values(value).some(hasInexactInteger);
}

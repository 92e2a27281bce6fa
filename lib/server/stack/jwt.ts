import { createHmac, timingSafeEqual } from 'node:crypto';

/** JWT claims: PostgREST reads `role`; RLS policies usually read `sub`. */
export interface JwtClaims {
  role?: string;
  sub?: string;
  iss?: string;
  aud?: string | string[];
  /** Seconds since the epoch. */
  iat?: number;
  /** Seconds since the epoch. */
  exp?: number;
  /** Seconds since the epoch. */
  nbf?: number;
  [claim: string]: unknown;
}

export type JwtErrorCode = 'JWT_MALFORMED' | 'JWT_ALGORITHM' | 'JWT_SIGNATURE' | 'JWT_EXPIRED' | 'JWT_NOT_YET_VALID';

/** Why a token was rejected, with a stable `code`. */
export class JwtError extends Error {
  override readonly name = 'JwtError';
  constructor(
    readonly code: JwtErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const HEADER = encodeSegment({ alg: 'HS256', typ: 'JWT' });

/** Signs `claims` as an HS256 JWT. Claims are copied as given: add `iat`/`exp` yourself. */
export function signJwt(secret: string, claims: JwtClaims): string {
  if (typeof secret !== 'string' || secret.length === 0) throw new TypeError('signJwt: secret must be a non-empty string');
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
    throw new TypeError('signJwt: claims must be a plain object');
  }
  const unsigned = `${HEADER}.${encodeSegment(claims)}`;
  return `${unsigned}.${sign(secret, unsigned).toString('base64url')}`;
}

/**
 * Verifies an HS256 JWT and returns its claims. Throws JwtError when the token is malformed, uses
 * another algorithm, has a bad signature, is expired (`exp`) or not yet valid (`nbf`).
 */
export function verifyJwt(secret: string, token: string, nowSeconds = Math.floor(Date.now() / 1000)): JwtClaims {
  if (typeof token !== 'string') throw new JwtError('JWT_MALFORMED', 'token is not a string');
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtError('JWT_MALFORMED', 'token does not have three dot-separated parts');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeSegment(strictBase64url(headerPart, 'header'), 'header');
  // Read before the signature is checked, so a lenient spelling is malformed whatever it signs.
  const payloadBytes = strictBase64url(payloadPart, 'payload');
  if (header.alg !== 'HS256') throw new JwtError('JWT_ALGORITHM', `unsupported algorithm ${JSON.stringify(header.alg)}; only HS256 is accepted`);

  const expected = sign(secret, `${headerPart}.${payloadPart}`);
  const actual = strictBase64url(signaturePart, 'signature');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new JwtError('JWT_SIGNATURE', 'signature does not match');
  }

  const claims = decodeSegment(payloadBytes, 'payload') as JwtClaims;
  if (claims.exp !== undefined && (typeof claims.exp !== 'number' || claims.exp <= nowSeconds)) {
    throw new JwtError('JWT_EXPIRED', 'token has expired');
  }
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > nowSeconds)) {
    throw new JwtError('JWT_NOT_YET_VALID', 'token is not valid yet');
  }
  return claims;
}

/** Turns `3600`, `'30s'`, `'15m'`, `'1h'` or `'7d'` into seconds; throws on anything else. */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  if (typeof value === 'string') {
    const match = /^(\d+)([smhd])$/.exec(value);
    if (match) return Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd'];
  }
  throw new TypeError(`expiresIn must be a positive whole number of seconds or a string like "15m", "1h", "7d"; got ${JSON.stringify(value)}`);
}

function sign(secret: string, data: string): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

function encodeSegment(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/**
 * A segment's bytes, read strictly (RFC 7515 §2): only the base64url alphabet, no padding, and the
 * canonical spelling (unused trailing bits zero). Node's decoder skips what it doesn't know, so
 * `sig==` or `sig!!` would otherwise read as `sig`: another token verifying as this one.
 */
function strictBase64url(segment: string, what: string): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(segment) || segment.length % 4 === 1) throw new JwtError('JWT_MALFORMED', `${what} is not base64url without padding`);
  const bytes = Buffer.from(segment, 'base64url');
  if (bytes.toString('base64url') !== segment) throw new JwtError('JWT_MALFORMED', `${what} is not canonical base64url`);
  return bytes;
}

/** A segment's bytes (strictBase64url) as a JSON object. */
function decodeSegment(bytes: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new JwtError('JWT_MALFORMED', `${what} is not base64url-encoded JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new JwtError('JWT_MALFORMED', `${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

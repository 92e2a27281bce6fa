/**
 * Realtime's JWT rules on top of stack/jwt.ts: the connection `apikey` and a join's `access_token`
 * must be HS256 tokens with `role` and an integer `exp` (Supabase `user_socket.ex` / `confirm_token`),
 * and rejections carry Supabase's own wording so clients and logs read the same as against Supabase.
 */
import { Buffer } from 'node:buffer';
import { JwtError, verifyJwt, type JwtClaims } from '../stack/jwt.js';

/** Supabase's message for a token without the claims realtime needs. */
export const CLAIMS_REQUIRED_MESSAGE = 'Fields `role` and `exp` are required in JWT';

/** A token realtime accepts: its claims and the expiry (seconds since the epoch) to schedule against. */
export interface AcceptedToken {
  ok: true;
  claims: JwtClaims;
  exp: number;
}

/** A refused token; `message` is safe to send to the client (it never echoes token content). */
export interface RefusedToken {
  ok: false;
  message: string;
}

export type TokenCheck = AcceptedToken | RefusedToken;

/** Supabase's expiry message, e.g. `Token has expired 12 seconds ago`. */
export function expiredMessage(exp: number, nowSeconds: number): string {
  return `Token has expired ${Math.max(0, nowSeconds - exp)} seconds ago`;
}

/** Checks `token` as realtime does; never throws. */
export function checkRealtimeToken(secret: string, token: unknown, nowSeconds = Math.floor(Date.now() / 1000)): TokenCheck {
  if (typeof token !== 'string' || token.length === 0) return { ok: false, message: 'Missing JWT' };
  let claims: JwtClaims;
  try {
    claims = verifyJwt(secret, token, nowSeconds);
  } catch (error) {
    if (error instanceof JwtError && error.code === 'JWT_EXPIRED') {
      // verifyJwt checks the signature before `exp`, so these claims are authentic.
      const expired = unverifiedClaims(token);
      if (!hasRequiredClaims(expired)) return { ok: false, message: CLAIMS_REQUIRED_MESSAGE };
      return { ok: false, message: expiredMessage(expired.exp, nowSeconds) };
    }
    return { ok: false, message: error instanceof JwtError ? `Invalid JWT: ${error.message}` : 'Invalid JWT' };
  }
  if (!hasRequiredClaims(claims)) return { ok: false, message: CLAIMS_REQUIRED_MESSAGE };
  return { ok: true, claims, exp: claims.exp };
}

function hasRequiredClaims(claims: JwtClaims | null): claims is JwtClaims & { role: string; exp: number } {
  return claims !== null && typeof claims.role === 'string' && claims.role.length > 0 && Number.isSafeInteger(claims.exp);
}

function unverifiedClaims(token: string): JwtClaims | null {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as JwtClaims) : null;
  } catch {
    return null;
  }
}

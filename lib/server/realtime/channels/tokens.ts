/**
 * The connection `apikey` and a join's `access_token` as the socket and channel layers see them:
 * authorization/claims.ts does the checking (HS256, `role` and integer `exp`, Supabase's wording);
 * this adapter gives the transport its message forms (`Missing JWT`, `Invalid JWT: ...`).
 */
import type { JwtClaims } from '../../stack/jwt.js';
import { claimsFromToken, CLAIMS_REQUIRED_MESSAGE } from '../authorization/claims.js';

export { CLAIMS_REQUIRED_MESSAGE };

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
  return `Token has expired ${Math.max(0, Math.floor(nowSeconds - exp))} seconds ago`;
}

/** Checks `token` as realtime does; never throws. */
export function checkRealtimeToken(secret: string, token: unknown, nowSeconds = Math.floor(Date.now() / 1000)): TokenCheck {
  const result = claimsFromToken(token, secret, nowSeconds);
  if (result.ok) return { ok: true, claims: result.claims, exp: result.exp };
  switch (result.code) {
    case 'TOKEN_MISSING':
      return { ok: false, message: 'Missing JWT' };
    case 'TOKEN_EXPIRED':
    case 'TOKEN_CLAIMS_MISSING':
      return { ok: false, message: result.message };
    default:
      return { ok: false, message: `Invalid JWT: ${result.message}` };
  }
}

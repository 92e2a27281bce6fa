import { parseDuration, signJwt, type JwtClaims } from './jwt.js';

export const ISSUER = 'rtk-postgrest';
const TEN_YEARS = 10 * 365 * 24 * 3600;
const ONE_HOUR = 3600;

export interface SignTokenOptions {
  /** Seconds, or '30s' / '15m' / '1h' / '7d'. Default 1 hour. Ignored when claims carry `exp`. */
  expiresIn?: number | string;
}

/** Signs a user token: `role` defaults to 'authenticated'; `iss`, `iat` and `exp` are added. */
export type TokenSigner = (claims?: JwtClaims, options?: SignTokenOptions) => string;

/** The anon and service_role API keys for `secret`, valid for ten years, like Supabase's. */
export function apiKeys(secret: string): { anonKey: string; serviceKey: string } {
  const iat = nowSeconds();
  const key = (role: string) => signJwt(secret, { role, iss: ISSUER, iat, exp: iat + TEN_YEARS });
  return { anonKey: key('anon'), serviceKey: key('service_role') };
}

/** A `signToken` bound to `secret`. */
export function tokenSigner(secret: string): TokenSigner {
  return (claims = {}, options = {}) => {
    const iat = typeof claims.iat === 'number' ? claims.iat : nowSeconds();
    return signJwt(secret, {
      iss: ISSUER,
      ...claims,
      role: claims.role ?? 'authenticated',
      iat,
      exp: claims.exp ?? iat + parseDuration(options.expiresIn ?? ONE_HOUR),
    });
  };
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

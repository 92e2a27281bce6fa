/**
 * Subscribers whose role and claims are identical get identical answers from RLS, so the server
 * checks them once, as a group. The group key is the claims as canonical JSON (keys sorted at every
 * level), so key order and token re-encoding don't split groups; `role` is one of the claims.
 *
 * ## Why every claim counts, `iat` and `exp` included
 * A group's check runs with one member's claims standing for all, which is exact only if no policy
 * can tell the members apart. Policies can read any claim, and time claims are not hypothetical:
 * "reject tokens issued before the password change" is `(auth.jwt() ->> 'iat')::int > changed_at`.
 * Dropping `iat`/`exp`/`jti` from the key would let such a policy see the wrong member's token, a
 * leak; keeping them only costs grouping across token refreshes. What grouping must win is the
 * large fan-out, and there the claims are identical anyway: every anonymous client shares the one
 * anon key, every tab of a session the same access token. An operator who knows their policies
 * ignore some claims can say so with `ignoreClaims` (e.g. `['iat', 'exp']`).
 */
import { AuthorizationError } from './errors.js';

export interface GroupKeyOptions {
  /** Top-level claims left out of the key. Only safe when no policy reads them. Default none. */
  ignoreClaims?: readonly string[];
}

/** Deeper claims are not a real token's; refusing them keeps the recursion bounded. */
const MAX_DEPTH = 64;

/** A stable string for (role, claims): equal for subscribers that RLS cannot tell apart. */
export function subscriberGroupKey(claims: Readonly<Record<string, unknown>>, options: GroupKeyOptions = {}): string {
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
    throw new AuthorizationError('INVALID_ARGUMENT', 'subscriberGroupKey: claims must be a plain object');
  }
  const ignored = options.ignoreClaims;
  if (!ignored || ignored.length === 0) return canonicalJson(claims);
  const kept: Record<string, unknown> = {};
  // defineProperty: a claim named `__proto__` stays a claim (an assignment would set the prototype).
  for (const key of Object.keys(claims)) if (!ignored.includes(key)) Object.defineProperty(kept, key, { value: claims[key], enumerable: true, writable: true, configurable: true });
  return canonicalJson(kept);
}

/** JSON with object keys sorted at every level; throws on values JSON cannot hold or absurd depth. */
export function canonicalJson(value: unknown): string {
  return write(value, 0);
}

function write(value: unknown, depth: number): string {
  if (depth > MAX_DEPTH) throw new AuthorizationError('INVALID_ARGUMENT', `claims are nested deeper than ${MAX_DEPTH} levels`);
  if (value === null || typeof value !== 'object') {
    const json = JSON.stringify(value);
    if (json === undefined) throw new AuthorizationError('INVALID_ARGUMENT', `claims hold ${typeof value}, which JSON cannot represent`);
    return json;
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === undefined ? 'null' : write(item, depth + 1))).join(',')}]`;
  }
  const parts: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const item = (value as Record<string, unknown>)[key];
    if (item !== undefined) parts.push(`${JSON.stringify(key)}:${write(item, depth + 1)}`);
  }
  return `{${parts.join(',')}}`;
}

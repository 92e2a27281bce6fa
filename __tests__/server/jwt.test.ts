import { createHmac } from 'node:crypto';
import { JwtError, signJwt, verifyJwt } from '../../lib/server/stack/jwt';
import { apiKeys, tokenSigner } from '../../lib/server/stack/keys';
import { parseDuration } from '../../lib/server/stack/jwt';

const SECRET = 'a-test-secret-that-is-at-least-32-characters';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(JwtError);
    return (error as JwtError).code;
  }
  return undefined;
}

describe('signJwt / verifyJwt', () => {
  it('round-trips claims through a standard HS256 token', () => {
    const token = signJwt(SECRET, { role: 'authenticated', sub: 'u1', n: 1 });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    // The signature is the HMAC-SHA256 of "header.payload", as any JWT library computes it.
    expect(signature).toBe(createHmac('sha256', SECRET).update(`${header}.${payload}`).digest('base64url'));
    expect(verifyJwt(SECRET, token)).toEqual({ role: 'authenticated', sub: 'u1', n: 1 });
  });

  it('rejects a token signed with another secret or with a changed payload', () => {
    const token = signJwt(SECRET, { role: 'anon' });
    expect(codeOf(() => verifyJwt(`${SECRET}x`, token))).toBe('JWT_SIGNATURE');
    const [header, , signature] = token.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ role: 'service_role' })).toString('base64url')}.${signature}`;
    expect(codeOf(() => verifyJwt(SECRET, forged))).toBe('JWT_SIGNATURE');
  });

  it('rejects alg "none" and other algorithms', () => {
    const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`;
    expect(codeOf(() => verifyJwt(SECRET, none))).toBe('JWT_ALGORITHM');
  });

  it('rejects malformed tokens', () => {
    expect(codeOf(() => verifyJwt(SECRET, 'abc'))).toBe('JWT_MALFORMED');
    expect(codeOf(() => verifyJwt(SECRET, 'a.b.c'))).toBe('JWT_MALFORMED');
    expect(codeOf(() => verifyJwt(SECRET, 42 as unknown as string))).toBe('JWT_MALFORMED');
  });

  it('checks exp and nbf against the given time', () => {
    const token = signJwt(SECRET, { exp: 2000, nbf: 1000 });
    expect(verifyJwt(SECRET, token, 1500)).toMatchObject({ exp: 2000 });
    expect(codeOf(() => verifyJwt(SECRET, token, 2000))).toBe('JWT_EXPIRED');
    expect(codeOf(() => verifyJwt(SECRET, token, 999))).toBe('JWT_NOT_YET_VALID');
  });
});

describe('keys', () => {
  it('makes ten-year anon and service_role keys', () => {
    const { anonKey, serviceKey } = apiKeys(SECRET);
    const anon = verifyJwt(SECRET, anonKey);
    expect(anon).toMatchObject({ role: 'anon', iss: 'rtk-postgrest' });
    expect(anon.exp! - anon.iat!).toBe(10 * 365 * 24 * 3600);
    expect(verifyJwt(SECRET, serviceKey)).toMatchObject({ role: 'service_role', iss: 'rtk-postgrest' });
  });

  it('signs user tokens as authenticated for an hour unless told otherwise', () => {
    const sign = tokenSigner(SECRET);
    const user = verifyJwt(SECRET, sign({ sub: 'u1' }));
    expect(user).toMatchObject({ role: 'authenticated', sub: 'u1', iss: 'rtk-postgrest' });
    expect(user.exp! - user.iat!).toBe(3600);
    expect(verifyJwt(SECRET, sign({ role: 'anon' }, { expiresIn: 60 }))).toMatchObject({ role: 'anon' });
    const explicit = verifyJwt(SECRET, sign({ sub: 'u2', exp: 4102444800 }, { expiresIn: 60 }));
    expect(explicit.exp).toBe(4102444800);
  });

  it('parses durations and rejects nonsense', () => {
    expect([parseDuration(90), parseDuration('30s'), parseDuration('15m'), parseDuration('2h'), parseDuration('7d')]).toEqual([90, 30, 900, 7200, 604800]);
    expect(() => parseDuration('soon')).toThrow(/expiresIn must be/);
    expect(() => parseDuration(-5)).toThrow(/expiresIn must be/);
    expect(() => parseDuration(1.5)).toThrow(/expiresIn must be/);
  });
});

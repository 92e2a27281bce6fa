/** Join payload validation and realtime's token rules: the pure parts under the channel layer. */
import { describe, expect, it } from '@jest/globals';
import { bindingId, parseJoinConfig } from '../../../lib/server/realtime/channels/joinConfig.js';
import { CLAIMS_REQUIRED_MESSAGE, checkRealtimeToken } from '../../../lib/server/realtime/channels/tokens.js';
import { signJwt } from '../../../lib/server/stack/jwt.js';

describe('parseJoinConfig', () => {
  it('applies realtime-js defaults to an empty payload and generates a presence key', () => {
    const result = parseJoinConfig({});
    expect(result).toEqual({
      ok: true,
      config: { broadcast: { ack: false, self: false }, presence: { enabled: false, key: expect.any(String) }, private: false, postgresChanges: [], leaveEvents: false },
    });
    if (result.ok) expect(result.config.presence.key).not.toBe('');
  });

  it('accepts "flexible" string booleans and keeps a given presence key', () => {
    const result = parseJoinConfig({ config: { broadcast: { ack: 'true', self: true }, presence: { enabled: true, key: 'me' }, private: 'false' } });
    expect(result.ok && result.config).toMatchObject({ broadcast: { ack: true, self: true }, presence: { enabled: true, key: 'me' }, private: false });
  });

  it('reads leave_events (our extension), a flexible boolean', () => {
    const result = parseJoinConfig({ config: { leave_events: 'true' } });
    expect(result.ok && result.config.leaveEvents).toBe(true);
  });

  it.each([
    [{ config: { leave_events: 1 } }, 'config.leave_events must be a boolean'],
    [{ config: 'x' }, 'config must be an object'],
    [{ config: { broadcast: { self: 1 } } }, 'config.broadcast.self must be a boolean'],
    [{ config: { postgres_changes: {} } }, 'config.postgres_changes must be an array'],
    [{ config: { postgres_changes: [{ event: '*', table: 5 }] } }, 'config.postgres_changes[0].table must be a string'],
    [{ access_token: 42 }, 'access_token must be a string'],
  ])('refuses %j naming the field', (payload, message) => {
    const result = parseJoinConfig(payload as Record<string, unknown>);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain(message);
  });

  it('echoes each postgres_changes binding with a stable id, in order', () => {
    const bindings = [{ event: '*', schema: 'public', table: 'a' }, { event: 'INSERT', schema: 'public', table: 'a', filter: 'id=eq.1' }];
    const first = parseJoinConfig({ config: { postgres_changes: bindings } });
    const again = parseJoinConfig({ config: { postgres_changes: [{ table: 'a', schema: 'public', event: '*' }] } });
    if (!first.ok || !again.ok) throw new Error('expected ok');
    expect(first.config.postgresChanges.map((b) => b.params)).toEqual(bindings);
    expect(first.config.postgresChanges[0]!.id).toBe(again.config.postgresChanges[0]!.id);
    expect(first.config.postgresChanges[0]!.id).not.toBe(first.config.postgresChanges[1]!.id);
    expect(Number.isSafeInteger(bindingId(bindings[0]!))).toBe(true);
  });

  it('reads postgres_changes_options (wait, timeout in ms) and names what is wrong in it', () => {
    expect(parseJoinConfig({ config: { postgres_changes_options: { wait: true, timeout: 1500.5 } } })).toMatchObject({ ok: true, config: { postgresChangesOptions: { wait: true, timeoutMs: 1501 } } });
    expect(parseJoinConfig({ config: { postgres_changes_options: { wait: 'true' } } })).toMatchObject({ ok: true, config: { postgresChangesOptions: { wait: true } } });
    const none = parseJoinConfig({ config: {} });
    expect(none.ok && 'postgresChangesOptions' in none.config).toBe(false);
    expect(parseJoinConfig({ config: { postgres_changes_options: { wait: true, timeout: -1 } } })).toEqual({ ok: false, message: 'config.postgres_changes_options.timeout must be a positive number of milliseconds, got a number' });
    expect(parseJoinConfig({ config: { postgres_changes_options: { wait: 'soon' } } })).toMatchObject({ ok: false, message: expect.stringContaining('config.postgres_changes_options.wait must be a boolean') });
    expect(parseJoinConfig({ config: { postgres_changes_options: [] } })).toMatchObject({ ok: false, message: expect.stringContaining('config.postgres_changes_options must be an object') });
  });

  it('takes access_token, then user_token, and ignores sb_ keys', () => {
    expect(parseJoinConfig({ access_token: 'a.b.c' })).toMatchObject({ ok: true, config: { accessToken: 'a.b.c' } });
    expect(parseJoinConfig({ user_token: 'u.v.w' })).toMatchObject({ ok: true, config: { accessToken: 'u.v.w' } });
    const sb = parseJoinConfig({ access_token: 'sb_publishable_x' });
    expect(sb.ok && 'accessToken' in sb.config).toBe(false);
  });
});

describe('checkRealtimeToken', () => {
  const secret = 'secret';
  const now = 1_800_000_000;

  it('accepts a signed token with role and integer exp', () => {
    expect(checkRealtimeToken(secret, signJwt(secret, { role: 'anon', exp: now + 10 }), now)).toMatchObject({ ok: true, exp: now + 10 });
  });

  it("says how long ago an expired token expired, in Supabase's words", () => {
    expect(checkRealtimeToken(secret, signJwt(secret, { role: 'anon', exp: now - 12 }), now)).toEqual({ ok: false, message: 'Token has expired 12 seconds ago' });
  });

  it.each([
    ['no role', { exp: now + 10 }],
    ['no exp', { role: 'anon' }],
    ['a fractional exp', { role: 'anon', exp: now + 10.5 }],
  ])('requires role and exp (%s)', (_what, claims) => {
    expect(checkRealtimeToken(secret, signJwt(secret, claims), now)).toEqual({ ok: false, message: CLAIMS_REQUIRED_MESSAGE });
  });

  it('refuses forged, malformed and missing tokens', () => {
    expect(checkRealtimeToken(secret, signJwt('other', { role: 'anon', exp: now + 10 }), now)).toMatchObject({ ok: false, message: expect.stringMatching(/^Invalid JWT/) });
    expect(checkRealtimeToken(secret, 'not-a-jwt', now)).toMatchObject({ ok: false });
    expect(checkRealtimeToken(secret, undefined, now)).toEqual({ ok: false, message: 'Missing JWT' });
  });
});

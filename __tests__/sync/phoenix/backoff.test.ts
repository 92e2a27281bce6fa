import fc from 'fast-check';
import { backoffCeiling, backoffDelay, backoffPolicy, backoffSchedule, DEFAULT_RECONNECT_POLICY } from '../../../lib/sync/phoenix/backoff.js';

describe('backoff', () => {
  const policy = { minDelayMs: 100, maxDelayMs: 1000, factor: 2 };

  it('ceilings grow by the factor from minDelayMs and stop at maxDelayMs', () => {
    expect(backoffSchedule(policy, 6)).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffSchedule(DEFAULT_RECONNECT_POLICY, 5)).toEqual([1000, 2000, 4000, 8000, 10_000]);
  });

  it('full jitter: the delay is random × ceiling, so 0 and the ceiling are both reachable', () => {
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(200);
    expect(backoffDelay(policy, 3, () => 0.999999)).toBe(400);
  });

  it('every delay lies in [0, ceiling] and never exceeds maxDelayMs, even for huge attempts or odd random values', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.double({ min: -1, max: 2, noNaN: false }), (attempt, r) => {
        const delay = backoffDelay(policy, attempt, () => r);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(backoffCeiling(policy, attempt));
        expect(delay).toBeLessThanOrEqual(policy.maxDelayMs);
        expect(Number.isInteger(delay)).toBe(true);
      }),
    );
  });

  it('attempt 0 or less waits nothing', () => {
    expect(backoffCeiling(policy, 0)).toBe(0);
    expect(backoffDelay(policy, -1, () => 0.9)).toBe(0);
  });

  it('a policy fills gaps from the defaults and refuses bad values by name', () => {
    expect(backoffPolicy({ maxDelayMs: 5000, factor: undefined }, DEFAULT_RECONNECT_POLICY)).toEqual({ minDelayMs: 1000, maxDelayMs: 5000, factor: 2 });
    expect(() => backoffPolicy({ factor: 0.5 }, DEFAULT_RECONNECT_POLICY)).toThrow(/factor must be at least 1/);
    expect(() => backoffPolicy({ minDelayMs: -1 }, DEFAULT_RECONNECT_POLICY)).toThrow(/minDelayMs/);
    expect(() => backoffPolicy({ minDelayMs: 20_000 }, DEFAULT_RECONNECT_POLICY)).toThrow(/must not exceed maxDelayMs/);
    expect(() => backoffPolicy({ maxDelayMs: Number.NaN }, DEFAULT_RECONNECT_POLICY)).toThrow(/maxDelayMs/);
  });
});

/**
 * Retry delays as data: exponential growth capped at a maximum, with "full jitter" (a uniform draw
 * between 0 and the capped exponential) so that many clients dropped at once do not reconnect in
 * lockstep. The random source is injectable so schedules are reproducible in tests.
 */

export interface BackoffPolicy {
  /** Ceiling of the first retry's delay, in ms. */
  readonly minDelayMs: number;
  /** No delay exceeds this, in ms. */
  readonly maxDelayMs: number;
  /** Growth of the ceiling per attempt; at least 1. */
  readonly factor: number;
}

/** Reconnect schedule close to realtime-js (1 s, 2 s, 5 s, 10 s, then 10 s), as ceilings. */
export const DEFAULT_RECONNECT_POLICY: BackoffPolicy = { minDelayMs: 1000, maxDelayMs: 10_000, factor: 2 };
/** Rejoin schedule close to phoenix.js (1 s, 2 s, 5 s, then 10 s), as ceilings. */
export const DEFAULT_REJOIN_POLICY: BackoffPolicy = { minDelayMs: 1000, maxDelayMs: 10_000, factor: 2 };

/** A number in [0, 1), like Math.random. */
export type RandomSource = () => number;

/** Fills the gaps of `partial` from `defaults` and checks the result; throws a TypeError naming the bad field. */
export function backoffPolicy(partial: Partial<BackoffPolicy> | undefined, defaults: BackoffPolicy, context = 'backoff'): BackoffPolicy {
  if (partial !== undefined && (partial === null || typeof partial !== 'object')) throw new TypeError(`${context} must be an object`);
  const policy = { ...defaults, ...stripUndefined(partial ?? {}) };
  const problem = policyProblem(policy);
  if (problem) throw new TypeError(`${context}: ${problem}`);
  return policy;
}

/** Why `policy` is unusable, or null. */
export function policyProblem(policy: BackoffPolicy): string | null {
  for (const key of ['minDelayMs', 'maxDelayMs', 'factor'] as const) {
    const value = policy[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return `${key} must be a finite number ≥ 0, got ${String(value)}`;
  }
  if (policy.factor < 1) return `factor must be at least 1, got ${policy.factor}`;
  if (policy.minDelayMs > policy.maxDelayMs) return `minDelayMs (${policy.minDelayMs}) must not exceed maxDelayMs (${policy.maxDelayMs})`;
  return null;
}

/** The largest delay of retry number `attempt` (1-based): min · factor^(attempt−1), capped at max. */
export function backoffCeiling(policy: BackoffPolicy, attempt: number): number {
  if (!(attempt >= 1)) return 0;
  const grown = policy.minDelayMs * Math.pow(policy.factor, attempt - 1);
  return Math.min(policy.maxDelayMs, grown);
}

/** The delay before retry number `attempt` (1-based): uniform in [0, ceiling], an integer number of ms. */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: RandomSource = Math.random): number {
  const draw = random();
  const unit = Number.isFinite(draw) ? Math.min(Math.max(draw, 0), 1) : 0;
  return Math.round(unit * backoffCeiling(policy, attempt));
}

/** The ceilings of the first `attempts` retries: the schedule as data. */
export function backoffSchedule(policy: BackoffPolicy, attempts: number): number[] {
  return Array.from({ length: Math.max(0, attempts) }, (_, i) => backoffCeiling(policy, i + 1));
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

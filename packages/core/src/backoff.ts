// Delays between retries of a failed background refresh: exponential, capped, with a little jitter
// so that many processes started together (a deployment, a scale-out) do not retry in lockstep.

export interface BackoffOptions {
  /** Delay before the first retry, in ms. */
  initialDelayInMs: number;
  /** Longest delay, in ms; the doubling stops here. */
  maxDelayInMs: number;
  /** Up to this fraction of the delay is taken off at random. Default 0.1. */
  jitterRatio?: number;
  /** Source of randomness in [0, 1). Default `Math.random`; tests pass a constant. */
  random?: () => number;
}

/**
 * Delay before retry number `attempt` (0 for the first retry): `initialDelayInMs * 2^attempt`,
 * capped at `maxDelayInMs`, minus up to `jitterRatio` of it. Never above the cap, never negative.
 * @example backoffDelay(0, { initialDelayInMs: 1000, maxDelayInMs: 60000, random: () => 0 }) // 1000
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const exponential = options.initialDelayInMs * 2 ** Math.max(0, attempt);
  const base = Math.min(options.maxDelayInMs, exponential);
  const jitter = base * (options.jitterRatio ?? 0.1) * (options.random ?? Math.random)();
  return Math.max(0, Math.round(base - jitter));
}

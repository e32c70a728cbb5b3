import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The short retry inside one delivery attempt, for what passes in seconds: `-18` (too many
 * sessions), 429, 5xx, a refused connection. Longer outages are the business of the
 * attempts recorded on the staged blob (deliverStaged's backoff, then the dead letter).
 */
export interface RetryPolicy {
  /** Tries in all (1 = no retry). */
  tries: number;
  /** Base delay before the second try; doubles each time. */
  firstDelayMs: number;
  /** Upper bound of one delay. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_TRIES = 4;
export const DEFAULT_RETRY_FIRST_DELAY_MS = 500;
export const DEFAULT_RETRY_MAX_DELAY_MS = 8_000;
export const DEFAULT_RETRY: RetryPolicy = {
  tries: DEFAULT_RETRY_TRIES,
  firstDelayMs: DEFAULT_RETRY_FIRST_DELAY_MS,
  maxDelayMs: DEFAULT_RETRY_MAX_DELAY_MS,
};

/**
 * Delay before try `attempt + 1` (attempt counts from 1): exponential, capped, with "equal
 * jitter" (half fixed, half random) so that concurrent clients do not retry in step. A
 * server's Retry-After wins when it is longer, still capped.
 */
export function retryDelayMs(attempt: number, policy: RetryPolicy, hintMs?: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = exp / 2 + (exp / 2) * random();
  return Math.round(Math.min(policy.maxDelayMs, Math.max(jittered, hintMs ?? 0)));
}

/** Runs `fn` until it succeeds, `retryable(err)` is false, or the tries are used up. */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  retryable: (err: unknown) => boolean,
  onRetry: (err: unknown, attempt: number, delayMs: number) => void = () => undefined,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= policy.tries || !retryable(err)) throw err;
      const delay = retryDelayMs(attempt, policy, (err as { retryAfterMs?: number }).retryAfterMs);
      onRetry(err, attempt, delay);
      await sleep(delay);
    }
  }
}

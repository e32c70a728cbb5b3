/**
 * When and how long to wait before trying a Graph request again, in one place (as the
 * Graph SDK's RetryHandlerOptions): 429 and 503 (throttling) and 504 with `Retry-After`
 * honoured, exponential backoff when the header is absent, a bounded number of attempts,
 * and a ceiling above which waiting is left to the next run.
 */
export const DEFAULT_MAX_RETRIES = 5;
/** Backoff base when Graph gives no Retry-After: 1 s, 2 s, 4 s... */
export const DEFAULT_BACKOFF_MS = 1_000;
/** A Retry-After longer than this is not waited for in this run (a timer function has a time limit). */
export const DEFAULT_MAX_RETRY_AFTER_MS = 120_000;
/** Statuses worth trying again as they are. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 503, 504]);

export interface RetryOptions {
  maxRetries: number;
  backoffMs: number;
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_OPTIONS: RetryOptions = {
  maxRetries: DEFAULT_MAX_RETRIES,
  backoffMs: DEFAULT_BACKOFF_MS,
  maxRetryAfterMs: DEFAULT_MAX_RETRY_AFTER_MS,
};

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: Date = new Date()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

export type RetryDecision = { retry: true; delayMs: number } | { retry: false; reason: string };

/**
 * Whether attempt number `attempt` (0 = the first request) that got `status` should be
 * tried again, and after how long.
 */
export function retryDecision(status: number, retryAfterMs: number | undefined, attempt: number, opts: RetryOptions = DEFAULT_RETRY_OPTIONS): RetryDecision {
  if (!RETRYABLE_STATUSES.has(status)) return { retry: false, reason: `HTTP ${status} is not retried` };
  if (attempt >= opts.maxRetries) return { retry: false, reason: `still HTTP ${status} after ${opts.maxRetries} retries` };
  if (retryAfterMs !== undefined) {
    if (retryAfterMs > opts.maxRetryAfterMs) {
      return { retry: false, reason: `Graph asks to wait ${Math.ceil(retryAfterMs / 1000)} s (Retry-After), more than ${opts.maxRetryAfterMs / 1000} s: left for the next run` };
    }
    return { retry: true, delayMs: retryAfterMs };
  }
  return { retry: true, delayMs: opts.backoffMs * 2 ** attempt };
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_RETRY_OPTIONS, parseRetryAfter, retryDecision } from '../../../shared/sources/o365/retryPolicy';

test('Retry-After: delta-seconds, HTTP date, absent or unreadable', () => {
  const now = new Date('2026-11-28T10:00:00Z');
  assert.equal(parseRetryAfter('7', now), 7000);
  assert.equal(parseRetryAfter(['3'], now), 3000);
  assert.equal(parseRetryAfter('Sat, 28 Nov 2026 10:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Sat, 28 Nov 2026 09:00:00 GMT', now), 0, 'a date in the past means now');
  assert.equal(parseRetryAfter(undefined, now), undefined);
  assert.equal(parseRetryAfter('soon', now), undefined);
});

test('throttling and unavailability are retried after Retry-After, a bounded number of times', () => {
  assert.deepEqual(retryDecision(429, 2000, 0), { retry: true, delayMs: 2000 });
  assert.deepEqual(retryDecision(503, 1000, 3), { retry: true, delayMs: 1000 });
  assert.deepEqual(retryDecision(504, undefined, 2), { retry: true, delayMs: 4000 }, 'exponential backoff without the header');
  const exhausted = retryDecision(429, 1000, DEFAULT_RETRY_OPTIONS.maxRetries);
  assert.equal(exhausted.retry, false);
  assert.match((exhausted as { reason: string }).reason, /after 5 retries/);
});

test('a Retry-After longer than a run may wait is left for the next run', () => {
  const d = retryDecision(429, 3_600_000, 0);
  assert.equal(d.retry, false);
  assert.match((d as { reason: string }).reason, /wait 3600 s .* next run/);
});

test('other statuses are not retried', () => {
  for (const s of [400, 401, 403, 404, 409, 410, 500]) assert.equal(retryDecision(s, 1000, 0).retry, false, String(s));
});

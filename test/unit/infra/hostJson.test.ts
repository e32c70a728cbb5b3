import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MAX_ATTEMPTS } from '../../../shared/config/schema';
import { REPO } from './bicepModel';

// host.json is chosen on purpose; these checks say why, and fail when a change breaks the reason.

interface HostJson {
  version?: string;
  functionTimeout?: string;
  retry?: unknown;
  logging?: {
    logLevel?: Record<string, string>;
    applicationInsights?: { samplingSettings?: { isEnabled?: boolean; excludedTypes?: string; includedTypes?: string } };
  };
  extensions?: { blobs?: { maxDegreeOfParallelism?: number; poisonBlobThreshold?: number }; queues?: unknown };
  extensionBundle?: { id?: string; version?: string };
}

const host = JSON.parse(readFileSync(join(REPO, 'host.json'), 'utf8')) as HostJson;

/** A document of several hundred MB streamed at ~1 MB/s takes ~10 min: a run must have room for it. */
const MIN_TIMEOUT_MINUTES = 15;
/** Bounded, so a hung connection (source or EzGED) frees the instance; the next run resumes. */
const MAX_TIMEOUT_MINUTES = 120;
/** Blob-triggered deliveries per instance: each one is an upload to EzGED. */
const MAX_BLOB_PARALLELISM = 8;

function minutes(timespan: string): number {
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$/.exec(timespan);
  assert.ok(m, `"${timespan}" is not a [d.]hh:mm:ss time span`);
  return Number(m[1] ?? 0) * 1440 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]) / 60;
}

test('host.json is version 2.0 with the v4 extension bundle Flex Consumption requires', () => {
  assert.equal(host.version, '2.0');
  assert.equal(host.extensionBundle?.id, 'Microsoft.Azure.Functions.ExtensionBundle');
  assert.equal(host.extensionBundle?.version, '[4.*, 5.0.0)');
});

test('the function timeout is bounded, and long enough for a large document', () => {
  assert.ok(host.functionTimeout, 'functionTimeout must be set on purpose (Flex Consumption default is 30 min, unbounded allowed)');
  const m = minutes(host.functionTimeout);
  assert.ok(m >= MIN_TIMEOUT_MINUTES && m <= MAX_TIMEOUT_MINUTES, `functionTimeout ${host.functionTimeout} outside ${MIN_TIMEOUT_MINUTES}-${MAX_TIMEOUT_MINUTES} min`);
});

test('retries: a failed delivery is retried by coldRetry after its backoff, not by the platform at once', () => {
  // The Event Grid blob trigger enqueues each event on the host's internal queue; a failed
  // invocation is retried from that queue at once, up to poisonBlobThreshold times. The
  // sender therefore never throws for a failed delivery: deliverStaged records the attempt
  // and its backoff on the blob (or dead-letters it at ezged.maxAttempts) and returns; the
  // coldRetry timer delivers it when due. Only unexpected errors (storage unreachable) reach
  // the platform's immediate retries, where a few are enough.
  const threshold = host.extensions?.blobs?.poisonBlobThreshold;
  assert.ok(typeof threshold === 'number', 'extensions.blobs.poisonBlobThreshold must be set on purpose');
  assert.ok(threshold >= 3 && threshold <= DEFAULT_MAX_ATTEMPTS, `poisonBlobThreshold ${threshold}: a few immediate retries for storage faults, not a retry policy`);
  // `extensions.queues` does not govern the blob trigger's internal queue, and a
  // host-level `retry` would re-run timers (the next tick already does) and is not
  // supported for blob triggers: neither is set, so no one reads them as the policy.
  assert.equal(host.extensions?.queues, undefined);
  assert.equal(host.retry, undefined);
  const parallel = host.extensions?.blobs?.maxDegreeOfParallelism;
  assert.ok(typeof parallel === 'number' && parallel >= 1 && parallel <= MAX_BLOB_PARALLELISM, `maxDegreeOfParallelism ${parallel} outside 1-${MAX_BLOB_PARALLELISM}`);
});

test('logging keeps every function log line, request and exception; only dependencies are sampled', () => {
  const sampling = host.logging?.applicationInsights?.samplingSettings;
  assert.equal(sampling?.isEnabled, true, 'sampling on: storage calls are many per document');
  assert.equal(sampling?.includedTypes, undefined);
  const excluded = new Set((sampling?.excludedTypes ?? '').split(';').map((s) => s.trim()));
  for (const type of ['Request', 'Exception', 'Trace']) assert.ok(excluded.has(type), `${type} must be excluded from sampling`);
  const levels = host.logging?.logLevel ?? {};
  assert.equal(levels['Function'], 'Information', 'the product logs each delivery at Information, under Function.<name>.User');
  assert.ok(['Warning', 'Information'].includes(levels['default'] ?? ''), `default log level ${levels['default']}`);
  assert.equal(levels['Host.Results'], 'Information', 'invocation results feed the portal\'s Monitor tab');
});

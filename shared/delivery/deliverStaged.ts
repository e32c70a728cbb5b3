import type { Readable } from 'node:stream';
import { DeliveryError, describeError } from '../errors';
import { deliveredName } from '../routing/safeName';
import { claimBlob, type BlobClaim, type ClaimOptions } from '../staging/blobClaim';
import type { BlobStore } from '../staging/blobStore';
import { decodeMetadata, encodeMetadata, withDocumentFacts } from '../staging/metadata';
import { isNotFound } from '../staging/putIfAbsent';
import { failpoint } from '../util/failpoints';
import type { Semaphore } from '../util/concurrency';
import type { Logger } from '../util/log';
import { redact } from '../util/secrets';
import type { DeliveryTarget } from './target';

export type DeliveryOutcome =
  | { status: 'delivered'; location: string; name: string }
  | { status: 'already-delivered' }
  | { status: 'gone' }
  | { status: 'busy' }
  | { status: 'deferred'; until: string }
  | { status: 'retry'; attempts: number; error: string }
  | { status: 'dead-lettered'; error: string };

export interface DeliverOptions {
  maxAttempts: number;
  /** Skip a document whose next attempt is not due yet (the CLI's loops; not the blob trigger). */
  respectBackoff?: boolean;
  /** Bounds the uploads in flight (download + deliver) while lookups and archiving overlap them. */
  uploadSlots?: Semaphore;
  /**
   * Claim the staged blob with a lease while delivering it (see blobClaim.ts): deliverers
   * that may run at the same time (the Functions: blob trigger, Event Grid redeliveries,
   * the coldRetry sweep) then never send one document twice; one that finds it claimed
   * reports `busy` and leaves it. Not needed by a single `cold-launcher run`.
   */
  claim?: boolean;
  /** Renewal of the claim's lease (tests shorten it; see blobClaim.ts). */
  claimOptions?: ClaimOptions;
  now?: () => Date;
}

/** Wait before the second attempt; doubles each time, up to MAX_BACKOFF_MS, with ±20 % jitter. */
export const FIRST_BACKOFF_MS = 5_000;
export const MAX_BACKOFF_MS = 15 * 60_000;
/** Wait before trying a document again while EzGED as a whole is unreachable. */
export const TARGET_DOWN_RETRY_MS = 60_000;

/** A document whose next attempt (after a failure, its backoff) is later than `now`. */
export function waitsForNextAttempt(meta: { nextAttemptAt?: string }, now: Date): boolean {
  return meta.nextAttemptAt !== undefined && Date.parse(meta.nextAttemptAt) > now.getTime();
}

export function backoffMs(attempts: number, random = Math.random): number {
  const base = Math.min(FIRST_BACKOFF_MS * 2 ** Math.max(0, attempts - 1), MAX_BACKOFF_MS);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * Delivers one staged document, then moves it to `archive` (with where it went and when)
 * or, after `maxAttempts` or a permanent error, to `failed` (with the reason). The blob
 * trigger and the CLI both call this. A transient failure below the limit is recorded on
 * the staged blob and reported as `retry`: the caller decides when to try again.
 */
export async function deliverStaged(
  store: BlobStore,
  target: DeliveryTarget,
  blobName: string,
  logger: Logger,
  opts: DeliverOptions,
): Promise<DeliveryOutcome> {
  if (!opts.claim) return deliverClaimed(store, target, blobName, logger, opts);
  const claim = await claimBlob(store.container('staging').getBlobClient(blobName), logger, opts.claimOptions);
  if (claim === 'gone') return { status: 'gone' };
  if (claim === 'busy') {
    logger.debug('another delivery holds this document: left to it', { blob: blobName });
    return { status: 'busy' };
  }
  let outcome: DeliveryOutcome | undefined;
  try {
    outcome = await deliverClaimed(store, target, blobName, logger, opts, claim);
    return outcome;
  } finally {
    // Delivered or dead-lettered: the blob left staging, its lease with it (no request to give it back).
    await claim.release({ deleted: outcome !== undefined && MOVED_AWAY.has(outcome.status) });
  }
}

/** Outcomes after which the staged blob has been moved out of staging (to archive or failed). */
const MOVED_AWAY: ReadonlySet<DeliveryOutcome['status']> = new Set(['delivered', 'already-delivered', 'dead-lettered']);

async function deliverClaimed(
  store: BlobStore,
  target: DeliveryTarget,
  blobName: string,
  logger: Logger,
  opts: DeliverOptions,
  claim?: BlobClaim,
): Promise<DeliveryOutcome> {
  const now = opts.now ?? (() => new Date());
  const blob = store.container('staging').getBlobClient(blobName);
  const leaseId = claim?.leaseId;
  const slot = <T>(fn: () => Promise<T>) => (opts.uploadSlots ? opts.uploadSlots.use(fn) : fn());

  // Inside an upload slot: one request gives the content, the metadata and the etag, and
  // the upload follows at once (no download waits open for its turn). Storage bookkeeping
  // happens after, outside the slot, overlapping other uploads.
  const step = await slot(async () => {
    let download;
    try {
      download = await blob.download();
    } catch (err) {
      if (isNotFound(err)) return { kind: 'gone' } as const;
      throw err;
    }
    const body = download.readableStreamBody as NodeJS.ReadableStream as Readable;
    const raw = download.metadata;
    const meta = decodeMetadata(raw);
    const etag = download.etag;
    if (meta.deliveredAt || (opts.respectBackoff && waitsForNextAttempt(meta, now()))) {
      body.destroy();
      return { kind: 'skipped', raw, meta } as const;
    }
    const name = deliveredName(meta.fileName, blobName);
    // The claim lost mid-upload: stop sending, another delivery takes the document.
    const stop = () => {
      body.once('error', () => undefined); // the target may not be reading yet: it sees the error when it does
      body.destroy(new DeliveryError('CLAIM_LOST', 'the lease on the staged document was lost during the upload: stopped, another delivery takes it', true));
    };
    claim?.signal.addEventListener('abort', stop, { once: true });
    try {
      if (claim?.signal.aborted) stop();
      const { location } = await target.deliver({ name, waitdir: meta.waitdir, body, size: meta.size, sha256: meta.sha256 });
      return { kind: 'delivered', raw, meta, etag, name, location } as const;
    } catch (err) {
      return { kind: 'failed', raw, meta, etag, err } as const;
    } finally {
      claim?.signal.removeEventListener('abort', stop);
    }
  });
  if (step.kind === 'gone') return { status: 'gone' };
  if (step.kind === 'failed' && claim?.signal.aborted) {
    logger.warn('the lease on this document was lost during its delivery: left to the delivery that holds it now', { blob: blobName });
    return { status: 'busy' };
  }

  const { meta } = step;
  const keep = (m: Parameters<typeof encodeMetadata>[0]) => withDocumentFacts(step.raw, encodeMetadata(m));
  const archive = (m: Parameters<typeof encodeMetadata>[0]) => withRetries(ARCHIVE_MOVE_TRIES, () => store.move('staging', 'archive', blobName, keep(m), { leaseId }));
  const log = logger.child({ launcherId: meta.launcherId, blob: blobName, waitdir: meta.waitdir });

  if (step.kind === 'skipped') {
    if (!meta.deliveredAt) return { status: 'deferred', until: meta.nextAttemptAt! };
    // EzGED took it; a run stopped before (or during) the archive move: finish the move only.
    await archive(meta);
    log.info(`already delivered on ${meta.deliveredAt}; moved to the archive`);
    return { status: 'already-delivered' };
  }

  if (step.kind === 'failed') {
    const { err, etag } = step;
    const error = redact(describeError(err));
    const transient = !(err instanceof DeliveryError) || err.transient;
    if (err instanceof DeliveryError && err.targetDown) {
      // EzGED is down: wait, but do not use up this document's attempts (an outage of
      // hours must not send the whole backlog to the dead letters).
      const nextAttemptAt = new Date(now().getTime() + TARGET_DOWN_RETRY_MS).toISOString();
      await blob.setMetadata(keep({ ...meta, lastError: error, nextAttemptAt }), { conditions: { ifMatch: etag, leaseId } }).catch(() => undefined);
      log.warn(`EzGED is unreachable, "${meta.fileName}" waits for it: ${error}`, { attempts: meta.attempts });
      return { status: 'retry', attempts: meta.attempts, error };
    }
    const attempts = meta.attempts + 1;
    if (transient && attempts < opts.maxAttempts) {
      const nextAttemptAt = new Date(now().getTime() + backoffMs(attempts)).toISOString();
      await blob.setMetadata(keep({ ...meta, attempts, lastError: error, nextAttemptAt }), { conditions: { ifMatch: etag, leaseId } }).catch(() => undefined);
      log.warn(`delivery of "${meta.fileName}" failed (attempt ${attempts} of ${opts.maxAttempts}), will retry: ${error}`, { attempts });
      return { status: 'retry', attempts, error };
    }
    const reason = transient ? `gave up after ${attempts} attempts: ${error}` : error;
    await store.move('staging', 'failed', blobName, keep({ ...meta, attempts, lastError: error, reason, failedAt: now().toISOString() }), { leaseId });
    log.error(`could not deliver "${meta.fileName}": moved to the failed container (${reason})`, { attempts, reason });
    return { status: 'dead-lettered', error: reason };
  }

  // Delivered. From here on a failure is not a delivery failure. First mark the staged
  // blob (one quick request: a run stopped after it does not deliver again), then archive,
  // trying again a little before giving up.
  const { name, location } = step;
  failpoint('after-deliver');
  const delivered = { ...meta, nextAttemptAt: undefined, deliveredAt: now().toISOString(), deliveredAs: name, location };
  await blob.setMetadata(keep(delivered), { conditions: { leaseId } }).catch((err) => log.warn('could not mark the document delivered before archiving it', { err }));
  failpoint('before-archive');
  await archive(delivered);
  log.info(`delivered "${meta.fileName}" as ${name} into ${meta.waitdir}`, { fileName: meta.fileName, deliveredAs: name, size: meta.size });
  return { status: 'delivered', location, name };
}

const ARCHIVE_MOVE_TRIES = 3;

async function withRetries(tries: number, fn: () => Promise<void>): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= tries) throw err;
      await new Promise((r) => setTimeout(r, 200 * 2 ** i));
    }
  }
}

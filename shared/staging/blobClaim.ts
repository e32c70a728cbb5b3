import type { BlobClient } from '@azure/storage-blob';
import type { Logger } from '../util/log';
import { isNotFound } from './putIfAbsent';

/** Length of the lease that claims a staged document while it is delivered (15–60 s). */
const CLAIM_LEASE_SECONDS = 60;
/**
 * The lease is renewed this often while the delivery lasts (a large upload): three tries
 * before it would lapse, so one failed renewal (storage busy for a moment) costs nothing.
 */
const CLAIM_RENEW_MS = 15_000;

/** A staged blob claimed by this deliverer: every write to it carries `leaseId`. */
export interface BlobClaim {
  leaseId: string;
  /**
   * Aborted when the lease is lost while the delivery runs (renewal refused, or storage
   * unreachable until the lease would lapse): another deliverer may take the document, so
   * this one stops its upload.
   */
  signal: AbortSignal;
  /** Stops renewing and gives the blob back; `deleted`: the blob is gone, only stop renewing. */
  release(opts?: { deleted?: boolean }): Promise<void>;
}

export interface ClaimOptions {
  /** Renewal period (tests shorten it). */
  renewMs?: number;
}

/**
 * Claims a staged blob with a lease, so that deliverers running at the same time (the blob
 * trigger, Event Grid redelivering an event, the coldRetry sweep) never send one document
 * twice: `busy` when another holds it, `gone` when it is no longer there. A deliverer that
 * dies lets its lease lapse after CLAIM_LEASE_SECONDS; the document is then taken again, and
 * its `delivered_at` mark says whether only the move to the archive is left to do.
 */
export async function claimBlob(blob: BlobClient, logger: Logger, opts: ClaimOptions = {}): Promise<BlobClaim | 'busy' | 'gone'> {
  const renewMs = opts.renewMs ?? CLAIM_RENEW_MS;
  const lease = blob.getBlobLeaseClient();
  try {
    await lease.acquireLease(CLAIM_LEASE_SECONDS);
  } catch (err) {
    if (isNotFound(err)) return 'gone';
    if (isLeaseConflict(err)) return 'busy';
    throw err;
  }
  const lost = new AbortController();
  let renewedAt = Date.now();
  const renewal = setInterval(() => {
    lease.renewLease().then(
      () => void (renewedAt = Date.now()),
      (err) => {
        // Refused: another holds it now. Unreachable: lost once the next try would be too late.
        const tooLate = Date.now() - renewedAt + renewMs >= CLAIM_LEASE_SECONDS * 1000;
        if (isLeaseConflict(err) || tooLate) {
          clearInterval(renewal);
          logger.warn('lost the lease on the document being delivered: its upload is stopped, another delivery may take it', { err, blob: blob.name });
          lost.abort(new Error('lease lost'));
        } else {
          logger.warn('could not renew the lease on the document being delivered; trying again', { err, blob: blob.name });
        }
      },
    );
  }, renewMs);
  renewal.unref();
  return {
    leaseId: lease.leaseId,
    signal: lost.signal,
    async release({ deleted = false } = {}) {
      clearInterval(renewal);
      if (deleted || lost.signal.aborted) return;
      await lease.releaseLease().catch((err) => {
        // Gone (deleted meanwhile) or lapsed: nothing is held any more.
        if (!isNotFound(err) && !isLeaseConflict(err)) logger.warn('could not release the lease on a document; it lapses on its own', { err, blob: blob.name });
      });
    },
  };
}

function isLeaseConflict(err: unknown): boolean {
  const e = err as { statusCode?: number };
  return e?.statusCode === 409 || e?.statusCode === 412;
}

import type { BlobStore } from '../staging/blobStore';
import { decodeMetadata } from '../staging/metadata';
import type { Logger } from '../util/log';
import { mapConcurrent, Semaphore } from '../util/concurrency';
import { deliverStaged, waitsForNextAttempt, type DeliverOptions, type DeliveryOutcome } from './deliverStaged';
import type { DeliveryTarget } from './target';

/** Uploads in flight at once when a sweep (the CLI, coldRetry) drains the staging container (setting DELIVERY_CONCURRENCY). */
export const DEFAULT_DELIVERY_CONCURRENCY = 4;
/**
 * Documents worked on at once per upload slot: their storage lookups and archive moves
 * overlap the uploads, while no more than `concurrency` uploads run.
 */
const DOCUMENTS_PER_UPLOAD_SLOT = 4;

export interface DeliveryReport {
  delivered: number;
  retry: number;
  deadLettered: number;
}

export function emptyDeliveryReport(): DeliveryReport {
  return { delivered: 0, retry: 0, deadLettered: 0 };
}

export function countOutcome(report: DeliveryReport, outcome: DeliveryOutcome): void {
  if (outcome.status === 'delivered' || outcome.status === 'already-delivered') report.delivered++;
  else if (outcome.status === 'retry') report.retry++;
  else if (outcome.status === 'dead-lettered') report.deadLettered++;
}

/** Delivers the given staged blobs (by default all of staging) with bounded concurrency. */
export async function deliverAll(
  store: BlobStore,
  target: DeliveryTarget,
  logger: Logger,
  opts: DeliverOptions & { concurrency?: number; names?: string[] },
): Promise<DeliveryReport> {
  const report = emptyDeliveryReport();
  const names = opts.names ?? (await collect(store, opts.respectBackoff ? (opts.now?.() ?? new Date()) : undefined));
  const concurrency = opts.concurrency ?? DEFAULT_DELIVERY_CONCURRENCY;
  const uploadSlots = new Semaphore(concurrency);
  await mapConcurrent(names, concurrency * DOCUMENTS_PER_UPLOAD_SLOT, async (name) => {
    countOutcome(report, await deliverStaged(store, target, name, logger, { ...opts, uploadSlots }));
  });
  return report;
}

/**
 * The staged documents to try. With `dueAt`, those whose next attempt is later are left
 * out from the listing's metadata alone: a backlog waiting for EzGED costs no request per
 * document at each sweep.
 */
async function collect(store: BlobStore, dueAt?: Date): Promise<string[]> {
  const names: string[] = [];
  for await (const b of store.list('staging', undefined, { metadata: dueAt !== undefined })) {
    if (dueAt && b.metadata && waitsForNextAttempt(decodeMetadata(b.metadata), dueAt)) continue;
    names.push(b.name);
  }
  return names;
}

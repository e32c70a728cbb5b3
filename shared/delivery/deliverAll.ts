import type { BlobStore } from '../staging/blobStore';
import type { Logger } from '../util/log';
import { mapConcurrent, Semaphore } from '../util/concurrency';
import { deliverStaged, type DeliverOptions, type DeliveryOutcome } from './deliverStaged';
import type { DeliveryTarget } from './target';

/** Uploads in flight at once when the CLI drains the staging container. */
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
  const names = opts.names ?? (await collect(store));
  const concurrency = opts.concurrency ?? DEFAULT_DELIVERY_CONCURRENCY;
  const uploadSlots = new Semaphore(concurrency);
  await mapConcurrent(names, concurrency * DOCUMENTS_PER_UPLOAD_SLOT, async (name) => {
    countOutcome(report, await deliverStaged(store, target, name, logger, { ...opts, uploadSlots }));
  });
  return report;
}

async function collect(store: BlobStore): Promise<string[]> {
  const names: string[] = [];
  for await (const b of store.list('staging')) names.push(b.name);
  return names;
}

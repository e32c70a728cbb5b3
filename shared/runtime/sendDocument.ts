import type { Settings } from '../config/settings';
import { deliverStaged, type DeliveryOutcome } from '../delivery/deliverStaged';
import type { Logger } from '../util/log';
import { createTarget } from './createTarget';
import { loadDefinitions } from './loadDefinitions';
import { storeFromSettings } from './storeFromSettings';

/**
 * The body of the blob-triggered sender: delivers one staged document. A failed delivery
 * is not an exception: deliverStaged records the attempt and the time of the next one on
 * the blob (or dead-letters it), and the `coldRetry` timer delivers it when that time
 * comes. The host's own redelivery (poisonBlobThreshold) only covers unexpected errors,
 * storage unreachable for instance, and it retries at once.
 */
export async function sendDocument(blobName: string, settings: Settings, logger: Logger): Promise<DeliveryOutcome> {
  const store = storeFromSettings(settings);
  const config = await loadDefinitions(settings, store);
  const target = createTarget(config.ezged, { logger, sessionScope: 'process' });
  try {
    // claim: Event Grid may deliver an event twice, and coldRetry may sweep the same blob.
    return await deliverStaged(store, target, blobName, logger, { maxAttempts: config.ezged.maxAttempts, claim: true });
  } finally {
    await target.close();
  }
}

import type { Settings } from '../config/settings';
import { deliverStaged, type DeliveryOutcome } from '../delivery/deliverStaged';
import { ColdError } from '../errors';
import type { Logger } from '../util/log';
import { createTarget } from './createTarget';
import { loadDefinitions } from './loadDefinitions';
import { storeFromSettings } from './storeFromSettings';

/** Thrown so that the platform tries the blob trigger again later. */
export class RetryLaterError extends ColdError {
  constructor(message: string) {
    super('RETRY_LATER', message);
  }
}

/**
 * The body of the blob-triggered sender: delivers one staged document. A transient
 * failure below `maxAttempts` throws RetryLaterError so that the host's retry policy
 * (host.json) and Event Grid redeliver the event; the attempt count lives on the blob.
 */
export async function sendDocument(blobName: string, settings: Settings, logger: Logger): Promise<DeliveryOutcome> {
  const store = storeFromSettings(settings);
  const config = await loadDefinitions(settings, store);
  const target = createTarget(config.ezged);
  try {
    const outcome = await deliverStaged(store, target, blobName, logger, { maxAttempts: config.ezged.maxAttempts });
    if (outcome.status === 'retry') throw new RetryLaterError(`attempt ${outcome.attempts} failed: ${outcome.error}`);
    return outcome;
  } finally {
    await target.close();
  }
}

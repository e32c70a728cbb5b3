import type { Settings } from '../config/settings';
import { DEFAULT_DELIVERY_CONCURRENCY, deliverAll, type DeliveryReport } from '../delivery/deliverAll';
import type { Logger } from '../util/log';
import { createTarget } from './createTarget';
import { loadDefinitions } from './loadDefinitions';
import { SETTINGS, intSetting } from './settingNames';
import { storeFromSettings } from './storeFromSettings';

/**
 * The body of the `coldRetry` timer: delivers what is still in staging and due — documents
 * whose earlier attempt failed (after their backoff), and any the blob trigger missed.
 */
export async function sendPending(settings: Settings, logger: Logger): Promise<DeliveryReport> {
  const store = storeFromSettings(settings);
  const config = await loadDefinitions(settings, store);
  const target = createTarget(config.ezged, { logger, sessionScope: 'process' });
  try {
    const report = await deliverAll(store, target, logger, {
      maxAttempts: config.ezged.maxAttempts,
      respectBackoff: true,
      claim: true, // the blob trigger may be delivering the same documents right now
      concurrency: intSetting(settings[SETTINGS.deliveryConcurrency], DEFAULT_DELIVERY_CONCURRENCY, SETTINGS.deliveryConcurrency),
    });
    if (report.delivered + report.retry + report.deadLettered > 0) logger.info('pending deliveries handled', { ...report });
    return report;
  } finally {
    await target.close();
  }
}

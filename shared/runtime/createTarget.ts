import type { EzgedTarget } from '../config/schema';
import { createDropFolderTarget } from '../delivery/dropFolder';
import { createEzgedApiTarget, type EzgedApiTargetOptions } from '../delivery/ezgedApiTarget';
import type { DeliveryTarget } from '../delivery/target';
import { DeliveryError } from '../errors';

/**
 * The delivery target the `ezged` block describes: the wait folders (`dropFolder`) or
 * EzGED's web API (`url`). `opts` reach the API target: pass the logger, and
 * `sessionScope: 'process'` from the Functions sender (the default guesses it from
 * FUNCTIONS_WORKER_RUNTIME).
 */
export function createTarget(ezged: EzgedTarget, opts: EzgedApiTargetOptions = {}): DeliveryTarget {
  if (ezged.dropFolder) return createDropFolderTarget({ dropFolder: ezged.dropFolder, createWaitdirs: ezged.createWaitdirs });
  if (ezged.url) return createEzgedApiTarget(ezged, opts);
  throw new DeliveryError('TARGET_NOT_CONFIGURED', 'the ezged block needs "url" (EzGED web API) or "dropFolder" (wait folders)', false);
}

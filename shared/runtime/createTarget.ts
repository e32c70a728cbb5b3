import type { EzgedTarget } from '../config/schema';
import { createDropFolderTarget } from '../delivery/dropFolder';
import type { DeliveryTarget } from '../delivery/target';
import { DeliveryError } from '../errors';

/** The delivery target the `ezged` block describes. */
export function createTarget(ezged: EzgedTarget): DeliveryTarget {
  if (ezged.dropFolder) return createDropFolderTarget({ dropFolder: ezged.dropFolder, createWaitdirs: ezged.createWaitdirs });
  throw new DeliveryError('TARGET_NOT_AVAILABLE', 'delivery through the EzGED web API (ezged.url) is not available in this version: use ezged.dropFolder', false);
}

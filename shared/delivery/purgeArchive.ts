import type { BlobStore } from '../staging/blobStore';
import type { Logger } from '../util/log';

/**
 * Deletes archived (delivered) documents older than `days` (0 keeps them forever). In
 * Azure a lifecycle management rule does this; the CLI calls it after its runs.
 */
export async function purgeArchive(store: BlobStore, days: number, logger: Logger, now = new Date()): Promise<number> {
  if (days <= 0) return 0;
  const limit = now.getTime() - days * 86_400_000;
  let purged = 0;
  for await (const b of store.list('archive')) {
    if (b.lastModified.getTime() >= limit) continue;
    await store.container('archive').deleteBlob(b.name).catch(() => undefined);
    purged++;
  }
  if (purged > 0) logger.info(`removed ${purged} archived document${purged > 1 ? 's' : ''} older than ${days} days`);
  return purged;
}

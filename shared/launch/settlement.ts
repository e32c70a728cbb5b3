import type { BlobStore } from '../staging/blobStore';

/**
 * When may a source item be acknowledged (deleted, moved, marked)?
 * - `staged`: once every document is durably in Blob Storage (staging, archive or
 *   failed). The rule in Azure, where Storage is durable when it answers.
 * - `delivered`: once every document is delivered (in archive). The rule with the
 *   CLI's embedded Azurite, which may lose the last seconds of writes on a power cut;
 *   documents still in staging are delivered right away through `deliver`.
 */
export interface Settlement {
  readonly mode: 'staged' | 'delivered';
  /** True when the item may be acknowledged now. `fresh`: all its documents were just staged. */
  isSettled(blobs: string[], fresh: boolean): Promise<boolean>;
}

export function settleWhenStaged(store: BlobStore): Settlement {
  return {
    mode: 'staged',
    async isSettled(blobs, fresh) {
      if (fresh) return true;
      const where = await Promise.all(blobs.map((b) => store.locate(b)));
      return where.every((w) => w !== undefined);
    },
  };
}

export function settleWhenDelivered(store: BlobStore, deliver: (blobNames: string[]) => Promise<void>): Settlement {
  return {
    mode: 'delivered',
    async isSettled(names) {
      const staged = (await Promise.all(names.map(async (n) => ((await store.exists('staging', n)) ? n : undefined)))).filter(
        (n): n is string => n !== undefined,
      );
      if (staged.length > 0) await deliver(staged);
      const archived = await Promise.all(names.map((n) => store.exists('archive', n)));
      return archived.every(Boolean);
    },
  };
}

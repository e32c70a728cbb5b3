import { after, before } from 'node:test';
import { randomBytes } from 'node:crypto';
import { startAzurite, type RunningAzurite } from '../../shared/cli/embeddedAzurite';
import { BlobStore } from '../../shared/staging/blobStore';
import { BlobServiceClient } from '@azure/storage-blob';

/**
 * A real Azurite (blob service) for the tests of one file, on a free port, in memory.
 * Each call of `freshStore()` gives a store on new containers' worth of isolation by
 * using a separate Azurite account-level prefix: simplest is one Azurite per file and
 * `resetStore()` between tests.
 */
export function useAzurite(): { get: () => RunningAzurite; store: () => BlobStore; reset: () => Promise<BlobStore> } {
  let azurite: RunningAzurite | undefined;
  let store: BlobStore | undefined;
  before(async () => {
    azurite = await startAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });
  return {
    get: () => azurite!,
    store: () => store!,
    /** Deletes every container and creates the product's containers again. */
    async reset() {
      const service = BlobServiceClient.fromConnectionString(azurite!.connectionString);
      for await (const c of service.listContainers()) await service.deleteContainer(c.name);
      store = new BlobStore(service);
      await store.ensureContainers();
      return store;
    },
  };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

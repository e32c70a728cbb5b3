import type { ICachePlugin, TokenCacheContext } from '@azure/msal-node';
import { launcherSegment } from '../../staging/blobNames';
import type { BlobStore } from '../../staging/blobStore';
import { isNotFound } from '../../staging/putIfAbsent';
import { decryptCache, encryptCache } from './cacheCrypto';

/** Where a delegated launcher's MSAL token cache lives, in the `state` container. */
export function tokenCacheBlobName(launcherId: string): string {
  return `o365/${launcherSegment(launcherId)}/msal-cache.bin`;
}

/**
 * The MSAL token cache of one delegated launcher, in Blob Storage, encrypted at rest
 * (AES-256-GCM, key from settings). Refresh tokens rotate: every change MSAL makes is
 * written back, so the next run starts from the newest refresh token.
 */
export class TokenCacheStore {
  private readonly name: string;

  constructor(
    private readonly store: BlobStore,
    private readonly launcherId: string,
    private readonly key: Buffer,
  ) {
    this.name = tokenCacheBlobName(launcherId);
  }

  /** The serialized cache, or undefined when this launcher was never linked. */
  async read(): Promise<string | undefined> {
    try {
      const buf = await this.store.container('state').getBlobClient(this.name).downloadToBuffer();
      return decryptCache(buf, this.key, this.launcherId);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async write(serialized: string): Promise<void> {
    const body = encryptCache(serialized, this.key, this.launcherId);
    await this.store
      .container('state')
      .getBlockBlobClient(this.name)
      .upload(body, body.length, { blobHTTPHeaders: { blobContentType: 'application/octet-stream' } });
  }

  /** MSAL's persistence hooks: load before each cache access, save after a change. */
  plugin(): ICachePlugin {
    return {
      beforeCacheAccess: async (ctx: TokenCacheContext) => {
        const data = await this.read();
        if (data) ctx.tokenCache.deserialize(data);
      },
      afterCacheAccess: async (ctx: TokenCacheContext) => {
        if (ctx.cacheHasChanged) await this.write(ctx.tokenCache.serialize());
      },
    };
  }
}

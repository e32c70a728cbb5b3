import type { Readable } from 'node:stream';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { failpoint } from '../util/failpoints';
import { CONTAINERS, type ContainerRole } from './containers';
import { isAlreadyExists, isNotFound, putIfAbsent, type PutResult } from './putIfAbsent';

/**
 * The product's view of Blob Storage: its containers by role, and the few operations the
 * pipeline needs. Built from the same connection the Functions host uses.
 */
export class BlobStore {
  readonly service: BlobServiceClient;
  private readonly clients = new Map<ContainerRole, ContainerClient>();

  constructor(service: BlobServiceClient) {
    this.service = service;
  }

  static fromConnectionString(connectionString: string): BlobStore {
    return new BlobStore(BlobServiceClient.fromConnectionString(connectionString));
  }

  container(role: ContainerRole): ContainerClient {
    let c = this.clients.get(role);
    if (!c) {
      c = this.service.getContainerClient(CONTAINERS[role]);
      this.clients.set(role, c);
    }
    return c;
  }

  async ensureContainers(): Promise<void> {
    await Promise.all(
      (Object.keys(CONTAINERS) as ContainerRole[]).map((role) =>
        this.container(role)
          .createIfNotExists()
          .catch((err) => {
            if (!isAlreadyExists(err)) throw err;
          }),
      ),
    );
  }

  putIfAbsent(
    role: ContainerRole,
    name: string,
    body: Readable,
    metadata: (size: number, sha256: string) => Record<string, string>,
    contentType?: string,
  ): Promise<PutResult> {
    return putIfAbsent(this.container(role).getBlockBlobClient(name), body, metadata, contentType);
  }

  async exists(role: ContainerRole, name: string): Promise<boolean> {
    return this.container(role).getBlobClient(name).exists();
  }

  /** Where a document blob is now: staging, archive or failed; undefined when nowhere. */
  async locate(name: string): Promise<'staging' | 'archive' | 'failed' | undefined> {
    const roles = ['staging', 'archive', 'failed'] as const;
    const found = await Promise.all(roles.map((r) => this.exists(r, name)));
    return roles[found.indexOf(true)];
  }

  /** Reads a small JSON blob; undefined when it does not exist. */
  async readJson<T>(role: ContainerRole, name: string): Promise<{ value: T; etag?: string } | undefined> {
    try {
      const res = await this.container(role).getBlobClient(name).downloadToBuffer();
      return { value: JSON.parse(res.toString('utf8')) as T };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Writes a small JSON blob; with `ifAbsent`, returns false instead of overwriting. */
  async writeJson(role: ContainerRole, name: string, value: unknown, opts: { ifAbsent?: boolean } = {}): Promise<boolean> {
    const body = Buffer.from(JSON.stringify(value));
    try {
      await this.container(role)
        .getBlockBlobClient(name)
        .upload(body, body.length, {
          conditions: opts.ifAbsent ? { ifNoneMatch: '*' } : undefined,
          blobHTTPHeaders: { blobContentType: 'application/json' },
        });
      return true;
    } catch (err) {
      if (opts.ifAbsent && isAlreadyExists(err)) return false;
      throw err;
    }
  }

  /**
   * Moves a blob to another container (server-side copy, then delete), replacing the
   * metadata. The copy is complete before the source is deleted, so a crash in between
   * leaves the document in both places, never in none. `leaseId`: the source is claimed
   * (see blobClaim.ts).
   */
  async move(from: ContainerRole, to: ContainerRole, name: string, metadata: Record<string, string>, opts: { leaseId?: string } = {}): Promise<void> {
    const source = this.container(from).getBlobClient(name);
    const target = this.container(to).getBlobClient(name);
    const poller = await target.beginCopyFromURL(source.url, { metadata });
    await poller.pollUntilDone();
    if (to === 'archive') failpoint('after-archive-copy');
    await source.deleteIfExists({ conditions: { leaseId: opts.leaseId } });
  }

  /** The blobs of a container; with `metadata`, each with its metadata (same requests). */
  async *list(role: ContainerRole, prefix?: string, opts: { metadata?: boolean } = {}): AsyncIterable<{ name: string; lastModified: Date; size: number; metadata?: Record<string, string> }> {
    for await (const b of this.container(role).listBlobsFlat({ prefix, includeMetadata: opts.metadata })) {
      yield { name: b.name, lastModified: b.properties.lastModified, size: b.properties.contentLength ?? 0, metadata: b.metadata };
    }
  }
}

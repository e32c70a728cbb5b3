import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BlockBlobClient } from '@azure/storage-blob';

/** Size of one staged block; a document smaller than this is written in one request. */
export const BLOCK_SIZE = 4 * 1024 * 1024;
/** Blocks uploaded at once for a large document: memory is about BLOCK_SIZE × (this + 1). */
export const BLOCK_CONCURRENCY = 2;

export interface PutResult {
  /** False when a blob of that name already existed: nothing was written. */
  created: boolean;
  size: number;
  sha256: string;
}

/**
 * A document body already read whole into memory (a small file), still usable as a
 * Readable by anyone who streams it. `putIfAbsent` recognises it and writes `content` in
 * one request, without streaming it through a pipeline. Only for bodies up to BLOCK_SIZE:
 * larger documents are streamed, so memory never grows with the document's size.
 */
export class InMemoryBody extends Readable {
  constructor(readonly content: Buffer) {
    super();
  }

  override _read(): void {
    this.push(this.content);
    this.push(null);
  }
}

type MetadataOf = (size: number, sha256: string) => Record<string, string>;

/**
 * Writes `body` into a new block blob, hashing it on the way, and commits it only if no
 * blob of that name exists (`If-None-Match: *`). A body in memory (a Buffer or an
 * InMemoryBody) up to BLOCK_SIZE is written with one Put Blob. A stream is read block by
 * block, with back-pressure: memory stays bounded whatever the size.
 * `metadata(size, sha256)` gives the metadata to commit once the content is known.
 */
export async function putIfAbsent(
  blob: BlockBlobClient,
  body: Readable | Buffer,
  metadata: MetadataOf,
  contentType = 'application/octet-stream',
): Promise<PutResult> {
  const whole = Buffer.isBuffer(body) ? body : body instanceof InMemoryBody ? body.content : undefined;
  if (whole && whole.length <= BLOCK_SIZE) return putWhole(blob, whole, metadata, contentType);
  return putStreamed(blob, Buffer.isBuffer(body) ? Readable.from([body]) : body, metadata, contentType);
}

/** One Put Blob with the whole content: no blocks, no block list. */
async function putWhole(blob: BlockBlobClient, data: Buffer, metadata: MetadataOf, contentType: string): Promise<PutResult> {
  const size = data.length;
  const sha256 = createHash('sha256').update(data).digest('hex');
  return commitIfAbsent(size, sha256, () => blob.upload(data, size, putOptions(metadata(size, sha256), contentType)));
}

function putOptions(metadata: Record<string, string>, contentType: string) {
  return { metadata, conditions: { ifNoneMatch: '*' }, blobHTTPHeaders: { blobContentType: contentType } };
}

/** Runs the write made with `If-None-Match: *`: a blob already there means nothing was written. */
async function commitIfAbsent(size: number, sha256: string, write: () => Promise<unknown>): Promise<PutResult> {
  try {
    await write();
  } catch (err) {
    if (isAlreadyExists(err)) return { created: false, size, sha256 };
    throw err;
  }
  return { created: true, size, sha256 };
}

async function putStreamed(blob: BlockBlobClient, body: Readable, metadata: MetadataOf, contentType: string): Promise<PutResult> {
  const hash = createHash('sha256');
  const blockIds: string[] = [];
  const idPrefix = randomBytes(8).toString('hex');
  const inflight = new Set<Promise<unknown>>();
  let pending: Buffer[] = [];
  let pendingLength = 0;
  let size = 0;

  const stageBlock = async (data: Buffer) => {
    const id = Buffer.from(`${idPrefix}-${String(blockIds.length).padStart(6, '0')}`).toString('base64');
    blockIds.push(id);
    const p = blob.stageBlock(id, data, data.length);
    inflight.add(p);
    p.finally(() => inflight.delete(p)).catch(() => undefined);
    if (inflight.size >= BLOCK_CONCURRENCY) await Promise.race(inflight);
  };
  const takePending = (length: number): Buffer => {
    const all = Buffer.concat(pending, pendingLength);
    const head = all.subarray(0, length);
    pending = length < all.length ? [all.subarray(length)] : [];
    pendingLength = all.length - length;
    return head;
  };

  for await (const chunk of body as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    hash.update(buf);
    size += buf.length;
    pending.push(buf);
    pendingLength += buf.length;
    while (pendingLength >= BLOCK_SIZE) await stageBlock(takePending(BLOCK_SIZE));
  }
  const sha256 = hash.digest('hex');
  const options = putOptions(metadata(size, sha256), contentType);
  return commitIfAbsent(size, sha256, async () => {
    if (blockIds.length === 0) {
      const data = takePending(pendingLength);
      await blob.upload(data, data.length, options);
    } else {
      if (pendingLength > 0) await stageBlock(takePending(pendingLength));
      await Promise.all(inflight);
      await blob.commitBlockList(blockIds, options);
    }
  });
}

export function isAlreadyExists(err: unknown): boolean {
  const e = err as { statusCode?: number; code?: string; details?: { errorCode?: string } };
  return e?.statusCode === 409 || e?.code === 'BlobAlreadyExists' || e?.details?.errorCode === 'BlobAlreadyExists';
}

export function isNotFound(err: unknown): boolean {
  const e = err as { statusCode?: number };
  return e?.statusCode === 404;
}

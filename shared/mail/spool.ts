import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SourceError } from '../errors';
import type { MemoryPartStore } from './memoryStore';
import type { StoredPart } from './partStore';
import type { MailWorkspace } from './workspace';

/** The raw message, kept whole: spooled to a temp file or held in memory. */
export interface RawMessage {
  part: StoredPart;
  /** SHA-256 of the raw message, hex (of a message in memory: computed when first read). */
  readonly sha256: string;
}

/**
 * Writes a raw message to a temp file of `ws` as it arrives (bounded memory: one chunk at
 * a time, with back-pressure) and hashes it on the way.
 */
export async function spoolMessage(raw: Readable, ws: MailWorkspace, expectedSize?: number): Promise<RawMessage> {
  const hash = createHash('sha256');
  const path = ws.newFile('eml');
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  try {
    await pipeline(raw, count, createWriteStream(path, { flags: 'wx' }));
  } catch (err) {
    throw new SourceError('MESSAGE_DOWNLOAD_FAILED', `the message could not be downloaded whole (${size} bytes read): ${(err as Error).message}`, { cause: err });
  }
  checkSize(size, expectedSize);
  return { part: ws.part(path, size), sha256: hash.digest('hex') };
}

/** A raw message already in memory (fetched whole), kept as it is. */
export function holdMessage(raw: Buffer, store: MemoryPartStore, expectedSize?: number): RawMessage {
  checkSize(raw.length, expectedSize);
  let sha256: string | undefined;
  return {
    part: store.hold(raw),
    get sha256() {
      return (sha256 ??= createHash('sha256').update(raw).digest('hex'));
    },
  };
}

/**
 * When the server announced a size, a message that arrives shorter or longer is an error
 * worth retrying, not a message to parse.
 */
function checkSize(size: number, expectedSize: number | undefined): void {
  if (expectedSize !== undefined && size !== expectedSize) {
    throw new SourceError('MESSAGE_TRUNCATED', `the message arrived with ${size} bytes instead of the ${expectedSize} the server announced`);
  }
}

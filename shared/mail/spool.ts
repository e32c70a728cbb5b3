import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SourceError } from '../errors';

export interface SpooledMessage {
  path: string;
  size: number;
  /** SHA-256 of the raw message, hex. */
  sha256: string;
}

/**
 * Writes a raw message to `path` as it arrives (bounded memory: one chunk at a time, with
 * back-pressure) and hashes it on the way. When the server announced a size, a message
 * that arrives shorter or longer is an error worth retrying, not a message to parse.
 */
export async function spoolMessage(raw: Readable, path: string, expectedSize?: number): Promise<SpooledMessage> {
  const hash = createHash('sha256');
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
  if (expectedSize !== undefined && size !== expectedSize) {
    throw new SourceError('MESSAGE_TRUNCATED', `the message arrived with ${size} bytes instead of the ${expectedSize} the server announced`);
  }
  return { path, size, sha256: hash.digest('hex') };
}

import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { EzgedError } from './errors';

/** The form field pupload.php reads the document from. */
export const FILE_FIELD = 'file';

/** The fixed parts of a one-file multipart/form-data body around the document bytes. */
export interface MultipartFrame {
  contentType: string;
  head: Buffer;
  tail: Buffer;
  /** Exact Content-Length for a document of `size` bytes. */
  contentLength(size: number): number;
}

/** Quotes a file name in Content-Disposition as browsers do (WHATWG form encoding). */
function quoteName(name: string): string {
  return name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function multipartFrame(fileName: string, boundary = `----ColdLauncher${randomBytes(12).toString('hex')}`): MultipartFrame {
  const head = Buffer.from(
    `--${boundary}\r\n` +
      `Content-Disposition: form-data; name="${FILE_FIELD}"; filename="${quoteName(fileName)}"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n`,
    'utf8',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8');
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    head,
    tail,
    contentLength: (size) => head.length + size + tail.length,
  };
}

/**
 * The body, streamed: head, the document's bytes as they come, tail. The closing boundary
 * is only sent once the byte count and the SHA-256 staged with the document are checked,
 * so a short or altered read never completes an upload: the request is cut instead, and
 * the server discards the partial file.
 */
export async function* multipartBody(frame: MultipartFrame, body: Readable, size: number, sha256?: string): AsyncGenerator<Buffer> {
  yield frame.head;
  const hash = createHash('sha256');
  let read = 0;
  for await (const chunk of body as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    read += buf.length;
    if (read > size) throw mismatch(`the document is longer than its staged size (${size} bytes)`);
    hash.update(buf);
    yield buf;
  }
  if (read !== size) throw mismatch(`read ${read} bytes instead of the staged ${size}`);
  const digest = hash.digest('hex');
  if (sha256 && digest !== sha256) throw mismatch(`read content with hash ${digest.slice(0, 12)}… instead of the staged ${sha256.slice(0, 12)}…`);
  yield frame.tail;
}

function mismatch(message: string): EzgedError {
  return new EzgedError('CONTENT_MISMATCH', `upload stopped before completion: ${message}`, true);
}

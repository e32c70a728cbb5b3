import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { SourceError } from '../../errors';
import { BLOCK_SIZE, InMemoryBody } from '../../staging/putIfAbsent';
import { lengthCheck } from '../../util/lengthCheck';

/**
 * Files up to this size are read whole in one go and staged with one Put Blob; larger
 * ones are streamed block by block. The same bound as one staged block, so reading whole
 * never holds more than the streamed path would.
 */
export const WHOLE_READ_MAX_BYTES = BLOCK_SIZE;
/** Read from a large file at once. */
const READ_CHUNK_BYTES = 1024 * 1024;

/** What the folder source knows of a file when it opens it: the size it saw stable. */
export interface SeenFile {
  path: string;
  label: string;
  size: number;
}

/**
 * Opens a file for staging and fails (SourceError FILE_CHANGED) if its size is not the
 * one that was seen stable: a small file is read whole (an InMemoryBody), a large one
 * streamed with the check at its end.
 */
export async function openFile(file: SeenFile): Promise<Readable> {
  return file.size <= WHOLE_READ_MAX_BYTES ? new InMemoryBody(await readWhole(file)) : openStreamed(file);
}

function changed(file: SeenFile, seen: number | string): SourceError {
  return new SourceError('FILE_CHANGED', `${file.label} changed while it was read (${seen} bytes instead of ${file.size})`);
}

/**
 * Reads `file.size` bytes into one Buffer with one read for a file that did not change:
 * the buffer has room for one byte more, so a file that grew shows it, and a short read
 * that ends exactly at the seen size is the end of the file.
 */
export async function readWhole(file: SeenFile): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(file.size + 1);
  const handle = await open(file.path, 'r');
  let got = 0;
  try {
    for (;;) {
      const want = buf.length - got;
      const { bytesRead } = await handle.read(buf, got, want, got);
      got += bytesRead;
      if (bytesRead === 0 || got === buf.length || (bytesRead < want && got === file.size)) break;
    }
  } finally {
    await handle.close();
  }
  if (got !== file.size) throw changed(file, got > file.size ? `more than ${file.size}` : got);
  return buf.subarray(0, got);
}

/** Streams a large file in bounded chunks; the stream fails at its end if the size differs. */
function openStreamed(file: SeenFile): Readable {
  const check = lengthCheck(file.size, (seen) => changed(file, seen));
  const stream = createReadStream(file.path, { highWaterMark: READ_CHUNK_BYTES });
  stream.on('error', (err) => check.destroy(err));
  // A reader that gives up destroys `check`: close the file too (pipe() would not).
  check.once('close', () => stream.destroy());
  return stream.pipe(check);
}

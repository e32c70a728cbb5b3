import { createReadStream, type Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { EnvelopeFormatError } from './errors';

/**
 * Chunk size of ranges (base64 payloads decoded as text): small enough that the strings
 * made of each chunk stay in V8's young generation and are freed at once.
 */
export const RANGE_CHUNK_BYTES = 64 * 1024;
/** Default chunk size of a file opened whole. */
export const OPEN_CHUNK_BYTES = 1024 * 1024;

/** One file inside an envelope: its path inside the envelope (`/`-separated) and size. */
export interface EnvelopeFile {
  path: string;
  size: number;
}

/**
 * Read access to the files of one envelope, whether it is a folder or a `.zip`: the
 * decoders and documents never care which.
 */
export interface EnvelopeReader {
  /** Every file of the envelope, sorted by path (code-unit order, stable everywhere). */
  list(): Promise<EnvelopeFile[]>;
  /** The file's content, streamed (in chunks of about `chunkBytes` when given). */
  open(path: string, chunkBytes?: number): Promise<Readable>;
  /** Bytes [start, end) of the file, streamed (a zip entry is inflated up to `end`). */
  openRange(path: string, start: number, end: number): Promise<Readable>;
  /**
   * Reads every file once to its end, when the container can hold corrupt data (a zip:
   * inflated, sizes and CRC-32 checked; its large files kept in temp files on the way,
   * so that they are not inflated again by each later read). Throws EnvelopeFormatError
   * naming the file: the envelope is refused whole before any document is staged.
   */
  verify?(): Promise<void>;
  /**
   * Releases what the reader keeps (a zip's temp files). Reading after it still works
   * (a zip is inflated again). Called once the envelope's documents are done with.
   */
  close?(): Promise<void>;
}

/** Reads a small file whole, refusing more than `maxBytes`. */
export async function readSmall(reader: EnvelopeReader, path: string, maxBytes: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  const stream = await reader.open(path);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      stream.destroy();
      throw new EnvelopeFormatError('XML_TOO_LARGE', `${what}: more than ${maxBytes} bytes`);
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/** Reads the first `bytes` bytes of a file (to sniff its kind). */
export async function readHead(reader: EnvelopeReader, path: string, bytes: number): Promise<Buffer> {
  const stream = await reader.openRange(path, 0, bytes);
  const parts: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts).subarray(0, bytes);
}

/** A sink that throws the bytes away (a stream read only to check it). */
export const discard = (): Writable => new Writable({ write: (_chunk, _enc, cb) => cb() });

export function byPath(a: EnvelopeFile, b: EnvelopeFile): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** An envelope written as a folder (Pastell `depot_type_depot` = 1). Sub-folders are read too. */
export function folderReader(dir: string): EnvelopeReader {
  const full = (path: string) => join(dir, ...path.split('/'));
  return {
    async list() {
      const out: EnvelopeFile[] = [];
      const pending = [''];
      while (pending.length > 0) {
        const rel = pending.shift()!;
        const entries: Dirent[] = await readdir(rel ? full(rel) : dir, { withFileTypes: true });
        for (const e of entries) {
          const path = rel ? `${rel}/${e.name}` : e.name;
          if (e.isDirectory()) pending.push(path);
          else if (e.isFile()) out.push({ path, size: (await stat(full(path))).size });
        }
      }
      return out.sort(byPath);
    },
    async open(path, chunkBytes = OPEN_CHUNK_BYTES) {
      return createReadStream(full(path), { highWaterMark: chunkBytes });
    },
    async openRange(path, start, end) {
      if (end <= start) return Readable.from([]);
      return createReadStream(full(path), { start, end: end - 1, highWaterMark: RANGE_CHUNK_BYTES });
    },
  };
}

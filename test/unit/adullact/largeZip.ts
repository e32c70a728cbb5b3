/**
 * Large zip envelopes for the Adullact measures: a zip written as a stream (an entry can
 * be a file on disk of any size, deflated on the way as PHP's ZipArchive does), and a
 * count of the entry inflations yauzl makes.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, createDeflateRaw, deflateRawSync } from 'node:zlib';
import { zipCentralHeader, zipEnd, zipLocalHeader, type ZipEntryHeader } from '../../fixtures/adullact/builders';

export interface LargeZipEntry {
  name: string;
  /** The content, or the path of a file holding it (streamed, never read whole). */
  content: Buffer | { file: string };
  /** Deflate (default) or store. Only buffers can be stored. */
  deflate?: boolean;
}

/**
 * Writes a zip as a stream. A file entry is deflated on the fly with a data descriptor
 * (general-purpose bit 3): its CRC-32 and sizes follow its data, and are in the central
 * directory (what yauzl reads). No zip64: entries and the zip stay under 4 GiB.
 */
export async function writeLargeZip(path: string, entries: LargeZipEntry[]): Promise<void> {
  const out = createWriteStream(path);
  let offset = 0;
  const write = async (b: Buffer) => {
    offset += b.length;
    if (!out.write(b)) await once(out, 'drain');
  };
  const centrals: Buffer[] = [];
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const method = e.deflate === false && Buffer.isBuffer(e.content) ? 0 : 8;
    const streamed = !Buffer.isBuffer(e.content);
    const flag = 0x800 | (streamed ? 0x8 : 0);
    const headerAt = offset;
    const header: ZipEntryHeader = { flag, method, crc: 0, stored: 0, size: 0, nameLength: name.length };
    if (Buffer.isBuffer(e.content)) {
      const data = method === 8 ? deflateRawSync(e.content) : e.content;
      header.crc = crc32(e.content);
      header.size = e.content.length;
      header.stored = data.length;
      await write(zipLocalHeader(header));
      await write(name);
      await write(data);
    } else {
      // CRC-32 and sizes are not known yet: zero in the local header, given by the data descriptor.
      await write(zipLocalHeader(header));
      await write(name);
      const tap = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          header.crc = crc32(chunk, header.crc);
          header.size += chunk.length;
          cb(null, chunk);
        },
      });
      const sink = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          header.stored += chunk.length;
          cb(null, chunk);
        },
      });
      await pipeline(createReadStream(e.content.file), tap, createDeflateRaw({ level: 1 }), sink, async function (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) await write(chunk);
      });
      const descriptor = Buffer.alloc(16);
      descriptor.writeUInt32LE(0x08074b50, 0);
      descriptor.writeUInt32LE(header.crc >>> 0, 4);
      descriptor.writeUInt32LE(header.stored, 8);
      descriptor.writeUInt32LE(header.size, 12);
      await write(descriptor);
    }
    centrals.push(zipCentralHeader(header, headerAt), name);
  }
  const cd = Buffer.concat(centrals);
  const cdAt = offset;
  await write(cd);
  await write(zipEnd(entries.length, cd.length, cdAt));
  out.end();
  await once(out, 'close');
}

/**
 * Counts the raw inflations started while `work` runs: yauzl inflates each deflated
 * entry it is asked to read through `zlib.createInflateRaw()`, looked up on the module at
 * every call, so wrapping it counts every time an entry's data is inflated from its start.
 * (Gunzip, which decodes the PES PJs, does not go through it.)
 */
export async function countInflations<T>(work: () => Promise<T>): Promise<{ value: T; inflations: number }> {
  const zlib = createRequire(__filename)('zlib') as typeof import('node:zlib');
  const original = zlib.createInflateRaw;
  let inflations = 0;
  const set = (fn: typeof original) => Object.defineProperty(zlib, 'createInflateRaw', { value: fn, writable: false, enumerable: true, configurable: true });
  set(((...args: Parameters<typeof original>) => {
    inflations++;
    return original(...args);
  }) as typeof original);
  try {
    return { value: await work(), inflations };
  } finally {
    set(original);
  }
}

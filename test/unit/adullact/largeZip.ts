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
    let crc = 0;
    let size = 0;
    let stored = 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flag, 6);
    local.writeUInt16LE(method, 8);
    if (Buffer.isBuffer(e.content)) {
      const data = method === 8 ? deflateRawSync(e.content) : e.content;
      crc = crc32(e.content);
      size = e.content.length;
      stored = data.length;
      local.writeUInt32LE(crc >>> 0, 14);
      local.writeUInt32LE(stored, 18);
      local.writeUInt32LE(size, 22);
      local.writeUInt16LE(name.length, 26);
      await write(local);
      await write(name);
      await write(data);
    } else {
      local.writeUInt16LE(name.length, 26);
      await write(local);
      await write(name);
      const tap = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          crc = crc32(chunk, crc);
          size += chunk.length;
          cb(null, chunk);
        },
      });
      const sink = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          stored += chunk.length;
          cb(null, chunk);
        },
      });
      await pipeline(createReadStream(e.content.file), tap, createDeflateRaw({ level: 1 }), sink, async function (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) await write(chunk);
      });
      const descriptor = Buffer.alloc(16);
      descriptor.writeUInt32LE(0x08074b50, 0);
      descriptor.writeUInt32LE(crc >>> 0, 4);
      descriptor.writeUInt32LE(stored, 8);
      descriptor.writeUInt32LE(size, 12);
      await write(descriptor);
    }
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flag, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(stored, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(headerAt, 42);
    centrals.push(central, name);
  }
  const cd = Buffer.concat(centrals);
  const cdAt = offset;
  await write(cd);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(cdAt, 16);
  await write(end);
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

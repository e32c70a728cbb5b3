/**
 * Broken envelopes for the Adullact tests: corrupt PES PJ, deflated zips with corrupt
 * entries, and envelope readers that fail the way a share does (the tests run as root,
 * so `chmod 000` cannot make a file unreadable: faults are injected through the source's
 * `openReader` seam instead).
 */
import { crc32, deflateRawSync, gunzipSync } from 'node:zlib';
import type { EnvelopeReader } from '../../../shared/sources/adullact/envelopeReader';
import { pesAller, type PesPj } from '../../fixtures/adullact/builders';

/**
 * A PES whose PJ number `index` (0-based) is broken: `gzip` breaks its deflate data
 * (the first block header becomes the reserved type: zlib's "invalid block type",
 * a Z_DATA_ERROR), `base64` puts a character that is not base64 in its text.
 */
export function pesWithBrokenPj(pjs: PesPj[], index: number, how: 'gzip' | 'base64'): Buffer {
  const pes = pesAller({ pjs }).toString('latin1');
  const re = /<Fichier[^>]*>([^<]*)<\/Fichier>/g;
  let m: RegExpExecArray | null;
  for (let i = 0; (m = re.exec(pes)); i++) {
    if (i !== index) continue;
    const start = m.index + m[0].indexOf('>') + 1;
    const text = m[1];
    let broken: string;
    if (how === 'base64') {
      broken = text.slice(0, 40) + '*' + text.slice(41);
    } else {
      const gz = Buffer.from(text.replace(/\s+/g, ''), 'base64');
      gz[10] = 0xff; // first deflate byte: BFINAL=1, BTYPE=11 (reserved)
      assertThrows(() => gunzipSync(gz));
      broken = gz.toString('base64').replace(/(.{76})/g, '$1\n');
    }
    return Buffer.from(pes.slice(0, start) + broken + pes.slice(start + text.length), 'latin1');
  }
  throw new Error(`the PES has no PJ ${index}`);
}

export interface ZipFileSpec {
  content: Buffer | string;
  /** Deflate instead of store (what PHP's ZipArchive does by default). */
  deflate?: boolean;
  /** Break the deflate data (zlib then fails with Z_DATA_ERROR while inflating). */
  corruptData?: boolean;
  /** Write a wrong CRC-32 (the data itself inflates fine). */
  wrongCrc?: boolean;
}

/** A zip of the given files, each stored or deflated, some of them broken on purpose. */
export function zipWith(files: Record<string, ZipFileSpec>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, spec] of Object.entries(files)) {
    const data = typeof spec.content === 'string' ? Buffer.from(spec.content) : spec.content;
    let stored = spec.deflate || spec.corruptData ? deflateRawSync(data) : data;
    if (spec.corruptData) {
      stored = Buffer.from(stored);
      stored[0] = 0xff; // BFINAL=1, BTYPE=11: "invalid block type"
    }
    const method = spec.deflate || spec.corruptData ? 8 : 0;
    const crc = (crc32(data) ^ (spec.wrongCrc ? 0xdeadbeef : 0)) >>> 0;
    const nameBytes = Buffer.from(name, 'utf8');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(stored.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(stored.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, stored);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + stored.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** A system error as Node raises them (`EACCES`, `EBUSY`, `ETIMEDOUT`...). */
export function systemError(code: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated, open '${path}'`), { code, errno: -13, syscall: 'open', path });
}

/** The reader, except that opening `path` fails with the given error. */
export function failingOpen(reader: EnvelopeReader, path: string, err: Error): EnvelopeReader {
  return {
    ...reader,
    open: async (p, chunk) => (p === path ? Promise.reject(err) : reader.open(p, chunk)),
    openRange: async (p, s, e) => (p === path ? Promise.reject(err) : reader.openRange(p, s, e)),
  };
}

function assertThrows(fn: () => unknown): void {
  try {
    fn();
  } catch {
    return;
  }
  throw new Error('the corruption did not break the gzip');
}

/**
 * Broken envelopes for the Adullact tests: corrupt PES PJ, deflated zips with corrupt
 * entries, and envelope readers that fail the way a share does (the tests run as root,
 * so `chmod 000` cannot make a file unreadable: faults are injected through the source's
 * `openReader` seam instead).
 */
import { crc32, deflateRawSync, gunzipSync } from 'node:zlib';
import type { EnvelopeReader } from '../../../shared/sources/adullact/envelopeReader';
import { pesAller, zipOfEntries, type PesPj } from '../../fixtures/adullact/builders';

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
  return zipOfEntries(
    Object.entries(files).map(([name, spec]) => {
      const content = typeof spec.content === 'string' ? Buffer.from(spec.content) : spec.content;
      const deflate = spec.deflate || spec.corruptData;
      let data = deflate ? deflateRawSync(content) : content;
      if (spec.corruptData) {
        data = Buffer.from(data);
        data[0] = 0xff; // BFINAL=1, BTYPE=11: "invalid block type"
      }
      const crc = (crc32(content) ^ (spec.wrongCrc ? 0xdeadbeef : 0)) >>> 0;
      return { name, data, flag: 0x800, method: deflate ? 8 : 0, crc, size: content.length };
    }),
  );
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

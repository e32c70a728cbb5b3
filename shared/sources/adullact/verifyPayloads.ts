import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { SourceError } from '../../errors';
import { RANGE_CHUNK_BYTES, discard, type EnvelopeReader } from './envelopeReader';
import { EnvelopeFormatError } from './errors';
import { Base64Decoder } from './payload';

/** One embedded payload to check: its byte range in the file, and what it is called. */
export interface PayloadToCheck {
  start: number;
  end: number;
  /** Base64 of gzip (a PES PJ), else plain base64. */
  gzip: boolean;
  /** Names the payload in messages: envelope, file, PJ number, NomPJ, IdUnique. */
  label: string;
}

/**
 * Decodes every payload of one file and throws the bytes away, in one streamed pass over
 * the file (a large zip entry is read from the temp file the zip check wrote, see
 * zipReader): base64 → gunzip (CRC-32 and length of the gzip trailer checked) → nowhere.
 * Memory stays constant whatever the file's size.
 *
 * Run before any document of the envelope is staged, so a corrupt PJ refuses the whole
 * envelope (EnvelopeFormatError `PJ_CORRUPT` / `BASE64_INVALID`, naming the PJ) instead
 * of being found half-way through staging. A read error of the file itself is not the
 * envelope's fault: it passes as it is and the envelope is tried again by a later run.
 */
export async function verifyPayloads(reader: EnvelopeReader, path: string, payloads: readonly PayloadToCheck[], what = path): Promise<void> {
  const todo = payloads.filter((p) => p.end > p.start).sort((a, b) => a.start - b.start);
  if (todo.length === 0) return;
  const source = await reader.open(path, RANGE_CHUNK_BYTES);
  const cursor = new ForwardCursor(source[Symbol.asyncIterator]() as AsyncIterator<Buffer>, what);
  try {
    for (const p of todo) {
      const stages: Transform[] = p.gzip ? [new Base64Decoder(p.label), createGunzip()] : [new Base64Decoder(p.label)];
      try {
        await pipeline([Readable.from(cursor.range(p.start, p.end)), ...stages, discard()]);
      } catch (err) {
        throw asCorrupt(err, p.label);
      }
    }
  } finally {
    source.destroy();
  }
}

/**
 * Reads a stream forward only, handing out the bytes of successive ranges; the bytes
 * between ranges are skipped, a chunk straddling two ranges is shared between them.
 */
class ForwardCursor {
  /** Byte offset of `rest`, or of the next chunk when there is no rest. */
  private pos = 0;
  private rest: Buffer | undefined;

  constructor(
    private readonly chunks: AsyncIterator<Buffer>,
    private readonly what: string,
  ) {}

  async *range(start: number, end: number): AsyncGenerator<Buffer> {
    if (start < this.pos) throw new Error(`ranges must come in order (${start} < ${this.pos})`);
    while (this.pos < end) {
      const chunk = this.rest ?? (await this.next());
      this.rest = undefined;
      const chunkStart = this.pos;
      const from = Math.max(start - chunkStart, 0);
      const to = Math.min(end - chunkStart, chunk.length); // > 0: pos < end
      if (to < chunk.length) this.rest = chunk.subarray(to);
      this.pos = chunkStart + to;
      if (to > from) yield chunk.subarray(from, to);
    }
  }

  private async next(): Promise<Buffer> {
    const r = await this.chunks.next();
    if (r.done) throw new SourceError('ENVELOPE_CHANGED', `${this.what}: the file is shorter than when it was read (changed meanwhile?); taken again by a later run`);
    return r.value;
  }
}

/** Decoding errors name the payload; anything else (a read error) passes as it is. */
function asCorrupt(err: unknown, label: string): unknown {
  if (err instanceof EnvelopeFormatError) return err;
  const code = String((err as NodeJS.ErrnoException | undefined)?.code ?? '');
  if (code.startsWith('Z_')) return new EnvelopeFormatError('PJ_CORRUPT', `${label}: the embedded gzip is corrupt (${(err as Error).message})`, { cause: err });
  return err;
}

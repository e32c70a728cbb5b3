import { Readable } from 'node:stream';
import { ColdError } from '../errors';
import { InMemoryBody } from '../staging/putIfAbsent';
import type { PartStore, StoredPart } from './partStore';

/** The parts of a small mail, held as Buffers (no temp file). */
export class MemoryPartStore implements PartStore {
  private disposed = false;

  /** A Buffer already in memory (the raw mail fetched whole). */
  hold(data: Buffer): StoredPart {
    return {
      size: data.length,
      open: (chunkSize) => {
        if (this.disposed) throw new ColdError('MAIL_DISPOSED', 'the documents of this mail were released: it is read again on the next run');
        // In chunks when asked (the parser works faster on 64 KB pieces than on one large
        // one); views of the same memory, nothing is copied.
        // Whole, it is an InMemoryBody: staging writes it with one request, without streaming.
        if (!chunkSize || chunkSize >= data.length) return new InMemoryBody(data);
        const chunks: Buffer[] = [];
        for (let at = 0; at < data.length; at += chunkSize) chunks.push(data.subarray(at, at + chunkSize));
        return Readable.from(chunks, { objectMode: false });
      },
      head: async (max) => data.subarray(0, max),
    };
  }

  keep(content: Readable): Promise<StoredPart> {
    // Plain listeners rather than an async iterator: cheaper, and a part is read once.
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      content.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
      });
      content.once('error', reject);
      content.once('end', () => resolve(this.hold(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))));
    });
  }

  async keepText(text: string): Promise<StoredPart> {
    return this.hold(Buffer.from(text, 'utf8'));
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}

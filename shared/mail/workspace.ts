import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PartStore, StoredPart } from './partStore';

/** Prefix of the temp folders of mails being read, so a leftover is recognisable. */
export const WORKSPACE_PREFIX = 'cold-mail-';
/** Read size of a part's temp file when it is staged. */
const READ_CHUNK = 1024 * 1024;

/**
 * The temp folder of one mail: the raw message and each of its parts, written once during
 * the single parse, read back when each document is staged, removed when the mail is done.
 */
export class MailWorkspace implements PartStore {
  private files = 0;
  private disposed = false;

  private constructor(readonly dir: string) {}

  static async create(parent: string = tmpdir()): Promise<MailWorkspace> {
    return new MailWorkspace(await mkdtemp(join(parent, WORKSPACE_PREFIX)));
  }

  /** A new file path in the workspace (never a name from the mail: those are not trusted). */
  newFile(suffix = 'part'): string {
    this.files++;
    return join(this.dir, `${String(this.files).padStart(4, '0')}.${suffix}`);
  }

  /** The file at `path` (written by the caller), as a part. */
  part(path: string, size: number): StoredPart {
    return {
      size,
      open: (chunkSize = READ_CHUNK) => createReadStream(path, { highWaterMark: chunkSize }),
      async head(max) {
        const file = await open(path, 'r');
        try {
          const buf = Buffer.alloc(Math.min(max, size));
          const { bytesRead } = await file.read(buf, 0, buf.length, 0);
          return buf.subarray(0, bytesRead);
        } finally {
          await file.close();
        }
      },
    };
  }

  async keep(content: Readable): Promise<StoredPart> {
    const path = this.newFile();
    const out = createWriteStream(path, { flags: 'wx' });
    await pipeline(content, out);
    return this.part(path, out.bytesWritten);
  }

  async keepText(text: string, suffix: string): Promise<StoredPart> {
    const path = this.newFile(suffix);
    await writeFile(path, text, { encoding: 'utf8', flag: 'wx' });
    return this.part(path, Buffer.byteLength(text, 'utf8'));
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await rm(this.dir, { recursive: true, force: true });
  }
}

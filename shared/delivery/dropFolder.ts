import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeliveryError } from '../errors';
import { unsafeSegmentReason } from '../routing/safeName';
import type { Delivery, DeliveryTarget } from './target';

/** Hidden folder beside the wait folders where files are written before the rename. */
export const TEMP_FOLDER = '.cold-launcher-tmp';
/** File-system errors that a later attempt may not meet again. */
const TRANSIENT_FS_CODES = new Set(['EBUSY', 'EAGAIN', 'ENOSPC', 'EIO', 'ETIMEDOUT', 'ECONNRESET', 'EMFILE', 'ENFILE', 'ESTALE', 'EHOSTDOWN']);

export interface DropFolderOptions {
  dropFolder: string;
  /** Create a missing wait folder instead of failing (demo, tests). */
  createWaitdirs: boolean;
}

/**
 * Delivery by writing into `<dropFolder>/<waitdir>/<name>`, as EzGED's own intake reads it:
 * written under a temporary name, flushed to disk, checked against the staged hash, then
 * renamed, so the COLD never reads half a file.
 */
export function createDropFolderTarget(opts: DropFolderOptions): DeliveryTarget {
  const root = resolve(opts.dropFolder);
  const tempDir = join(root, TEMP_FOLDER);

  async function waitdirPath(waitdir: string): Promise<string> {
    const why = unsafeSegmentReason(waitdir);
    if (why) throw new DeliveryError('UNSAFE_WAITDIR', `waitdir "${waitdir}" ${why}`, false);
    const dir = join(root, waitdir);
    if (opts.createWaitdirs) await mkdir(dir, { recursive: true });
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) {
      throw new DeliveryError('WAITDIR_NOT_FOUND', `wait folder ${dir} does not exist: no COLD reads it (create it, or fix the scenario's waitdir)`, false);
    }
    return dir;
  }

  return {
    description: `wait folders under ${root}`,
    async deliver(doc: Delivery) {
      const dir = await waitdirPath(doc.waitdir);
      const nameWhy = unsafeSegmentReason(doc.name);
      if (nameWhy) throw new DeliveryError('UNSAFE_NAME', `file name "${doc.name}" ${nameWhy}`, false);
      await mkdir(tempDir, { recursive: true }).catch(wrapFsError);
      const temp = join(tempDir, `${randomUUID()}.part`);
      const final = join(dir, doc.name);
      try {
        const hash = createHash('sha256');
        const hashing = new Transform({
          transform(chunk: Buffer, _e, cb) {
            hash.update(chunk);
            cb(null, chunk);
          },
        });
        await pipeline(doc.body, hashing, createWriteStream(temp, { flags: 'wx' }));
        const digest = hash.digest('hex');
        if (doc.sha256 && digest !== doc.sha256) {
          throw new DeliveryError('CONTENT_MISMATCH', `read ${doc.name} with hash ${digest.slice(0, 12)}… instead of the staged ${doc.sha256.slice(0, 12)}…`, true);
        }
        await fsync(temp);
        await rename(temp, final);
        await fsync(dir).catch(() => undefined); // directory fsync is not possible everywhere
        return { location: final };
      } catch (err) {
        await unlink(temp).catch(() => undefined);
        throw wrapFsError(err);
      }
    },
    async probe(waitdirs) {
      for (const w of new Set(waitdirs)) await waitdirPath(w);
    },
    close: async () => undefined,
  };
}

async function fsync(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function wrapFsError(err: unknown): never {
  if (err instanceof DeliveryError) throw err;
  const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
  throw new DeliveryError(`FS_${code}`, `writing into the wait folder failed: ${(err as Error).message}`, TRANSIENT_FS_CODES.has(code) || !code.startsWith('E'), { cause: err });
}

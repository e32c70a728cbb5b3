import { link, mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { freeName } from '../../util/freeName';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { splitExtension } from '../../routing/safeName';

/** What happens to a file once its document is safe: chosen by name, like Camel's completions. */
export type Completion = (path: string) => Promise<void>;

export function completionFor(afterSuccess: string, sourceDir: string): Completion {
  if (afterSuccess === 'delete') return deleteFile;
  if (afterSuccess.startsWith('move:')) {
    const dir = resolveFolder(afterSuccess.slice('move:'.length), sourceDir);
    return (path) => moveInto(path, dir).then(() => undefined);
  }
  throw new Error(`unknown afterSuccess "${afterSuccess}"`);
}

export function resolveFolder(folder: string, sourceDir: string): string {
  return isAbsolute(folder) ? folder : resolve(sourceDir, folder);
}

async function deleteFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * Moves a file into `dir` without overwriting anything there; returns its new path. `dir`
 * is created only when a move finds it missing (the first move into it, or someone removed
 * it), not once per file.
 */
export async function moveInto(path: string, dir: string): Promise<string> {
  try {
    return await placeInto(path, dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // The folder is missing (or the file is: then the next try fails the same way).
    await mkdir(dir, { recursive: true });
    return placeInto(path, dir);
  }
}

async function placeInto(path: string, dir: string): Promise<string> {
  const { stem, ext } = splitExtension(basename(path));
  for (let n = 0; ; n++) {
    const name = n === 0 ? basename(path) : `${stem}_${n}${ext ? '.' + ext : ''}`;
    const target = join(dir, name);
    try {
      // link + unlink never replaces an existing file (rename would).
      await link(path, target);
      await unlink(path);
      return target;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code === 'EPERM' || code === 'EXDEV' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') {
        // File systems without hard links (SMB, Azure Files): rename after checking.
        const free = await freeName(dir, basename(path));
        await rename(path, free);
        return free;
      }
      throw err;
    }
  }
}

/** Moves a file aside with `<name>.error.txt` beside it saying why. */
export async function putAsideFile(path: string, dir: string, reason: string, now: Date): Promise<string> {
  const moved = await moveInto(path, dir);
  await writeFile(`${moved}.error.txt`, `${now.toISOString()}\n${reason}\n`, 'utf8');
  return moved;
}

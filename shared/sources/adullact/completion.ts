import { cp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { freeName } from '../../util/freeName';
import { resolveFolder } from '../folder/afterSuccess';

/** What happens to an envelope (folder or zip) once all its documents are safe. */
export type EnvelopeCompletion = (path: string) => Promise<void>;

/** `delete` removes the folder (with its files) or the zip; `move:<folder>` moves it there. */
export function envelopeCompletion(afterSuccess: string, sourceDir: string): EnvelopeCompletion {
  if (afterSuccess === 'delete') return (path) => rm(path, { recursive: true, force: true });
  if (afterSuccess.startsWith('move:')) {
    const dir = resolveFolder(afterSuccess.slice('move:'.length), sourceDir);
    return (path) => moveEnvelopeInto(path, dir).then(() => undefined);
  }
  throw new Error(`unknown afterSuccess "${afterSuccess}"`);
}

/**
 * Moves a folder or zip into `dir` under a name not used there yet (`name_1`, `name_2`...):
 * an earlier envelope of the same name is never replaced. Across volumes: copy, then delete.
 */
export async function moveEnvelopeInto(path: string, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const target = await freeName(dir, basename(path));
  try {
    await rename(path, target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await cp(path, target, { recursive: true, errorOnExist: true, force: false, preserveTimestamps: true });
    await rm(path, { recursive: true, force: true });
  }
  return target;
}

/** Moves an envelope into quarantine with `<name>.error.txt` beside it saying why. */
export async function quarantineEnvelope(path: string, dir: string, reason: string, now: Date): Promise<string> {
  const moved = await moveEnvelopeInto(path, dir);
  await writeFile(`${moved}.error.txt`, `${now.toISOString()}\n${reason}\n`, 'utf8');
  return moved;
}

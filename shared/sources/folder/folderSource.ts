import { createReadStream, type Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { LauncherOf } from '../../config/schema';
import { ItemRejectedError, SourceError } from '../../errors';
import { compileFilenameFilter } from '../../routing/filenameFilter';
import { lengthCheck } from '../../util/lengthCheck';
import type { Candidate, Source, SourceContext, SourceDocument, SourceItem } from '../types';
import { completionFor, putAsideFile, resolveFolder } from './afterSuccess';
import { isHidden, isTemporary } from './skipRules';
import { StabilityTracker, type Observations } from './stability';

/** Default folder for files put aside, inside the source (hidden, so never scanned). */
export const DEFAULT_FAILED_FOLDER = '.cold-failed';
/** Files taken from one folder at once. */
export const FOLDER_CONCURRENCY = 4;
/** Largest read from a file at once. */
const READ_CHUNK_BYTES = 1024 * 1024;

export interface FolderItem extends SourceItem {
  path: string;
  name: string;
  size: number;
  mtimeMs: number;
}

type FolderLauncher = LauncherOf<'folder'>;

/**
 * The folder launcher's source: a directory on local disk, an SMB share or an Azure Files
 * mount. Item key: relative path + size + modification time, so a file replaced by a new
 * one under the same name is a new item, and the same file seen again is not.
 */
export async function createFolderSource(ctx: SourceContext<FolderLauncher>): Promise<Source<FolderItem>> {
  const { launcher } = ctx;
  const root = resolve(launcher.source);
  const accepts = compileFilenameFilter(launcher.filenameFilter);
  const complete = completionFor(launcher.afterSuccess, root);
  const failedDir = resolveFolder(launcher.failedFolder ?? DEFAULT_FAILED_FOLDER, root);
  const moveDir = launcher.afterSuccess.startsWith('move:') ? resolveFolder(launcher.afterSuccess.slice(5), root) : undefined;
  const excludedDirs = new Set([failedDir, moveDir].filter((d): d is string => !!d));

  await stat(root).catch((err: NodeJS.ErrnoException) => {
    throw new SourceError(
      err.code === 'ENOENT' ? 'SOURCE_NOT_FOUND' : 'SOURCE_UNREADABLE',
      `launcher ${launcher.id}: source folder ${root} ${err.code === 'ENOENT' ? 'does not exist' : 'cannot be read'} (${err.code})`,
      { cause: err },
    );
  });

  async function* walk(dir: string): AsyncGenerator<{ path: string; entry: Dirent }> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      throw new SourceError('SOURCE_UNREADABLE', `launcher ${launcher.id}: cannot list ${dir}`, { cause: err });
    }
    for (const entry of entries) yield { path: join(dir, entry.name), entry };
  }

  async function* scan(limit: number): AsyncGenerator<Candidate<FolderItem>> {
    const now = ctx.now();
    const tracker = new StabilityTracker((ctx.state.observations as Observations) ?? {}, launcher.delaySeconds, now);
    const ready: FolderItem[] = [];
    const pendingDirs = [root];
    while (pendingDirs.length > 0) {
      for await (const { path, entry } of walk(pendingDirs.shift()!)) {
        const rel = relative(root, path).split(sep).join('/');
        const skip = skipReason(entry, path);
        if (skip === 'descend') {
          pendingDirs.push(path);
          continue;
        }
        if (skip) {
          yield { verdict: 'skipped', label: rel, reason: skip };
          continue;
        }
        if (!accepts(entry.name)) {
          yield { verdict: 'filtered', label: rel, reason: `does not match the file-name filter ${launcher.filenameFilter}` };
          continue;
        }
        const st = await stat(path).catch(() => undefined);
        if (!st?.isFile()) continue; // vanished meanwhile
        const verdict = tracker.check(rel, st.size, st.mtimeMs);
        if (!verdict.stable) {
          yield { verdict: 'waiting', label: rel, reason: verdict.reason };
          continue;
        }
        ready.push({ key: `${rel}|${st.size}|${Math.trunc(st.mtimeMs)}`, label: rel, path, name: entry.name, size: st.size, mtimeMs: st.mtimeMs });
      }
    }
    ready.sort((a, b) => a.mtimeMs - b.mtimeMs || a.label.localeCompare(b.label));
    for (const [i, item] of ready.entries()) {
      if (i < limit) yield { verdict: 'ready', label: item.label, item };
      else {
        tracker.keep(item.label);
        yield { verdict: 'waiting', label: item.label, reason: `batch limit of ${limit} reached, taken by a later run` };
      }
    }
    ctx.state.observations = tracker.result();
  }

  function skipReason(entry: Dirent, path: string): string | 'descend' | undefined {
    if (!launcher.includeHidden && isHidden(entry.name)) return 'hidden';
    if (entry.isDirectory()) {
      if (excludedDirs.has(path)) return 'folder used by this launcher';
      return launcher.recursive ? 'descend' : 'subfolder (set "recursive": true to scan it)';
    }
    if (!entry.isFile()) return 'not a regular file';
    if (!launcher.includeTemporary && isTemporary(entry.name)) return 'temporary file';
    return undefined;
  }

  return {
    concurrency: FOLDER_CONCURRENCY,
    scan,
    async documents(item): Promise<SourceDocument[]> {
      if (item.size === 0) throw new ItemRejectedError('empty file (0 bytes): nothing to file');
      return [{ name: item.name, open: async () => openVerified(item) }];
    },
    acknowledge: (item) => complete(item.path),
    async putAside(item, reason) {
      await putAsideFile(item.path, failedDir, reason, ctx.now());
    },
    close: async () => undefined,
  };
}

/** Reads the file and fails if its size is not the one that was seen stable. */
function openVerified(item: FolderItem): Readable {
  const check = lengthCheck(item.size, (seen) => new SourceError('FILE_CHANGED', `${item.label} changed while it was read (${seen} bytes instead of ${item.size})`));
  // One read for a small file; bounded chunks for a large one.
  const file = createReadStream(item.path, { highWaterMark: Math.min(Math.max(item.size, 64 * 1024), READ_CHUNK_BYTES) });
  file.on('error', (err) => check.destroy(err));
  return file.pipe(check);
}

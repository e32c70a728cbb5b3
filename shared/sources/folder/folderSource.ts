import type { Dirent, Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import type { LauncherOf } from '../../config/schema';
import { ItemRejectedError, SourceError } from '../../errors';
import { compileFilenameFilter } from '../../routing/filenameFilter';
import type { Candidate, Source, SourceContext, SourceDocument, SourceItem } from '../types';
import { completionFor, putAsideFile, resolveFolder } from './afterSuccess';
import { openFile } from './openFile';
import { isHidden, isTemporary } from './skipRules';
import { StabilityTracker, type Observations } from './stability';

/** Default folder for files put aside, inside the source (hidden, so never scanned). */
export const DEFAULT_FAILED_FOLDER = '.cold-failed';
/** Files taken from one folder at once. */
export const FOLDER_CONCURRENCY = 4;
/** Files whose size and time a scan asks for at once. */
const STAT_BATCH = 32;

export interface FolderItem extends SourceItem {
  path: string;
  name: string;
  size: number;
  mtimeMs: number;
}

type FolderLauncher = LauncherOf<'folder'>;

/** One folder entry as the scan sees it (`stat` only for a file it may take). */
interface Look {
  entry: Dirent;
  path: string;
  skip: string | 'descend' | undefined;
  filtered: boolean;
  stat: Promise<Stats | undefined> | undefined;
}

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

  async function list(dir: string): Promise<Dirent[]> {
    try {
      return await readdir(dir, { withFileTypes: true });
    } catch (err) {
      throw new SourceError('SOURCE_UNREADABLE', `launcher ${launcher.id}: cannot list ${dir}`, { cause: err });
    }
  }

  /**
   * The entries of one folder with what the scan needs of each: why it is skipped, or
   * (files the filter accepts) its size and time, asked for STAT_BATCH files at once.
   */
  async function* look(dir: string): AsyncGenerator<Look> {
    const entries = await list(dir);
    for (let i = 0; i < entries.length; i += STAT_BATCH) {
      const batch = entries.slice(i, i + STAT_BATCH).map((entry): Look => {
        const path = join(dir, entry.name);
        const skip = skipReason(entry, path);
        const filtered = !skip && !accepts(entry.name);
        return { entry, path, skip, filtered, stat: skip || filtered ? undefined : stat(path).catch(() => undefined) };
      });
      yield* batch;
    }
  }

  async function* scan(limit: number): AsyncGenerator<Candidate<FolderItem>> {
    const now = ctx.now();
    const tracker = new StabilityTracker((ctx.state.observations as Observations) ?? {}, launcher.delaySeconds, now);
    const ready: FolderItem[] = [];
    const pendingDirs = [root];
    while (pendingDirs.length > 0) {
      for await (const { path, entry, skip, filtered, stat: statOf } of look(pendingDirs.shift()!)) {
        const rel = relative(root, path).split(sep).join('/');
        if (skip === 'descend') {
          pendingDirs.push(path);
          continue;
        }
        if (skip) {
          yield { verdict: 'skipped', label: rel, reason: skip };
          continue;
        }
        if (filtered) {
          yield { verdict: 'filtered', label: rel, reason: `does not match the file-name filter ${launcher.filenameFilter}` };
          continue;
        }
        const st = await statOf;
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
      return [{ name: item.name, open: () => openFile(item) }];
    },
    async acknowledge(item) {
      // A file replaced since it was read (a scanner writing the same name again) is not
      // the one staged: leave it, the next run takes the new content.
      const now = await stat(item.path).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      if (!now) return;
      // Whole milliseconds, as the item's key: a share may give sub-millisecond noise.
      if (now.size !== item.size || Math.trunc(now.mtimeMs) !== Math.trunc(item.mtimeMs)) {
        throw new SourceError('FILE_CHANGED', `${item.label} changed after it was staged: left in place, its new content is taken by the next run`);
      }
      await complete(item.path);
    },
    async putAside(item, reason) {
      await putAsideFile(item.path, failedDir, reason, ctx.now());
    },
    close: async () => undefined,
  };
}

import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SourceError } from '../../errors';
import { isHidden } from '../folder/skipRules';
import type { StabilityTracker } from '../folder/stability';

/** Where one envelope lies: a folder (`depot_type_depot` 1) or a `.zip` (2). */
export interface EnvelopeLocation {
  name: string;
  path: string;
  kind: 'folder' | 'zip';
  /** Latest modification seen in it (oldest envelopes are taken first). */
  mtimeMs: number;
  /** Bytes in it (all files of a folder, or the zip). */
  size: number;
}

export type Discovery =
  | { verdict: 'complete'; envelope: EnvelopeLocation; how: 'marker' | 'unchanged' }
  | { verdict: 'waiting' | 'skipped' | 'filtered'; label: string; reason: string };

export interface DiscoveryOptions {
  endMarker: string;
  /** A folder without its end marker waits, whatever `delaySeconds` says (zips have none). */
  requireEndMarker?: boolean;
  tracker: StabilityTracker;
  /** Folders of the launcher itself (quarantine, move target): never envelopes. */
  excluded: ReadonlySet<string>;
  accepts(name: string): boolean;
  filterText?: string;
}

/**
 * Lists the envelopes Pastell deposited at the top of `root` and says which are complete:
 * a folder is complete when its end marker is there (Pastell writes it last), or, without
 * a marker, when nothing in it changed for `delaySeconds` (the folder launcher's "changed"
 * read lock, reused), unless `requireEndMarker`; a zip has no marker and is complete once
 * unchanged.
 */
export async function* discoverEnvelopes(root: string, opts: DiscoveryOptions): AsyncGenerator<Discovery> {
  let entries: Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (err) {
    throw new SourceError('SOURCE_UNREADABLE', `cannot list ${root}`, { cause: err });
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(root, entry.name);
    if (isHidden(entry.name)) {
      yield { verdict: 'skipped', label: entry.name, reason: 'hidden' };
      continue;
    }
    if (opts.excluded.has(path)) {
      yield { verdict: 'skipped', label: entry.name, reason: 'folder used by this launcher' };
      continue;
    }
    const isZip = entry.isFile() && /\.zip$/i.test(entry.name);
    if (!entry.isDirectory() && !isZip) {
      yield { verdict: 'skipped', label: entry.name, reason: 'not an envelope: Pastell writes one folder or one .zip per document (files at the root are not supported)' };
      continue;
    }
    if (!opts.accepts(entry.name)) {
      yield { verdict: 'filtered', label: entry.name, reason: `does not match the file-name filter ${opts.filterText ?? ''}`.trim() };
      continue;
    }
    const seen = isZip ? await zipState(path) : await folderState(path, opts.endMarker);
    if (!seen) continue; // vanished meanwhile
    const envelope: EnvelopeLocation = { name: entry.name, path, kind: isZip ? 'zip' : 'folder', mtimeMs: seen.mtimeMs, size: seen.size };
    if (seen.marker) {
      yield { verdict: 'complete', envelope, how: 'marker' };
      continue;
    }
    if (seen.files === 0) {
      yield { verdict: 'waiting', label: entry.name, reason: 'empty folder' };
      continue;
    }
    if (opts.requireEndMarker && !isZip) {
      yield { verdict: 'waiting', label: entry.name, reason: `no end marker ${opts.endMarker} yet (requireEndMarker: a folder is taken only once it is there)` };
      continue;
    }
    const stable = opts.tracker.check(entry.name, seen.size + seen.files, seen.mtimeMs);
    if (stable.stable) yield { verdict: 'complete', envelope, how: 'unchanged' };
    else yield { verdict: 'waiting', label: entry.name, reason: `no end marker ${opts.endMarker}; ${stable.reason}` };
  }
}

interface SeenState {
  size: number;
  mtimeMs: number;
  files: number;
  marker: boolean;
}

async function zipState(path: string): Promise<SeenState | undefined> {
  const st = await stat(path).catch(() => undefined);
  return st?.isFile() ? { size: st.size, mtimeMs: st.mtimeMs, files: 1, marker: false } : undefined;
}

/** Total size, file count and latest modification (files and folders) of a folder tree. */
async function folderState(path: string, endMarker: string): Promise<SeenState | undefined> {
  const top = await stat(path).catch(() => undefined);
  if (!top?.isDirectory()) return undefined;
  const state: SeenState = { size: 0, mtimeMs: top.mtimeMs, files: 0, marker: false };
  const marker = endMarker.toLowerCase();
  const pending = [path];
  while (pending.length > 0) {
    const dir = pending.shift()!;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[]);
    for (const e of entries) {
      const full = join(dir, e.name);
      const st = await stat(full).catch(() => undefined);
      if (!st) continue;
      state.mtimeMs = Math.max(state.mtimeMs, st.mtimeMs);
      if (st.isDirectory()) pending.push(full);
      else if (st.isFile()) {
        if (dir === path && e.name.toLowerCase() === marker) state.marker = true;
        else {
          state.size += st.size;
          state.files++;
        }
      }
    }
  }
  return state;
}

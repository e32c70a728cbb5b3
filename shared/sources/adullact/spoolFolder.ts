import { rmSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Prefix of the temp folders of zip envelopes being read: `cold-adullact-<pid>-<random>`. */
export const SPOOL_PREFIX = 'cold-adullact-';
/** A spool folder's name, giving the id of the process that made it. */
const SPOOL_NAME = new RegExp(`^${SPOOL_PREFIX}(\\d+)-`);
/** A spool folder of a live process older than this is a leftover all the same. */
export const STALE_SPOOL_MS = 24 * 3600_000;

/** Spool folders of this process not removed yet: removed at exit, never swept. */
const live = new Set<string>();
let exitHooked = false;

/**
 * The temp folder of one zip envelope: its large entries, inflated once (CRC-32 checked)
 * while the zip is checked, then read from here like the files of a folder envelope.
 * Removed when the envelope is done with (staged, put aside, or failed) or the source is
 * closed; at the latest when the process exits. A process killed outright leaves it: the
 * next process sweeps such leftovers (see sweepStaleSpools).
 */
export class SpoolFolder {
  private files = 0;
  private disposed = false;

  private constructor(readonly dir: string) {}

  static async create(root: string = tmpdir()): Promise<SpoolFolder> {
    const dir = await mkdtemp(join(root, `${SPOOL_PREFIX}${process.pid}-`));
    live.add(dir);
    hookExit();
    return new SpoolFolder(dir);
  }

  /** A new file path in the folder (never a name from the zip: those are not trusted). */
  newFile(): string {
    this.files++;
    return join(this.dir, `${String(this.files).padStart(4, '0')}.entry`);
  }

  /** Removes the folder. A file still open (Windows) keeps it: retried at exit. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    try {
      await rm(this.dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
      live.delete(this.dir);
    } catch {
      /* left for the exit hook, or the next process's sweep */
    }
  }
}

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const dir of live) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        /* the next process sweeps it */
      }
    }
  });
}

const sweeps = new Map<string, Promise<string[]>>();

/** sweepStaleSpools, once per process and folder (it only finds what a crash left). */
export function sweepStaleSpoolsOnce(root: string = tmpdir()): Promise<string[]> {
  let sweep = sweeps.get(root);
  if (!sweep) sweeps.set(root, (sweep = sweepStaleSpools(root)));
  return sweep;
}

/**
 * Removes the spool folders a process left behind when it was killed (no exit hook ran):
 * those of a process that no longer runs, those of an earlier process that had this
 * process's id (containers reuse ids), and any older than STALE_SPOOL_MS. Returns what
 * it removed; never throws.
 */
export async function sweepStaleSpools(root: string = tmpdir(), now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return removed;
  }
  const startedAt = now - process.uptime() * 1000;
  for (const name of names) {
    const m = SPOOL_NAME.exec(name);
    if (!m) continue;
    const dir = join(root, name);
    if (live.has(dir)) continue;
    const pid = Number(m[1]);
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) continue;
    const stale = pid === process.pid ? st.mtimeMs < startedAt : !isRunning(pid) || now - st.mtimeMs > STALE_SPOOL_MS;
    if (!stale) continue;
    try {
      await rm(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      /* tried again by the next process */
    }
  }
  return removed;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

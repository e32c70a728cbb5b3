import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Prefix of the temp folders of mails being read, so a leftover is recognisable. */
export const WORKSPACE_PREFIX = 'cold-mail-';

/**
 * The temp folder of one mail: the raw message and each of its parts, written once during
 * the single parse, read back when each document is staged, removed when the mail is done.
 */
export class MailWorkspace {
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

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await rm(this.dir, { recursive: true, force: true });
  }
}

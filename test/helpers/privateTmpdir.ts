import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Gives this test file a temp folder of its own (os.tmpdir() follows TMPDIR), for tests that
 * check no temp file is left while other test files create theirs at the same time. 0755:
 * Dovecot's auth process (another user) must traverse it to the test's users file.
 */
export function usePrivateTmpdir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  process.env.TMPDIR = dir;
  return dir;
}

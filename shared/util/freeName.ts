import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { splitExtension } from '../routing/safeName';

/** `dir/name`, or `dir/stem_1.ext`, `dir/stem_2.ext`... : the first path nothing uses yet. */
export async function freeName(dir: string, name: string): Promise<string> {
  const { stem, ext } = splitExtension(name);
  for (let n = 0; ; n++) {
    const candidate = join(dir, n === 0 ? name : `${stem}_${n}${ext ? '.' + ext : ''}`);
    try {
      await access(candidate);
    } catch {
      return candidate;
    }
  }
}

import type { Settings } from '../../config/settings';
import { ColdError } from '../../errors';
import { decodeMetadata, encodeMetadata, withDocumentFacts } from '../../staging/metadata';
import type { Logger } from '../../util/log';
import { openSession } from '../session';

/**
 * `cold-launcher retry ID|--all`: puts dead letters back into staging with a fresh
 * attempt count. ID is a dead letter's blob name or a launcher id (all of its dead letters).
 */
export async function retryCommand(id: string | undefined, flags: { config?: string; all: boolean }, settings: Settings, logger: Logger, out: (line: string) => void): Promise<number> {
  if (!id && !flags.all) throw new ColdError('USAGE', 'say which dead letters to retry: a blob name, a launcher id, or --all');
  const session = await openSession({ config: flags.config }, settings, logger);
  try {
    let moved = 0;
    const failed = session.store.container('failed');
    for await (const b of session.store.list('failed')) {
      const props = await failed.getBlobClient(b.name).getProperties();
      const meta = decodeMetadata(props.metadata);
      if (!flags.all && b.name !== id && meta.launcherId !== id) continue;
      const fresh = { ...meta, attempts: 0, lastError: undefined, reason: undefined, failedAt: undefined, nextAttemptAt: undefined };
      await session.store.move('failed', 'staging', b.name, withDocumentFacts(props.metadata, encodeMetadata(fresh)));
      logger.info(`"${meta.fileName}" put back into staging`, { launcherId: meta.launcherId, blob: b.name });
      moved++;
    }
    out(`${moved} dead letter${moved === 1 ? '' : 's'} put back into staging; the next run delivers ${moved === 1 ? 'it' : 'them'}`);
    return 0;
  } finally {
    await session.close();
  }
}

import type { Settings } from '../../config/settings';
import { loadLauncherState } from '../../staging/launcherState';
import { decodeMetadata } from '../../staging/metadata';
import type { Logger } from '../../util/log';
import { table } from '../output';
import { openSession } from '../session';

/** Delivered documents counted in the status are those of the last this many hours. */
const RECENT_HOURS = 24;

/**
 * `cold-launcher status`: per launcher, its last run, items in flight, documents waiting in
 * staging, delivered recently and dead letters; then each dead letter with its reason.
 */
export async function statusCommand(flags: { config?: string }, settings: Settings, logger: Logger, out: (line: string) => void): Promise<number> {
  const session = await openSession({ config: flags.config }, settings, logger);
  try {
    const count = new Map<string, { staging: number; delivered: number; failed: number }>();
    const bump = (id: string, k: 'staging' | 'delivered' | 'failed') => {
      const c = count.get(id) ?? { staging: 0, delivered: 0, failed: 0 };
      c[k]++;
      count.set(id, c);
    };
    const since = Date.now() - RECENT_HOURS * 3_600_000;
    const deadLetters: string[][] = [['DEAD LETTER', 'LAUNCHER', 'FILE', 'ATTEMPTS', 'REASON']];
    for (const role of ['staging', 'archive', 'failed'] as const) {
      for await (const b of session.store.container(role).listBlobsFlat({ includeMetadata: true })) {
        const meta = decodeMetadata(b.metadata);
        if (role === 'staging') bump(meta.launcherId, 'staging');
        else if (role === 'archive' && (b.properties.lastModified?.getTime() ?? 0) >= since) bump(meta.launcherId, 'delivered');
        else if (role === 'failed') {
          bump(meta.launcherId, 'failed');
          deadLetters.push([b.name, meta.launcherId, meta.fileName, String(meta.attempts), meta.reason ?? meta.lastError ?? '']);
        }
      }
    }
    const rows = [['LAUNCHER', 'PROTOCOL', 'LAST RUN', 'IN FLIGHT', 'STAGED', `DELIVERED ${RECENT_HOURS} H`, 'DEAD LETTERS']];
    for (const l of session.config.launchers) {
      const state = await loadLauncherState(session.store, l.id);
      const c = count.get(l.id) ?? { staging: 0, delivered: 0, failed: 0 };
      rows.push([l.id, l.protocol + (l.enabled ? '' : ' (disabled)'), state.lastRunAt ?? 'never', String(Object.keys(state.inflight).length), String(c.staging), String(c.delivered), String(c.failed)]);
    }
    out(table(rows));
    if (deadLetters.length > 1) {
      out('');
      out(table(deadLetters));
      out('Put them back with: cold-launcher retry <DEAD LETTER | LAUNCHER> (or --all), once the cause is fixed.');
    }
    return 0;
  } finally {
    await session.close();
  }
}

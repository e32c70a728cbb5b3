import type { Settings } from '../../config/settings';
import { ColdError, ItemRejectedError, describeError } from '../../errors';
import { createRouter } from '../../routing/scenarios';
import { deliveredName } from '../../routing/safeName';
import { documentBlobNames } from '../../staging/blobNames';
import { loadLauncherState } from '../../staging/launcherState';
import { openSource } from '../../sources';
import type { Logger } from '../../util/log';
import { table } from '../output';
import { openSession } from '../session';

/**
 * `cold-launcher preview ID`: what the launcher would take now (file, filter verdict,
 * scenario, final name), touching nothing: no staging, no acknowledgement, no state saved.
 */
export async function previewCommand(id: string, flags: { config?: string }, settings: Settings, logger: Logger, out: (line: string) => void): Promise<number> {
  const session = await openSession({ config: flags.config }, settings, logger);
  try {
    const launcher = session.config.launchers.find((l) => l.id === id);
    if (!launcher) throw new ColdError('UNKNOWN_LAUNCHER', `no launcher with id "${id}" (ids: ${session.config.launchers.map((l) => l.id).join(', ')})`);
    const state = await loadLauncherState(session.store, launcher.id);
    const source = await openSource({ launcher, state: state.source, logger, now: () => new Date(), store: session.store, settings, readOnly: true });
    const route = createRouter(launcher.scenarios);
    const rows = [['ITEM', 'VERDICT', 'SCENARIO', 'DELIVERED AS / REASON']];
    try {
      for await (const c of source.scan(launcher.maxItemsPerRun)) {
        if (c.verdict !== 'ready') {
          rows.push([c.label, c.verdict, '', c.reason]);
          continue;
        }
        try {
          const docs = await source.documents(c.item);
          const blobs = documentBlobNames(launcher.id, c.item.key, docs.map((d) => d.name));
          docs.forEach((doc, i) => {
            const s = route(doc);
            const label = docs.length > 1 ? `${c.label} › ${doc.name}` : c.label;
            if (!s) rows.push([label, 'no scenario', '', 'stays at the source: no scenario for this extension and no default']);
            else rows.push([label, 'take', `${s.waitdir}${s.job ? ` (job ${s.job})` : ''}`, deliveredName(doc.name, blobs[i]!)]);
          });
        } catch (err) {
          rows.push([c.label, err instanceof ItemRejectedError ? 'put aside' : 'error', '', describeError(err)]);
        }
      }
    } finally {
      await source.close();
    }
    out(`Launcher ${launcher.id} (${launcher.protocol}) ${launcher.description ? '– ' + launcher.description : ''}`);
    out(rows.length > 1 ? table(rows) : '(nothing at the source)');
    return 0;
  } finally {
    await session.close();
  }
}

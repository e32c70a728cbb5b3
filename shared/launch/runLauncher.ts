import type { LauncherDefinition } from '../config/schema';
import { ColdError, ItemRejectedError, describeError } from '../errors';
import { createRouter, type Router } from '../routing/scenarios';
import { parseSchedule } from '../schedule/ezgedSchedule';
import type { BlobStore } from '../staging/blobStore';
import { loadLauncherState, saveLauncherState } from '../staging/launcherState';
import { openSource } from '../sources';
import type { Source, SourceItem } from '../sources/types';
import { mapConcurrent } from '../util/concurrency';
import { failpoint } from '../util/failpoints';
import type { Logger } from '../util/log';
import { emptyReport, type LaunchReport } from './report';
import type { Settlement } from './settlement';
import { stageItem } from './stageItem';

export interface RunOptions {
  store: BlobStore;
  settlement: Settlement;
  logger: Logger;
  timezone?: string;
  /** Run even if no schedule row is due (CLI `--once`). */
  force?: boolean;
  now?: () => Date;
}

/**
 * One run of one launcher: due check → scan → for each ready item: documents → route →
 * stage → acknowledge (per the settlement) — or put aside with the reason. One item's
 * failure never stops the others; a source that cannot be reached fails the run only.
 */
export async function runLauncher(launcher: LauncherDefinition, opts: RunOptions): Promise<LaunchReport> {
  const now = opts.now ?? (() => new Date());
  const report = emptyReport(launcher.id, launcher.protocol);
  const log = opts.logger.child({ launcherId: launcher.id, protocol: launcher.protocol });
  if (!launcher.enabled) return report;

  const state = await loadLauncherState(opts.store, launcher.id);
  const startedAt = now();
  if (!opts.force) {
    const schedule = parseSchedule(launcher.schedule, opts.timezone);
    if (!schedule.isDue(state.lastRunAt ? new Date(state.lastRunAt) : undefined, startedAt)) return report;
  }
  report.ran = true;
  state.lastRunAt = startedAt.toISOString();

  let source: Source | undefined;
  try {
    source = await openSource({ launcher, state: state.source, logger: log, now });
    const route = createRouter(launcher.scenarios);
    const ready = readyItems(source, launcher.maxItemsPerRun, report, log);
    await mapConcurrent(ready, source.concurrency, async (item) => {
      const itemLog = log.child({ item: item.label });
      try {
        await processItem(source!, route, item, itemLog);
      } catch (err) {
        report.failed++;
        itemLog.error(`"${item.label}" failed, left at the source for the next run: ${describeError(err)}`, { err });
      }
    });
  } catch (err) {
    report.error = describeError(err);
    log.error(`launcher ${launcher.id} could not run: ${report.error}`, { err, code: (err as ColdError).code });
  } finally {
    await source?.close().catch((err) => log.warn('closing the source failed', { err }));
    await saveLauncherState(opts.store, launcher.id, state);
  }
  return report;

  async function processItem(src: Source, route: Router, item: SourceItem, itemLog: Logger): Promise<void> {
    let result;
    try {
      const docs = await src.documents(item);
      result = await stageItem(opts.store, launcher, route, item, docs, itemLog, now());
    } catch (err) {
      if (!(err instanceof ItemRejectedError)) throw err;
      await src.putAside(item, err.message);
      report.putAside++;
      itemLog.warn(`"${item.label}" put aside: ${err.message}`, { reason: err.message });
      return;
    }
    if (result.status === 'unrouted') {
      report.unrouted++;
      itemLog.warn(`"${item.label}" left at the source: no scenario for ${result.documents.map((d) => `"${d}"`).join(', ')} and no default scenario`);
      return;
    }
    report.staged += result.written;
    if (!result.fresh) report.alreadyStaged++;
    if (await opts.settlement.isSettled(result.manifest, result.fresh && result.written === result.manifest.documents.length)) {
      failpoint('before-acknowledge');
      await src.acknowledge(item);
      report.acknowledged++;
      itemLog.debug(`"${item.label}" acknowledged at the source`);
    } else {
      report.pendingAcknowledgement++;
      itemLog.info(`"${item.label}" kept at the source until its documents are ${opts.settlement.mode}`);
    }
  }
}

async function* readyItems(source: Source, limit: number, report: LaunchReport, log: Logger): AsyncGenerator<SourceItem> {
  for await (const c of source.scan(limit)) {
    if (c.verdict === 'ready') {
      report.found++;
      yield c.item;
      continue;
    }
    report[c.verdict]++;
    if (c.verdict === 'waiting') log.debug(`"${c.label}" waiting: ${c.reason}`);
  }
}

import type { LauncherDefinition } from '../config/schema';
import type { Settings } from '../config/settings';
import { ColdError, ItemRejectedError, SourceUnavailableError, describeError } from '../errors';
import { createRouter, type Router } from '../routing/scenarios';
import { parseSchedule, type Schedule } from '../schedule/ezgedSchedule';
import type { BlobStore } from '../staging/blobStore';
import { INFLIGHT_RETENTION_DAYS, loadLauncherState, saveLauncherState, type LauncherState } from '../staging/launcherState';
import { describeStored, storedDocuments } from '../staging/storedDocuments';
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
  /** App settings, for sources that read their own (O365 token cache key...). */
  settings?: Settings;
  /** Opens the launcher's source (default: the protocol registry). */
  openSource?: typeof openSource;
  /** Run even if no schedule row is due (CLI `--once`). */
  force?: boolean;
  now?: () => Date;
}

/**
 * One run of one launcher: due check → scan → record the batch as in flight → for each
 * ready item: documents → route → stage → acknowledge (per the settlement), or put aside
 * with the reason. One item's failure never stops the others; a source that cannot be
 * reached fails this launcher's run only.
 */
export async function runLauncher(launcher: LauncherDefinition, opts: RunOptions): Promise<LaunchReport> {
  const now = opts.now ?? (() => new Date());
  const report = emptyReport(launcher.id, launcher.protocol);
  const log = opts.logger.child({ launcherId: launcher.id, protocol: launcher.protocol });
  if (!launcher.enabled) return report;

  const couldNotRun = (err: unknown) => {
    report.error = describeError(err);
    log.error(`launcher ${launcher.id} could not run: ${report.error}`, { err, code: (err as ColdError).code });
  };
  const startedAt = now();
  let state: LauncherState;
  let followUp = false;
  try {
    state = await loadLauncherState(opts.store, launcher.id);
    const schedule = opts.force ? undefined : parseSchedule(launcher.schedule, opts.timezone);
    if (schedule && !schedule.isDue(state.lastRunAt ? new Date(state.lastRunAt) : undefined, startedAt)) {
      followUp = state.followUpAt !== undefined && Date.parse(state.followUpAt) <= startedAt.getTime();
      if (!followUp) {
        logFirstWait(launcher.id, schedule, state, startedAt, log);
        return report;
      }
      log.debug('a follow-up look for items that were waiting');
    }
  } catch (err) {
    // This launcher's state or schedule is at fault: the other launchers still run.
    couldNotRun(err);
    return report;
  }
  report.ran = true;
  state.lastRunAt = startedAt.toISOString();
  if (!followUp) state.scheduledRunAt = state.lastRunAt;
  delete state.followUpAt;
  const resumable = new Set(Object.keys(state.inflight));
  // Settled items leave the in-flight set only once the source is closed cleanly: some
  // sources commit their acknowledgements at close (POP3's QUIT commits its DELEs).
  const settled: string[] = [];
  // Items at the source now: never forgotten as stale, however long they stay in flight
  // (an item left at its source because part of it is staged would otherwise be taken
  // as new after INFLIGHT_RETENTION_DAYS and written again).
  const seenNow = new Set<string>();

  let source: Source | undefined;
  try {
    source = await (opts.openSource ?? openSource)({ launcher, state: state.source, logger: log, now, store: opts.store, settings: opts.settings });
    const ready = await collectReady(source, launcher.maxItemsPerRun, report, log);
    for (const item of ready) seenNow.add(item.key);
    if (ready.length > 0) {
      // Before anything is written for them: a crash from here on leaves a trace.
      for (const item of ready) state.inflight[item.key] ??= startedAt.toISOString();
      await saveLauncherState(opts.store, launcher.id, state);
      failpoint('after-inflight');
    }
    const route = createRouter(launcher.scenarios);
    await mapConcurrent(ready, source.concurrency, async (item) => {
      const itemLog = log.child({ item: item.label });
      try {
        await processItem(source!, route, item, itemLog);
      } catch (err) {
        if (err instanceof SourceUnavailableError) throw err; // stops the batch: the run fails
        report.failed++;
        itemLog.error(`"${item.label}" failed, left at the source for the next run: ${describeError(err)}`, { err });
      }
    });
  } catch (err) {
    couldNotRun(err);
  } finally {
    const closed = await source?.close().then(
      () => true,
      (err) => {
        log.warn('closing the source failed: its acknowledgements are checked again next run', { err });
        return false;
      },
    );
    if (closed) for (const key of settled) delete state.inflight[key];
    forgetStale(state, startedAt, seenNow);
    planFollowUp(state, launcher, report, now());
    await saveLauncherState(opts.store, launcher.id, state);
  }
  return report;

  async function processItem(src: Source, route: Router, item: SourceItem, itemLog: Logger): Promise<void> {
    let result;
    try {
      const docs = await src.documents(item);
      result = await stageItem(opts.store, launcher, route, item, docs, { resumed: resumable.has(item.key), log: itemLog, now: now() });
    } catch (err) {
      if (!(err instanceof ItemRejectedError)) throw err;
      // Rejected after part of it was written (a file found corrupt while it was staged,
      // after the checks passed): putting it aside would give EzGED part of the item.
      const stored = await storedDocuments(opts.store, launcher.id, item.key);
      if (stored.length > 0) {
        report.failed++;
        itemLog.warn(
          `"${item.label}" cannot be taken (${err.message}), but part of it is already staged (${describeStored(stored)}): ` +
            'left at the source, not put aside, so that EzGED does not get part of it only; check it by hand',
          { reason: err.message },
        );
        return;
      }
      await src.putAside(item, err.message);
      settled.push(item.key);
      report.putAside++;
      itemLog.warn(`"${item.label}" put aside: ${err.message}`, { reason: err.message });
      return;
    }
    if (result.status === 'unrouted') {
      settled.push(item.key);
      report.unrouted++;
      itemLog.warn(`"${item.label}" left at the source: no scenario for ${result.documents.map((d) => `"${d}"`).join(', ')} and no default scenario`);
      return;
    }
    report.staged += result.written;
    if (!result.complete) report.alreadyStaged++;
    if (await opts.settlement.isSettled(result.blobs, result.complete)) {
      failpoint('before-acknowledge');
      await src.acknowledge(item);
      settled.push(item.key);
      report.acknowledged++;
      itemLog.debug(`"${item.label}" acknowledged at the source`);
    } else {
      report.pendingAcknowledgement++;
      itemLog.info(`"${item.label}" kept at the source until its documents are ${opts.settlement.mode}`);
    }
  }
}

/** Scans the source; counts what is not ready; returns the ready items (at most `limit`). */
async function collectReady(source: Source, limit: number, report: LaunchReport, log: Logger): Promise<SourceItem[]> {
  const ready: SourceItem[] = [];
  for await (const c of source.scan(limit)) {
    if (c.verdict === 'ready') {
      report.found++;
      ready.push(c.item);
      continue;
    }
    report[c.verdict]++;
    // Every run sees these again (subfolders, hidden files...): debug, not info.
    log.debug(`"${c.label}" ${c.verdict}: ${c.reason}`);
  }
  return ready;
}

/** How long after a scheduled run follow-up looks may go on (a file that keeps changing). */
const FOLLOW_UP_WINDOW_MS = 60 * 60_000;
/** The shortest wait before a follow-up look (a launcher with delaySeconds 0 and a full batch). */
const MIN_FOLLOW_UP_MS = 1_000;

/**
 * Items were waiting (not yet unchanged for `delaySeconds`, or past the batch limit) or
 * failed (left for the next run): look again once they may be ready, schedule or not, for
 * at most FOLLOW_UP_WINDOW_MS after the scheduled run. Without it, a file first seen at a
 * daily run would wait a whole day. `endedAt`: the end of this run, so the wait counts from
 * after its look.
 */
function planFollowUp(state: LauncherState, launcher: LauncherDefinition, report: LaunchReport, endedAt: Date): void {
  if ((report.waiting === 0 && report.failed === 0) || report.error) return;
  const at = endedAt.getTime() + Math.max(launcher.delaySeconds * 1000, MIN_FOLLOW_UP_MS);
  const scheduled = Date.parse(state.scheduledRunAt ?? state.lastRunAt ?? '');
  if (at - scheduled <= FOLLOW_UP_WINDOW_MS) state.followUpAt = new Date(at).toISOString();
}

/** Launchers already said to be waiting for their first occurrence (once per process). */
const firstWaitLogged = new Set<string>();

/** A launcher that never ran and is not due yet says when it will first run, once. */
function logFirstWait(launcherId: string, schedule: Schedule, state: LauncherState, now: Date, log: Logger): void {
  if (state.lastRunAt || firstWaitLogged.has(launcherId)) return;
  firstWaitLogged.add(launcherId);
  const next = schedule.next(now);
  log.info(`launcher ${launcherId} waits for its first scheduled run${next ? ` (${next.toISOString()})` : ': its schedule has no occurrence left'}`);
}

function forgetStale(state: LauncherState, now: Date, atSourceNow: ReadonlySet<string>): void {
  const limit = now.getTime() - INFLIGHT_RETENTION_DAYS * 86_400_000;
  for (const [key, since] of Object.entries(state.inflight)) if (Date.parse(since) < limit && !atSourceNow.has(key)) delete state.inflight[key];
}

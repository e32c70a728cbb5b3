import { setTimeout as sleep } from 'node:timers/promises';
import type { LauncherDefinition } from '../../config/schema';
import type { Settings } from '../../config/settings';
import { DEFAULT_DELIVERY_CONCURRENCY, countOutcome, deliverAll, emptyDeliveryReport, type DeliveryReport } from '../../delivery/deliverAll';
import { deliverStaged } from '../../delivery/deliverStaged';
import { purgeArchive } from '../../delivery/purgeArchive';
import { runLauncher } from '../../launch/runLauncher';
import { settleWhenDelivered, settleWhenStaged, type Settlement } from '../../launch/settlement';
import { DEFAULT_ARCHIVE_RETENTION_DAYS, SETTINGS, intSetting } from '../../runtime/settingNames';
import { ColdError } from '../../errors';
import type { Logger } from '../../util/log';
import { addDelivery, addLaunch, emptyTotals, exitCodeOf, summaryLine, type RunTotals } from '../output';
import { openSession, type CliSession } from '../session';

/** How often the long-running mode looks at the schedules. */
const TICK_MS = 1_000;
/** How often the long-running mode retries deliveries when nothing new was staged. */
const DELIVERY_RETRY_MS = 30_000;

export interface RunFlags {
  config?: string;
  once: boolean;
  launcher?: string;
}

/**
 * `cold-launcher run`: poll, stage, deliver. With the embedded Azurite, items are
 * acknowledged only once delivered (see settlement.ts); with real storage, once staged,
 * and staging is drained after each poll.
 */
export async function runCommand(flags: RunFlags, settings: Settings, logger: Logger, out: (line: string) => void): Promise<number> {
  const session = await openSession({ config: flags.config }, settings, logger);
  const stop = new AbortController();
  const onSignal = () => {
    logger.info('stopping after the current step (Ctrl-C again to force)');
    stop.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  if (!flags.once) process.once('SIGINT', onSignal);
  try {
    const launchers = selectLaunchers(session, flags.launcher);
    const totals = emptyTotals();
    // --once tries every staged document now (a person asked for it); the long-running
    // mode waits for each document's next attempt time after a failure.
    const options = {
      maxAttempts: session.config.ezged.maxAttempts,
      concurrency: intSetting(settings[SETTINGS.deliveryConcurrency], DEFAULT_DELIVERY_CONCURRENCY, SETTINGS.deliveryConcurrency),
      respectBackoff: !flags.once,
    };
    const inline = emptyDeliveryReport();
    const settlement: Settlement = session.embedded
      ? settleWhenDelivered(session.store, async (names) => {
          for (const name of names) {
            countOutcome(inline, await deliverStaged(session.store, session.target(), name, logger, options));
          }
        })
      : settleWhenStaged(session.store);

    let lastDelivery = 0;
    do {
      // Waiting, filtered, skipped describe the sources now: the summary shows the last look.
      totals.waiting = totals.filtered = totals.skipped = totals.unrouted = 0;
      let staged = 0;
      for (const launcher of launchers) {
        const report = await runLauncher(launcher, { store: session.store, settlement, logger, settings, timezone: session.config.timezone, force: flags.once });
        addLaunch(totals, report);
        staged += report.staged;
      }
      if (!session.embedded || flags.once || staged > 0 || Date.now() - lastDelivery > DELIVERY_RETRY_MS) {
        addDelivery(totals, await drain(session, logger, options));
        lastDelivery = Date.now();
      }
      addDelivery(totals, takeReport(inline));
      if (!flags.once) await sleep(TICK_MS, undefined, { signal: stop.signal }).catch(() => undefined);
    } while (!flags.once && !stop.signal.aborted);

    await purgeArchive(session.store, intSetting(settings[SETTINGS.archiveRetentionDays], DEFAULT_ARCHIVE_RETENTION_DAYS, SETTINGS.archiveRetentionDays), logger);
    out(summaryLine(totals));
    return exitCodeOf(totals);
  } finally {
    process.removeListener('SIGINT', onSignal);
    await session.close();
  }
}

function selectLaunchers(session: CliSession, id: string | undefined): LauncherDefinition[] {
  if (id === undefined) return session.config.launchers;
  const found = session.config.launchers.filter((l) => l.id === id);
  if (found.length === 0) {
    throw new ColdError('UNKNOWN_LAUNCHER', `no launcher with id "${id}" in ${session.configPath} (ids: ${session.config.launchers.map((l) => l.id).join(', ') || 'none'})`);
  }
  return found;
}

/** Delivers what is waiting in staging (left by an earlier run, or staged by this one). */
async function drain(session: CliSession, logger: Logger, options: { maxAttempts: number; concurrency: number; respectBackoff: boolean }): Promise<DeliveryReport> {
  return deliverAll(session.store, session.target(), logger, options);
}

function takeReport(r: DeliveryReport): DeliveryReport {
  const copy = { ...r };
  r.delivered = r.retry = r.deadLettered = 0;
  return copy;
}

export type { RunTotals };

import type { Protocol } from '../config/schema';
import type { Settings } from '../config/settings';
import { runLauncher } from '../launch/runLauncher';
import type { LaunchReport } from '../launch/report';
import { settleWhenStaged } from '../launch/settlement';
import type { BlobStore } from '../staging/blobStore';
import type { Logger } from '../util/log';
import { loadDefinitions } from './loadDefinitions';
import { storeFromSettings } from './storeFromSettings';

/** Stores whose containers this process has already made sure of (once, not every tick). */
const ready = new WeakSet<BlobStore>();

/**
 * The body of a launcher type's timer function: every enabled launcher of that protocol
 * whose schedule is due runs once; documents are staged and the blob trigger delivers
 * them. Launchers run one after the other so one slow source cannot starve the others
 * of connections; each one's failure is its own.
 */
export async function runProtocol(protocol: Protocol, settings: Settings, logger: Logger, now?: () => Date): Promise<LaunchReport[]> {
  const store = storeFromSettings(settings);
  if (!ready.has(store)) {
    await store.ensureContainers();
    ready.add(store);
  }
  const config = await loadDefinitions(settings, store);
  const reports: LaunchReport[] = [];
  for (const launcher of config.launchers.filter((l) => l.protocol === protocol)) {
    reports.push(await runLauncher(launcher, { store, settlement: settleWhenStaged(store), logger, settings, timezone: config.timezone, now }));
  }
  return reports;
}

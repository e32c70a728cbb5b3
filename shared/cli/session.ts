import { cp, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadConfigFile } from '../config/load';
import type { ColdConfig } from '../config/schema';
import type { Settings } from '../config/settings';
import type { DeliveryTarget } from '../delivery/target';
import { createTarget } from '../runtime/createTarget';
import { storageConnection, storeFromSettings } from '../runtime/storeFromSettings';
import { BlobStore } from '../staging/blobStore';
import type { Logger } from '../util/log';
import { startAzurite, type RunningAzurite } from './embeddedAzurite';

/** Where the CLI keeps its embedded storage when AzureWebJobsStorage is not set. */
export const LOCAL_STATE_DIR = '.cold-launcher';
export const PACKAGE_ROOT = resolve(__dirname, '..', '..', '..');
export const DEMO_CONFIG = join(PACKAGE_ROOT, 'demo', 'launchers.json');
const DEMO_SAMPLES = join(PACKAGE_ROOT, 'demo', 'samples');

/** Everything a CLI command works with; `close()` releases it (stops embedded Azurite). */
export interface CliSession {
  config: ColdConfig;
  configPath: string;
  store: BlobStore;
  /** True when storage is the embedded Azurite (not durable: acknowledge after delivery). */
  embedded: boolean;
  target(): DeliveryTarget;
  close(): Promise<void>;
}

/** `--config`, else ./launchers.json, else the bundled demo. */
export async function resolveConfigPath(flag: string | undefined): Promise<{ path: string; demo: boolean }> {
  if (flag) return { path: resolve(flag), demo: false };
  const local = resolve('launchers.json');
  if (await exists(local)) return { path: local, demo: false };
  return { path: DEMO_CONFIG, demo: true };
}

export async function openSession(
  opts: { config?: string; storage?: boolean },
  settings: Settings,
  logger: Logger,
): Promise<CliSession> {
  const { path, demo } = await resolveConfigPath(opts.config);
  const config = await loadConfigFile(path, settings);
  logger.info(demo ? `using the bundled demo definitions (${path}); write ./launchers.json or pass --config for yours` : `using ${path}`);
  if (demo) await seedDemoInbox(config, logger);

  let azurite: RunningAzurite | undefined;
  let store: BlobStore;
  if (storageConnection(settings)) {
    // A connection string, or an identity-based connection (your `az login`) as in Azure.
    store = storeFromSettings(settings);
  } else {
    const location = resolve(LOCAL_STATE_DIR, 'azurite');
    azurite = await startAzurite({ location });
    logger.info(`AzureWebJobsStorage is not set: started an embedded Azurite (data in ${location})`);
    store = BlobStore.fromConnectionString(azurite.connectionString);
  }
  await store.ensureContainers();
  let target: DeliveryTarget | undefined;
  return {
    config,
    configPath: path,
    store,
    embedded: azurite !== undefined,
    target: () => (target ??= createTarget(config.ezged, { logger, sessionScope: 'target' })),
    async close() {
      await target?.close();
      await azurite?.stop();
    },
  };
}

/** First demo run: put the sample documents in the demo's inbox so it has work to do. */
async function seedDemoInbox(config: ColdConfig, logger: Logger): Promise<void> {
  const launcher = config.launchers.find((l) => l.protocol === 'folder');
  if (!launcher || !('source' in launcher) || !launcher.source) return;
  const inbox = resolve(launcher.source);
  if (await exists(inbox)) return;
  await cp(DEMO_SAMPLES, inbox, { recursive: true });
  logger.info(`created ${inbox} with sample documents; drop your own files there and run again`);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

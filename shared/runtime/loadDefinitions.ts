import { loadConfigFile, parseConfig } from '../config/load';
import type { ColdConfig } from '../config/schema';
import type { Settings } from '../config/settings';
import { ConfigError } from '../errors';
import type { BlobStore } from '../staging/blobStore';
import { isNotFound } from '../staging/putIfAbsent';
import { DEFAULT_LAUNCHERS_BLOB, SETTINGS } from './settingNames';

/**
 * Reads the launcher definitions named by LAUNCHERS_CONFIG: a file path (an Azure Files
 * mount, a local file) or `blob:<container>/<name>` in the app's storage account.
 */
export async function loadDefinitions(settings: Settings, store: BlobStore): Promise<ColdConfig> {
  const where = settings[SETTINGS.launchersConfig] || DEFAULT_LAUNCHERS_BLOB;
  if (!where.startsWith('blob:')) return loadConfigFile(where, settings);
  const [container, ...rest] = where.slice('blob:'.length).split('/');
  const name = rest.join('/');
  try {
    const buf = await store.service.getContainerClient(container!).getBlobClient(name).downloadToBuffer();
    return parseConfig(buf.toString('utf8'), settings, where);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const why = isNotFound(err) ? 'does not exist: upload launchers.json there, or set LAUNCHERS_CONFIG' : (err as Error).message;
    throw new ConfigError([{ path: '(file)', message: `${where} ${why}` }], where);
  }
}

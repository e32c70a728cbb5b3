import type { Settings } from '../config/settings';
import { ConfigError } from '../errors';
import { BlobStore } from '../staging/blobStore';
import { SETTINGS } from './settingNames';

const cache = new Map<string, BlobStore>();

/** The BlobStore of the app's storage connection (one client per process). */
export function storeFromSettings(settings: Settings): BlobStore {
  const conn = settings[SETTINGS.storage];
  if (!conn) throw new ConfigError([{ path: SETTINGS.storage, message: 'app setting is not set (storage connection string)' }], 'app settings');
  let store = cache.get(conn);
  if (!store) {
    store = BlobStore.fromConnectionString(conn);
    cache.set(conn, store);
  }
  return store;
}

import type { TokenCredential } from '@azure/identity';
import { BlobServiceClient } from '@azure/storage-blob';
import type { Settings } from '../config/settings';
import { ConfigError } from '../errors';
import { BlobStore } from '../staging/blobStore';
import { SETTINGS } from './settingNames';

/** The only `<connection>__credential` value the Functions host knows. */
export const MANAGED_IDENTITY_CREDENTIAL = 'managedidentity';
/** Blob endpoint of an account named by `<connection>__accountName` (public cloud, as the host builds it). */
export const ACCOUNT_NAME_BLOB_URI = (accountName: string) => `https://${accountName}.blob.core.windows.net`;

/**
 * How the app reaches its storage account, read the way the Functions host reads a
 * connection named `AzureWebJobsStorage`:
 * - `AzureWebJobsStorage` = a connection string (Azurite, or an account with shared keys);
 * - otherwise identity-based: `AzureWebJobsStorage__blobServiceUri` (or `__serviceUri`, or
 *   `__accountName`), with `__credential=managedidentity` and `__clientId` (or
 *   `__managedIdentityResourceId`) for a user-assigned identity. Without `__credential`
 *   the developer's own sign-in is used (DefaultAzureCredential: `az login`, VS Code...).
 */
export type StorageConnection =
  | { kind: 'connectionString'; connectionString: string }
  | { kind: 'identity'; blobServiceUri: string; credential: 'managedIdentity' | 'default'; clientId?: string; resourceId?: string };

/** The storage connection named `name`, or undefined when none of its settings is set. */
export function storageConnection(settings: Settings, name: string = SETTINGS.storage): StorageConnection | undefined {
  const get = (suffix: string) => {
    const v = settings[`${name}${suffix}`]?.trim();
    return v ? v : undefined;
  };
  const connectionString = get('');
  if (connectionString) return { kind: 'connectionString', connectionString };

  const accountName = get('__accountName');
  const uri = get('__blobServiceUri') ?? get('__serviceUri') ?? (accountName ? ACCOUNT_NAME_BLOB_URI(accountName) : undefined);
  if (!uri) return undefined;
  const problems: { path: string; message: string }[] = [];
  if (!isHttpUrl(uri)) problems.push({ path: `${name}__blobServiceUri`, message: `must be an http(s) URL, got "${uri}"` });
  if (accountName && !/^[a-z0-9]{3,24}$/.test(accountName)) {
    problems.push({ path: `${name}__accountName`, message: 'must be a storage account name (3-24 lowercase letters and digits)' });
  }
  const credential = get('__credential');
  if (credential !== undefined && credential.toLowerCase() !== MANAGED_IDENTITY_CREDENTIAL) {
    problems.push({ path: `${name}__credential`, message: `must be "${MANAGED_IDENTITY_CREDENTIAL}" or unset, got "${credential}"` });
  }
  const clientId = get('__clientId');
  const resourceId = get('__managedIdentityResourceId');
  if (clientId && resourceId) {
    problems.push({ path: `${name}__clientId`, message: `set either __clientId or __managedIdentityResourceId, not both` });
  }
  if (problems.length) throw new ConfigError(problems, 'app settings');
  return { kind: 'identity', blobServiceUri: uri, credential: credential ? 'managedIdentity' : 'default', clientId, resourceId };
}

/**
 * A credential for an identity-based connection. @azure/identity (and MSAL under it, about
 * 20 MB) is loaded only here: a process on a connection string never loads it.
 */
export function credentialFor(conn: Extract<StorageConnection, { kind: 'identity' }>): TokenCredential {
  const { DefaultAzureCredential, ManagedIdentityCredential } = require('@azure/identity') as typeof import('@azure/identity');
  if (conn.credential === 'managedIdentity') {
    if (conn.resourceId) return new ManagedIdentityCredential({ resourceId: conn.resourceId });
    return new ManagedIdentityCredential({ clientId: conn.clientId });
  }
  if (conn.resourceId) return new DefaultAzureCredential({ managedIdentityResourceId: conn.resourceId });
  return new DefaultAzureCredential({ managedIdentityClientId: conn.clientId });
}

const cache = new Map<string, BlobStore>();

/** The BlobStore of the app's storage connection (one client per process and connection). */
export function storeFromSettings(settings: Settings): BlobStore {
  const conn = storageConnection(settings);
  if (!conn) {
    throw new ConfigError(
      [
        {
          path: SETTINGS.storage,
          message: `app setting is not set: a connection string in ${SETTINGS.storage}, or ${SETTINGS.storage}__accountName / ${SETTINGS.storage}__blobServiceUri for an identity-based connection`,
        },
      ],
      'app settings',
    );
  }
  const key = JSON.stringify(conn);
  let store = cache.get(key);
  if (!store) {
    store =
      conn.kind === 'connectionString'
        ? BlobStore.fromConnectionString(conn.connectionString)
        : new BlobStore(new BlobServiceClient(conn.blobServiceUri, credentialFor(conn)));
    cache.set(key, store);
  }
  return store;
}

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

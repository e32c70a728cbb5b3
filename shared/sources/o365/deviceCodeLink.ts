import { PublicClientApplication } from '@azure/msal-node';
import type { Settings } from '../../config/settings';
import type { BlobStore } from '../../staging/blobStore';
import type { Logger } from '../../util/log';
import { graphScopes, msalConfiguration, type O365Launcher } from './auth';
import { cacheKeyFromSettings } from './cacheCrypto';
import { O365AuthError } from './errors';
import { parseMailboxSource } from './mailbox';
import { TokenCacheStore } from './tokenCacheStore';
import { createTransport } from './transport';

export interface DeviceCodePrompt {
  userCode: string;
  verificationUri: string;
  /** Entra ID's own sentence ("To sign in, use a web browser to open the page ... and enter the code ..."). */
  message: string;
  expiresInSeconds: number;
}

export interface LinkOptions {
  store: BlobStore;
  settings: Settings;
  logger: Logger;
  /** Shows the code and the link to the person at the keyboard. */
  prompt: (p: DeviceCodePrompt) => void;
}

/**
 * Links a delegated O365 launcher to a mailbox, as EzGED does: the device code flow
 * ("open the link, enter the code, sign in"), then the MSAL token cache is stored for
 * that launcher in Blob Storage, encrypted. A new link replaces the previous one.
 */
export async function linkWithDeviceCode(launcher: O365Launcher, opts: LinkOptions): Promise<{ username: string }> {
  if (launcher.authMode !== 'delegated') {
    throw new O365AuthError('O365_LINK_NOT_NEEDED', `launcher ${launcher.id} uses app-only access (client credentials): there is nothing to link`);
  }
  // Fail on a missing key before anyone signs in.
  const cache = new TokenCacheStore(opts.store, launcher.id, cacheKeyFromSettings(opts.settings));
  const transport = createTransport(launcher.tls, launcher.timeoutSeconds * 1000);
  try {
    const app = new PublicClientApplication(msalConfiguration(launcher, transport, opts.logger));
    const otherMailbox = parseMailboxSource(launcher.source).address !== undefined;
    let result;
    try {
      result = await app.acquireTokenByDeviceCode({
        scopes: graphScopes(launcher, otherMailbox),
        deviceCodeCallback: (r) => opts.prompt({ userCode: r.userCode, verificationUri: r.verificationUri, message: r.message, expiresInSeconds: r.expiresIn }),
      });
    } catch (err) {
      const code = (err as { errorCode?: string }).errorCode;
      throw new O365AuthError('O365_LINK_FAILED', `launcher ${launcher.id}: the sign-in did not complete (${code || (err as Error).message})`, { cause: err });
    }
    if (!result?.account) throw new O365AuthError('O365_LINK_FAILED', `launcher ${launcher.id}: Entra ID returned no account`);
    await cache.write(app.getTokenCache().serialize());
    return { username: result.account.username };
  } finally {
    transport.close();
  }
}

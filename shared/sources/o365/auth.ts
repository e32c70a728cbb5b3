import { createPrivateKey } from 'node:crypto';
import {
  ConfidentialClientApplication,
  InteractionRequiredAuthError,
  LogLevel,
  PublicClientApplication,
  type Configuration,
  type ICachePlugin,
} from '@azure/msal-node';
import type { LauncherOf } from '../../config/schema';
import type { Settings } from '../../config/settings';
import type { BlobStore } from '../../staging/blobStore';
import type { Logger } from '../../util/log';
import { registerSecret } from '../../util/secrets';
import { cacheKeyFromSettings } from './cacheCrypto';
import { O365AuthError } from './errors';
import type { TokenProvider } from './graphClient';
import { msalNetworkClient } from './msalNetwork';
import { TokenCacheStore } from './tokenCacheStore';
import type { Transport } from './transport';

export type O365Launcher = LauncherOf<'o365'>;
/** A token is renewed this long before it expires. */
const TOKEN_MARGIN_MS = 60_000;

/** The command that links (again) a delegated launcher to its mailbox. */
export function linkCommand(launcherId: string): string {
  return `cold-launcher o365 link ${launcherId}`;
}

/** Graph permissions asked for. Delegated: Mail.ReadWrite, plus .Shared for another or shared mailbox. */
export function graphScopes(launcher: O365Launcher, otherMailbox: boolean): string[] {
  const graph = launcher.graphEndpoint;
  if (launcher.authMode === 'app-only') return [`${graph}/.default`];
  return otherMailbox ? [`${graph}/Mail.ReadWrite`, `${graph}/Mail.ReadWrite.Shared`] : [`${graph}/Mail.ReadWrite`];
}

/** MSAL configuration for the launcher's cloud (authority host) and tenant, on our transport. */
export function msalConfiguration(launcher: O365Launcher, transport: Transport, logger: Logger, cachePlugin?: ICachePlugin): Configuration {
  const host = new URL(launcher.authorityHost).host;
  const auth: Configuration['auth'] = {
    clientId: launcher.clientId,
    authority: `${launcher.authorityHost}/${launcher.tenantId}`,
    knownAuthorities: [host],
  };
  if (launcher.clientSecret) auth.clientSecret = launcher.clientSecret;
  if (launcher.certificate) {
    const { thumbprint, privateKey, x5c } = launcher.certificate;
    auth.clientCertificate = {
      ...(thumbprint.length === 64 ? { thumbprintSha256: thumbprint } : { thumbprint }),
      privateKey: pkcs8(privateKey),
      ...(x5c ? { x5c: x5c.replace(/\\n/g, '\n') } : {}),
    };
  }
  return {
    auth,
    cache: cachePlugin ? { cachePlugin } : undefined,
    system: {
      networkClient: msalNetworkClient(transport),
      loggerOptions: {
        piiLoggingEnabled: false,
        logLevel: LogLevel.Warning,
        loggerCallback: (_level, message, containsPii) => {
          if (!containsPii) logger.debug(`msal: ${message}`);
        },
      },
    },
  };
}

/** PEM from an app setting (where newlines are often written `\n`), as PKCS#8 for MSAL. */
function pkcs8(pem: string): string {
  const text = pem.includes('\\n') ? pem.replace(/\\n/g, '\n') : pem;
  try {
    const out = createPrivateKey(text).export({ type: 'pkcs8', format: 'pem' }).toString();
    registerSecret(out);
    return out;
  } catch (err) {
    throw new O365AuthError('O365_CERTIFICATE_INVALID', 'certificate.privateKey is not a readable PEM private key', { cause: err });
  }
}

export interface AuthDeps {
  transport: Transport;
  logger: Logger;
  settings: Settings;
  /** Blob Storage holding delegated token caches (only delegated launchers need it). */
  store: () => BlobStore;
}

/** The token source of a launcher: client credentials (app-only) or the linked account's cache (delegated). */
export function createTokenProvider(launcher: O365Launcher, otherMailbox: boolean, deps: AuthDeps): TokenProvider {
  const scopes = graphScopes(launcher, otherMailbox);
  let current: { token: string; expiresAt: number } | undefined;
  const fresh = (force?: boolean) => !force && current && current.expiresAt - TOKEN_MARGIN_MS > Date.now();

  if (launcher.authMode === 'app-only') {
    const app = new ConfidentialClientApplication(msalConfiguration(launcher, deps.transport, deps.logger));
    return {
      async getToken(force) {
        if (fresh(force)) return current!.token;
        let result;
        try {
          result = await app.acquireTokenByClientCredential({ scopes, skipCache: !!force });
        } catch (err) {
          throw appOnlyError(launcher, err);
        }
        if (!result?.accessToken) throw new O365AuthError('O365_TOKEN_FAILED', `launcher ${launcher.id}: Entra ID returned no access token`);
        current = { token: result.accessToken, expiresAt: result.expiresOn?.getTime() ?? Date.now() + 300_000 };
        return current.token;
      },
    };
  }

  let app: PublicClientApplication | undefined;
  return {
    async getToken(force) {
      if (fresh(force)) return current!.token;
      if (!app) {
        const cache = new TokenCacheStore(deps.store(), launcher.id, cacheKeyFromSettings(deps.settings));
        app = new PublicClientApplication(msalConfiguration(launcher, deps.transport, deps.logger, cache.plugin()));
      }
      const accounts = await app.getTokenCache().getAllAccounts();
      if (accounts.length === 0) {
        throw new O365AuthError('O365_NOT_LINKED', `launcher ${launcher.id} is not linked to a Microsoft 365 mailbox yet: run \`${linkCommand(launcher.id)}\``);
      }
      let result;
      try {
        result = await app.acquireTokenSilent({ account: accounts[0]!, scopes, forceRefresh: !!force });
      } catch (err) {
        if (isInteractionRequired(err)) {
          const code = (err as { errorCode?: string }).errorCode;
          throw new O365AuthError(
            'O365_LINK_EXPIRED',
            `launcher ${launcher.id}: the link to ${accounts[0]!.username || 'the mailbox'} has expired or was revoked (${code || 'interaction required'}): run \`${linkCommand(launcher.id)}\` again`,
            { cause: err },
          );
        }
        throw new O365AuthError('O365_TOKEN_FAILED', `launcher ${launcher.id}: getting a token from Entra ID failed: ${(err as Error).message}`, { cause: err });
      }
      current = { token: result.accessToken, expiresAt: result.expiresOn?.getTime() ?? Date.now() + 300_000 };
      return current.token;
    },
  };
}

function isInteractionRequired(err: unknown): boolean {
  const code = (err as { errorCode?: string }).errorCode;
  return err instanceof InteractionRequiredAuthError || code === 'invalid_grant' || code === 'interaction_required' || code === 'no_tokens_found';
}

function appOnlyError(launcher: O365Launcher, err: unknown): O365AuthError {
  const code = (err as { errorCode?: string }).errorCode;
  const what = launcher.certificate ? 'certificate' : 'clientSecret';
  if (code === 'invalid_client' || code === 'unauthorized_client') {
    return new O365AuthError('O365_APP_CREDENTIALS_REJECTED', `launcher ${launcher.id}: Entra ID refused the app's credentials (${code}): check tenantId, clientId and ${what} (expired?)`, { cause: err });
  }
  return new O365AuthError('O365_TOKEN_FAILED', `launcher ${launcher.id}: getting an app-only token failed: ${(err as Error).message}`, { cause: err });
}

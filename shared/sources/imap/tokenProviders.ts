import type { LauncherOf } from '../../config/schema';
import { SourceError } from '../../errors';
import { registerSecret } from '../../util/secrets';

export type ImapOAuth2 = NonNullable<LauncherOf<'imap'>['auth']>;

/** Gives the XOAUTH2 access token for one connection (called once per run). */
export interface TokenProvider {
  accessToken(): Promise<string>;
}

export interface TokenProviderContext {
  launcherId: string;
  timeoutMs: number;
  /** For tests and proxies; the global fetch by default. */
  fetch?: typeof fetch;
}

export type TokenProviderFactory = (auth: ImapOAuth2, ctx: TokenProviderContext) => TokenProvider;

export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
export const MICROSOFT_TOKEN_URL = (tenant: string) => `https://login.microsoftonline.com/${encodeURIComponent(tenant)}/oauth2/v2.0/token`;
export const MICROSOFT_IMAP_SCOPE = 'https://outlook.office.com/IMAP.AccessAsUser.All offline_access';

/**
 * Token providers by name. `static` takes the token as configured (another process
 * refreshes the setting); the others use the standard OAuth2 refresh-token grant
 * (RFC 6749 §6). More (managed identity, a key vault...) plug in with
 * `registerTokenProvider`, without touching the IMAP source.
 */
const PROVIDERS = new Map<string, TokenProviderFactory>([
  ['static', staticToken],
  ['refresh-token', (auth, ctx) => refreshTokenGrant(auth, ctx, auth.tokenUrl, auth.scope)],
  ['google', (auth, ctx) => refreshTokenGrant(auth, ctx, auth.tokenUrl ?? GOOGLE_TOKEN_URL, auth.scope)],
  ['microsoft', (auth, ctx) => refreshTokenGrant(auth, ctx, auth.tokenUrl ?? MICROSOFT_TOKEN_URL(auth.tenantId ?? 'common'), auth.scope ?? MICROSOFT_IMAP_SCOPE)],
]);

export function registerTokenProvider(name: string, factory: TokenProviderFactory): void {
  PROVIDERS.set(name, factory);
}

export function tokenProviderFor(auth: ImapOAuth2, ctx: TokenProviderContext): TokenProvider {
  const factory = PROVIDERS.get(auth.provider);
  if (!factory) {
    throw new SourceError('IMAP_TOKEN_PROVIDER_UNKNOWN', `launcher ${ctx.launcherId}: unknown OAuth2 token provider "${auth.provider}" (known: ${[...PROVIDERS.keys()].join(', ')})`);
  }
  return factory(auth, ctx);
}

function staticToken(auth: ImapOAuth2, ctx: TokenProviderContext): TokenProvider {
  return {
    async accessToken() {
      if (!auth.accessToken) throw new SourceError('IMAP_TOKEN_MISSING', `launcher ${ctx.launcherId}: "auth.accessToken" is empty`);
      return auth.accessToken;
    },
  };
}

function refreshTokenGrant(auth: ImapOAuth2, ctx: TokenProviderContext, tokenUrl: string | undefined, scope: string | undefined): TokenProvider {
  return {
    async accessToken() {
      const missing = (['clientId', 'refreshToken'] as const).filter((k) => !auth[k]);
      if (!tokenUrl) missing.push('tokenUrl' as never);
      if (missing.length) {
        throw new SourceError('IMAP_TOKEN_CONFIG', `launcher ${ctx.launcherId}: the "${auth.provider}" token provider needs ${missing.map((m) => `"auth.${m}"`).join(', ')}`);
      }
      const url = new URL(tokenUrl!);
      if (url.protocol !== 'https:' && !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
        throw new SourceError('IMAP_TOKEN_CONFIG', `launcher ${ctx.launcherId}: the token URL must be https:// (${url.origin})`);
      }
      const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: auth.refreshToken!, client_id: auth.clientId! });
      if (auth.clientSecret) body.set('client_secret', auth.clientSecret);
      if (scope) body.set('scope', scope);
      let res: Response;
      try {
        res = await (ctx.fetch ?? fetch)(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body,
          signal: AbortSignal.timeout(ctx.timeoutMs),
        });
      } catch (err) {
        throw new SourceError('IMAP_TOKEN_FAILED', `launcher ${ctx.launcherId}: the token endpoint ${url.origin} could not be reached: ${(err as Error).message}`, { cause: err });
      }
      const json = (await res.json().catch(() => ({}))) as { access_token?: unknown; error?: unknown; error_description?: unknown };
      if (!res.ok || typeof json.access_token !== 'string') {
        const why = [json.error, json.error_description].filter((v) => typeof v === 'string').join(': ') || `HTTP ${res.status}`;
        throw new SourceError('IMAP_TOKEN_FAILED', `launcher ${ctx.launcherId}: the token endpoint ${url.origin} gave no access token (${why}); check the client id, secret and refresh token`);
      }
      registerSecret(json.access_token);
      return json.access_token;
    },
  };
}

import { readCa } from '../../util/readCa';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import type { LauncherOf } from '../../config/schema';
import { SourceError } from '../../errors';
import type { Logger } from '../../util/log';
import { tokenProviderFor, type TokenProviderContext } from './tokenProviders';

type ImapLauncher = LauncherOf<'imap'>;

/**
 * Opens the one connection of a run: implicit TLS, STARTTLS (required, never
 * opportunistic) or clear text (only with `allowInsecure`); the certificate is verified
 * unless the launcher opts out; a password or an XOAUTH2 token from a provider. Failures
 * become SourceErrors that say what to do (Gmail: app passwords, IMAP access).
 */
export async function connectImap(launcher: ImapLauncher, log: Logger, deps: Pick<TokenProviderContext, 'fetch'> = {}): Promise<ImapFlow> {
  const client = new ImapFlow(await clientOptions(launcher, log, deps));
  // An error after connect (socket reset...) must not crash the process: the failing command reports it.
  client.on('error', (err: Error) => log.warn(`IMAP connection error: ${err.message}`, { err }));
  try {
    await client.connect();
  } catch (err) {
    client.close();
    throw connectionError(launcher, err);
  }
  return client;
}

export async function clientOptions(launcher: ImapLauncher, log: Logger, deps: Pick<TokenProviderContext, 'fetch'> = {}): Promise<ImapFlowOptions> {
  const timeoutMs = launcher.timeoutSeconds * 1000;
  const security = launcher.security ?? 'tls';
  const auth = launcher.auth
    ? { user: launcher.user, accessToken: await tokenProviderFor(launcher.auth, { launcherId: launcher.id, timeoutMs, ...deps }).accessToken() }
    : { user: launcher.user, pass: launcher.password ?? '' };
  return {
    host: launcher.server,
    port: launcher.port,
    secure: security === 'tls',
    doSTARTTLS: security === 'tls' ? undefined : security === 'starttls',
    servername: launcher.tls.servername,
    tls: {
      rejectUnauthorized: launcher.tls.rejectUnauthorized,
      ca: readCa(launcher.tls.ca, (message, cause) => new SourceError('IMAP_TLS_CA_UNREADABLE', `launcher ${launcher.id}: ${message}`, { cause })),
      servername: launcher.tls.servername,
      minVersion: 'TLSv1.2',
    },
    auth,
    logger: imapLogger(log),
    disableAutoIdle: true,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    clientInfo: { name: 'ezged-cold-launcher' },
  };
}

interface ImapError extends Error {
  code?: string;
  authenticationFailed?: boolean;
  responseText?: string;
  serverResponseCode?: string;
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME|ALTNAME|SSL/;

export function connectionError(launcher: ImapLauncher, raw: unknown): SourceError {
  const err = raw as ImapError;
  const where = `${launcher.server}:${launcher.port}`;
  const base = `launcher ${launcher.id}: IMAP ${where}`;
  if (err.authenticationFailed) {
    const said = err.responseText || err.serverResponseCode || 'authentication failed';
    return new SourceError('IMAP_AUTH_FAILED', `${base} refused the login of ${launcher.user} (${said}). ${authHint(launcher)}`, { cause: err });
  }
  if (/authentication mechanism/i.test(err.message)) {
    const offered = launcher.auth ? 'OAuth2 (XOAUTH2/OAUTHBEARER)' : 'password login';
    return new SourceError('IMAP_AUTH_FAILED', `${base} does not offer ${offered} (${err.message}). ${authHint(launcher)}`, { cause: err });
  }
  const code = err.code ?? '';
  if (TLS_CODES.test(code) || /certificate|self[- ]signed|TLS|SSL/i.test(err.message)) {
    return new SourceError(
      'IMAP_TLS_FAILED',
      `${base}: TLS failed (${code || err.message}). If the server uses a private CA or a self-signed certificate, trust it with "tls": { "ca": "<PEM or path>" }; check that "security" matches the port (993 = "tls", 143 = "starttls").`,
      { cause: err },
    );
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH') {
    return new SourceError('IMAP_UNREACHABLE', `${base} cannot be reached (${code}): check "server" and "port"`, { cause: err });
  }
  if (/timeout/i.test(code) || /timed? ?out/i.test(err.message)) {
    return new SourceError(
      'IMAP_TIMEOUT',
      `${base} did not answer within ${launcher.timeoutSeconds} s (${code || err.message}); check that "security" ("${launcher.security}") matches the port: implicit TLS ("tls", usually 993) or STARTTLS ("starttls", usually 143)`,
      { cause: err },
    );
  }
  return new SourceError('IMAP_CONNECT_FAILED', `${base}: ${code ? code + ': ' : ''}${err.message}`, { cause: err });
}

function authHint(launcher: ImapLauncher): string {
  const host = launcher.server.toLowerCase();
  if (/(^|\.)(gmail|googlemail|google)\.com$/.test(host)) {
    return launcher.auth
      ? 'Gmail: check that the OAuth2 token has the https://mail.google.com/ scope and that IMAP access is enabled in Gmail (Settings → Forwarding and POP/IMAP).'
      : 'Gmail refuses the account password over IMAP: turn on 2-Step Verification, create an app password (Google Account → Security → App passwords) and put it in "password"; also check that IMAP access is enabled in Gmail (Settings → Forwarding and POP/IMAP).';
  }
  if (/(office365|outlook)\.com$/.test(host)) {
    return 'Microsoft 365 no longer accepts passwords over IMAP: use "auth": { "type": "oauth2", "provider": "microsoft", ... } (or the o365 launcher).';
  }
  return launcher.auth ? 'Check the OAuth2 token and that the server accepts XOAUTH2.' : 'Check "user" and "password" (the setting it comes from).';
}

/**
 * imapflow's log lines into ours, all at debug: the failures it logs are the ones this
 * source reports itself, as typed errors with advice.
 */
function imapLogger(log: Logger): NonNullable<ImapFlowOptions['logger']> {
  const line = (obj: unknown) => {
    const o = (obj ?? {}) as { msg?: string; cid?: string; err?: unknown };
    log.debug(`imapflow: ${o.msg ?? ''}`.trim(), { cid: o.cid, err: o.err instanceof Error ? o.err : undefined });
  };
  return { debug: line, info: line, warn: line, error: line };
}

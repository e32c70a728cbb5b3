import type { LauncherOf } from '../../config/schema';
import { SourceError } from '../../errors';
import type { Logger } from '../../util/log';
import { Pop3Connection, Pop3ServerError, type Pop3ConnectionOptions, type Pop3Security } from './pop3Connection';
import { tlsConnectionOptions } from './tlsOptions';

type Pop3Launcher = LauncherOf<'pop3'>;

/**
 * Opens the one connection of a run and logs in: implicit TLS (995), STLS on 110
 * (required, never opportunistic) or clear text (only with `allowInsecure`); the
 * certificate is verified unless the launcher opts out; USER/PASS. Failures become
 * SourceErrors that say what to do (Gmail: app password and POP access).
 */
export async function connectPop3(launcher: Pop3Launcher, log: Logger): Promise<Pop3Connection> {
  const opts = await connectionOptions(launcher);
  let connection: Pop3Connection;
  try {
    const opened = await Pop3Connection.open(opts);
    connection = opened.connection;
    log.debug(`POP3 ${launcher.server}:${launcher.port} (${opts.security}) greeted: ${opened.greeting}`);
  } catch (err) {
    throw connectionError(launcher, err);
  }
  try {
    await connection.command(`USER ${launcher.user}`);
    await connection.command(`PASS ${launcher.password ?? ''}`, 'PASS ***');
  } catch (err) {
    connection.destroy();
    throw connectionError(launcher, err);
  }
  return connection;
}

export async function connectionOptions(launcher: Pop3Launcher): Promise<Pop3ConnectionOptions> {
  const security: Pop3Security = launcher.security ?? 'tls';
  if (security === 'none' && !launcher.allowInsecure) {
    throw new SourceError('POP3_INSECURE', `launcher ${launcher.id}: "security": "none" sends the password in clear; set "allowInsecure": true to accept it`);
  }
  return {
    host: launcher.server,
    port: launcher.port ?? (security === 'tls' ? 995 : 110),
    security,
    tls: await tlsConnectionOptions(launcher.server, launcher.tls, launcher.id),
    timeoutMs: launcher.timeoutSeconds * 1000,
  };
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|HOSTNAME|ALTNAME|SSL/;
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** A failure to connect or log in, as a SourceError with advice. */
export function connectionError(launcher: Pop3Launcher, raw: unknown): SourceError {
  const err = raw as Error & { code?: string };
  const base = `launcher ${launcher.id}: POP3 ${launcher.server}:${launcher.port}`;
  const mismatch = `check that "security" ("${launcher.security}") matches the port: implicit TLS ("tls", usually 995) or STLS ("starttls", usually 110)`;
  if (err instanceof Pop3ServerError) {
    if (err.command === 'STLS') {
      return new SourceError('POP3_STLS_UNAVAILABLE', `${base} does not offer STLS (-ERR ${err.text}): use "security": "tls" with port 995 if the server has it`, { cause: err });
    }
    if (err.responseCode === 'IN-USE') {
      return new SourceError('POP3_MAILBOX_BUSY', `${base}: the mailbox of ${launcher.user} is in use by another POP3 session (-ERR ${err.text}); the next run tries again`, { cause: err });
    }
    if (err.responseCode === 'SYS/TEMP') {
      return new SourceError('POP3_SERVER_BUSY', `${base}: temporary failure of the server (-ERR ${err.text}); the next run tries again`, { cause: err });
    }
    if (err.command === 'PASS ***' || err.command.startsWith('USER ')) {
      return new SourceError('POP3_AUTH_FAILED', `${base} refused the login of ${launcher.user} (-ERR ${err.text}). ${authHint(launcher)}`, { cause: err });
    }
    if (err.command === '(greeting)') {
      return new SourceError('POP3_CONNECT_FAILED', `${base} refused the connection (-ERR ${err.text})`, { cause: err });
    }
    return new SourceError('POP3_CONNECT_FAILED', `${base}: ${err.message}`, { cause: err });
  }
  if (err instanceof SourceError && err.code === 'POP3_TIMEOUT') {
    return new SourceError('POP3_TIMEOUT', `${base} did not answer within ${launcher.timeoutSeconds} s; ${mismatch}`, { cause: err });
  }
  if (err instanceof SourceError) return err;
  const code = err.code ?? '';
  if (TLS_CODES.test(code) || /certificate|self[- ]signed|TLS|SSL/i.test(err.message)) {
    return new SourceError(
      'POP3_TLS_FAILED',
      `${base}: TLS failed (${code || err.message}). If the server uses a private CA or a self-signed certificate, trust it with "tls": { "ca": "<PEM or path>" }; ${mismatch}.`,
      { cause: err },
    );
  }
  if (UNREACHABLE.has(code)) {
    return new SourceError('POP3_UNREACHABLE', `${base} cannot be reached (${code}): check "server" and "port"`, { cause: err });
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return new SourceError('POP3_CONNECT_FAILED', `${base} dropped the connection (${code}); ${mismatch}`, { cause: err });
  }
  return new SourceError('POP3_CONNECT_FAILED', `${base}: ${code ? code + ': ' : ''}${err.message}`, { cause: err });
}

/** What to check when the server refuses the login, for the providers people use. */
export function authHint(launcher: Pop3Launcher): string {
  const host = launcher.server.toLowerCase();
  if (/(^|\.)(gmail|googlemail|google)\.com$/.test(host)) {
    return (
      'Gmail refuses the account password over POP3: turn on 2-Step Verification, create an app password (Google Account → Security → App passwords) ' +
      'and put it in "password"; also enable POP in Gmail (Settings → Forwarding and POP/IMAP → Enable POP).'
    );
  }
  if (/(office365|outlook|hotmail|live)\.com$/.test(host)) {
    return 'Microsoft 365 no longer accepts passwords over POP3 (basic authentication is off): use the o365 launcher.';
  }
  return 'Check "user" and "password" (the setting it comes from).';
}

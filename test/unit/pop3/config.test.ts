import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../../shared/config/load';
import type { LauncherOf } from '../../../shared/config/schema';
import { ConfigError } from '../../../shared/errors';
import { pop3ActionFor } from '../../../shared/sources/pop3/afterSuccess';
import { authHint, connectionError, connectionOptions } from '../../../shared/sources/pop3/connect';
import { Pop3ServerError } from '../../../shared/sources/pop3/pop3Connection';

const gmail = { id: 'g', protocol: 'pop3', server: 'pop.gmail.com', user: 'ged@gmail.com', password: 'app-password-1234', scenarios: [{ waitdir: 'w' }] };

function parse(over: Record<string, unknown> = {}): LauncherOf<'pop3'> {
  return parseConfig(JSON.stringify({ ezged: { dropFolder: '/x' }, launchers: [{ ...gmail, ...over }] }), {}).launchers[0] as LauncherOf<'pop3'>;
}

function problems(over: Record<string, unknown>): string[] {
  try {
    parse(over);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  return [];
}

test('defaults: implicit TLS on 995, delete, verified certificate, 5 failures before setting aside', () => {
  const l = parse();
  assert.deepEqual([l.port, l.security, l.afterSuccess, l.tls.rejectUnauthorized, l.maxFailures, l.timeoutSeconds], [995, 'tls', 'delete', true, 5, 60]);
  const stls = parse({ port: 110 });
  assert.deepEqual([stls.port, stls.security], [110, 'starttls']);
  const stlsDefaultPort = parse({ security: 'starttls' });
  assert.deepEqual([stlsDefaultPort.port, stlsDefaultPort.security], [110, 'starttls']);
});

test('clear text only with allowInsecure; a folder, a missing password or an unknown afterSuccess are refused, saying why', () => {
  assert.match(problems({ security: 'none' })[0]!, /"none" sends the password in clear: set "allowInsecure": true/);
  assert.equal(parse({ security: 'none', allowInsecure: true, port: 110 }).security, 'none');
  assert.match(problems({ source: 'INBOX' })[0]!, /source: POP3 has a single mailbox per account/);
  assert.match(problems({ password: undefined })[0]!, /password: required: the mailbox password \(for Gmail an app password\)/);
  assert.match(problems({ afterSuccess: 'seen' })[0]!, /afterSuccess: must be "delete" or "keep"/);
  assert.throws(() => pop3ActionFor('move:x'), /unknown afterSuccess/);
});

test('TLS options: SNI is the server name, never a bare IP; tls.servername wins; the CA may be a PEM', async () => {
  const byName = await connectionOptions(parse());
  assert.deepEqual([byName.host, byName.port, byName.security, byName.tls.servername, byName.tls.rejectUnauthorized, byName.tls.minVersion], ['pop.gmail.com', 995, 'tls', 'pop.gmail.com', true, 'TLSv1.2']);
  const byIp = await connectionOptions(parse({ server: '127.0.0.1' }));
  assert.equal(byIp.tls.servername, undefined);
  const named = await connectionOptions(parse({ server: '127.0.0.1', tls: { servername: 'localhost', ca: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----' } }));
  assert.deepEqual([named.tls.servername, String(named.tls.ca).startsWith('-----BEGIN')], ['localhost', true]);
  await assert.rejects(connectionOptions(parse({ tls: { ca: '/nonexistent/ca.pem' } })), /"tls.ca" is neither a PEM certificate nor a readable file/);
});

test('Gmail: a refused login explains app passwords and POP access, without the password', () => {
  const e = connectionError(parse(), new Pop3ServerError('PASS ***', '[AUTH] Username and password not accepted.'));
  assert.equal(e.code, 'POP3_AUTH_FAILED');
  assert.match(e.message, /POP3 pop\.gmail\.com:995 refused the login of ged@gmail\.com \(-ERR \[AUTH\] Username and password not accepted\.\)/);
  assert.match(e.message, /app password/);
  assert.match(e.message, /Enable POP/);
  assert.ok(!e.message.includes('app-password-1234'));
  assert.match(authHint(parse({ server: 'outlook.office365.com' })), /o365 launcher/);
  assert.match(authHint(parse({ server: 'mail.example.org' })), /Check "user" and "password"/);
});

test('other failures are told apart: mailbox in use, no STLS, TLS, unreachable', () => {
  const l = parse({ server: 'mail.example.org', port: 110 });
  assert.equal(connectionError(l, new Pop3ServerError('PASS ***', '[IN-USE] Mailbox is locked')).code, 'POP3_MAILBOX_BUSY');
  assert.equal(connectionError(l, new Pop3ServerError('PASS ***', '[SYS/TEMP] try later')).code, 'POP3_SERVER_BUSY');
  assert.match(connectionError(l, new Pop3ServerError('STLS', 'Unknown command')).message, /does not offer STLS .*"security": "tls"/);
  const tls = connectionError(l, Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }));
  assert.equal(tls.code, 'POP3_TLS_FAILED');
  assert.match(tls.message, /"tls": \{ "ca"/);
  assert.equal(connectionError(l, Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).code, 'POP3_UNREACHABLE');
  assert.equal(new Pop3ServerError('RETR 3', '[SYS/PERM] gone').responseCode, 'SYS/PERM');
});

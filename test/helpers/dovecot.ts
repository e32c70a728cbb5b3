import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import { freePort } from '../../shared/cli/embeddedAzurite';

/** Where Debian puts the binary; `DOVECOT_BIN` overrides it. */
const DOVECOT_BIN = process.env.DOVECOT_BIN ?? '/usr/sbin/dovecot';
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
export const TEST_USER = 'alice';
export const TEST_PASSWORD = 'secret-alice-pw';

export interface RunningDovecot {
  host: string;
  imapPort: number;
  imapsPort: number;
  pop3Port: number;
  pop3sPort: number;
  /** PEM of the self-signed certificate (CN=localhost, SAN localhost + 127.0.0.1). */
  certPem: string;
  certPath: string;
  user: string;
  password: string;
  dir: string;
  /** The Maildir of the test user. */
  maildir: string;
  stop(): Promise<void>;
}

const execFileP = promisify(execFile);

/**
 * Why Dovecot cannot run here, or undefined when it can. With REQUIRE_DOVECOT=1 a missing
 * Dovecot is a failure (CI), otherwise the tests that need it are skipped with this reason.
 */
export function dovecotMissingReason(): string | undefined {
  try {
    accessSync(DOVECOT_BIN, constants.X_OK);
  } catch {
    return `Dovecot is not installed (${DOVECOT_BIN}): apt-get install dovecot-imapd dovecot-pop3d`;
  }
  try {
    accessSync('/usr/bin/openssl', constants.X_OK);
  } catch {
    return 'openssl is not installed (needed for the test certificate)';
  }
  return undefined;
}

/**
 * The option to give `describe`/`test`: `{ skip: reason }` when Dovecot is missing and not
 * required. When REQUIRE_DOVECOT=1 and it is missing, registers a failing test instead, so
 * CI never reports the IMAP/POP3 tests as passed without having run them.
 */
export function dovecotGate(): { skip: string | false } {
  const missing = dovecotMissingReason();
  if (!missing) return { skip: false };
  if (process.env.REQUIRE_DOVECOT === '1') {
    test('Dovecot is required (REQUIRE_DOVECOT=1)', () => {
      throw new Error(missing);
    });
  }
  return { skip: missing };
}

/** Starts a Dovecot of the file's own before `before` hooks of the tests and stops it after. */
export function useDovecot(skip: string | false): () => RunningDovecot {
  let running: RunningDovecot | undefined;
  before(async () => {
    if (!skip) running = await startDovecot();
  });
  after(async () => {
    await running?.stop();
  });
  return () => {
    if (!running) throw new Error('Dovecot is not running');
    return running;
  };
}

/**
 * A real Dovecot (IMAP + POP3, plain and implicit TLS) on free loopback ports, from a
 * config in a temp folder, one user (`alice`), a self-signed certificate, Maildir storage.
 */
export interface DovecotOptions {
  /**
   * Also accept XOAUTH2/OAUTHBEARER tokens, checked by POSTing them to this RFC 7662
   * introspection URL (a fake answering `{ "active": true, "username": "alice" }`).
   */
  oauth2IntrospectionUrl?: string;
}

export async function startDovecot(opts: DovecotOptions = {}): Promise<RunningDovecot> {
  const dir = await mkdtemp(join(tmpdir(), 'cold-dovecot-'));
  await chmod(dir, 0o755); // the auth process runs as `dovecot` and must reach the users file
  for (const d of ['run', 'state', 'mail']) await mkdir(join(dir, d), { recursive: true });
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  await execFileP('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '3650',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  await writeFile(join(dir, 'users'), `${TEST_USER}:{PLAIN}${TEST_PASSWORD}::::::\n`, { mode: 0o644 });
  const [imapPort, imapsPort, pop3Port, pop3sPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const conf = `protocols = imap pop3
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
instance_name = test-dovecot-${randomBytes(4).toString('hex')}
ssl = yes
ssl_cert = <${certPath}
ssl_key = <${keyPath}
disable_plaintext_auth = no
auth_mechanisms = plain login${opts.oauth2IntrospectionUrl ? ' xoauth2 oauthbearer' : ''}
mail_location = maildir:${dir}/mail/%u/Maildir
pop3_uidl_format = %08Xu%08Xv
namespace inbox {
  inbox = yes
  separator = /
  mailbox Archive {
    auto = create
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
${opts.oauth2IntrospectionUrl ? `passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = ${dir}/oauth2.conf.ext\n}\n` : ''}userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${dir}/mail/%u
}
service imap-login {
  inet_listener imap {
    port = ${imapPort}
  }
  inet_listener imaps {
    port = ${imapsPort}
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = ${pop3Port}
  }
  inet_listener pop3s {
    port = ${pop3sPort}
    ssl = yes
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0
  }
}
`;
  await writeFile(join(dir, 'dovecot.conf'), conf);
  if (opts.oauth2IntrospectionUrl) {
    await writeFile(
      join(dir, 'oauth2.conf.ext'),
      `introspection_mode = post\nintrospection_url = ${opts.oauth2IntrospectionUrl}\nusername_attribute = username\nactive_attribute = active\nactive_value = true\n`,
      { mode: 0o644 },
    );
  }
  const maildir = join(dir, 'mail', TEST_USER, 'Maildir');
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(maildir, sub), { recursive: true });
  await chownTree(join(dir, 'mail'));

  const child = spawn(DOVECOT_BIN, ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  try {
    for (const port of [imapPort, imapsPort, pop3Port, pop3sPort]) await waitForPort(port, child, async () => stderr + (await readLog(dir)));
  } catch (err) {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    host: '127.0.0.1',
    imapPort,
    imapsPort,
    pop3Port,
    pop3sPort,
    certPem: await readFile(certPath, 'utf8'),
    certPath,
    user: TEST_USER,
    password: TEST_PASSWORD,
    dir,
    maildir,
    async stop() {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The connection fields of an IMAP launcher on this Dovecot: STARTTLS on the plain port,
 * its certificate trusted through `tls.ca`. `password` may be a `%SETTING%` reference.
 */
export function imapLauncherOn(d: RunningDovecot, password: string = d.password) {
  return { protocol: 'imap', server: d.host, port: d.imapPort, security: 'starttls', user: d.user, password, tls: { ca: d.certPem, servername: 'localhost' } } as const;
}

/** An IMAP client for test set-up (trusting the test certificate). Log it out after use. */
export async function testImapClient(d: RunningDovecot): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: d.host,
    port: d.imapPort,
    secure: false,
    doSTARTTLS: true,
    tls: { ca: d.certPem, servername: 'localhost' },
    auth: { user: d.user, pass: d.password },
    logger: false,
    disableAutoIdle: true,
  });
  await client.connect();
  return client;
}

/** APPENDs messages without flags (so they are unseen), creating the folder if needed. */
export async function appendMessages(d: RunningDovecot, folder: string, messages: (string | Buffer)[]): Promise<void> {
  const client = await testImapClient(d);
  try {
    await ensureMailbox(client, folder);
    for (const m of messages) {
      const res = await client.append(folder, typeof m === 'string' ? Buffer.from(m) : m, []);
      if (!res) throw new Error(`APPEND to ${folder} failed`);
    }
  } finally {
    await client.logout();
  }
}

export async function ensureMailbox(client: ImapFlow, folder: string): Promise<void> {
  if (folder.toUpperCase() === 'INBOX') return;
  const list = await client.list();
  if (!list.some((m) => m.path === folder)) await client.mailboxCreate(folder);
}

/** Flags and count of the messages of a folder, by Message-ID. */
export async function folderContents(d: RunningDovecot, folder: string): Promise<{ messageId: string; flags: string[]; uid: number }[]> {
  const client = await testImapClient(d);
  try {
    const list = await client.list();
    if (folder.toUpperCase() !== 'INBOX' && !list.some((m) => m.path === folder)) return [];
    const lock = await client.getMailboxLock(folder);
    try {
      const msgs = await client.fetchAll('1:*', { uid: true, flags: true, envelope: true });
      return msgs.map((m) => ({ messageId: m.envelope?.messageId ?? '', flags: [...(m.flags ?? [])].sort(), uid: m.uid }));
    } catch (err) {
      if ((err as { code?: string }).code === 'NoMailboxSelected') return [];
      throw err;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
}

/**
 * Delivers a large message straight into the Maildir's `new/` (as a local delivery agent
 * would), streaming it from `write`, so the test process never holds it in memory.
 */
export async function deliverToMaildir(d: RunningDovecot, write: (path: string) => Promise<void>): Promise<void> {
  const name = `${Date.now()}.${randomBytes(6).toString('hex')}.test`;
  const tmp = join(d.maildir, 'tmp', name);
  await write(tmp);
  await chown(tmp, ...(await nobodyIds()));
  await rename(tmp, join(d.maildir, 'new', name));
}

let nobody: [number, number] | undefined;
async function nobodyIds(): Promise<[number, number]> {
  if (!nobody) {
    const { stdout: u } = await execFileP('id', ['-u', 'nobody']);
    const { stdout: g } = await execFileP('getent', ['group', 'nogroup']);
    nobody = [Number(u.trim()), Number(g.split(':')[2])];
  }
  return nobody;
}

async function chownTree(path: string): Promise<void> {
  const [uid, gid] = await nobodyIds();
  await execFileP('chown', ['-R', `${uid}:${gid}`, path]);
}

async function readLog(dir: string): Promise<string> {
  return readFile(join(dir, 'dovecot.log'), 'utf8').then((t) => t.slice(-2000)).catch(() => '');
}

async function waitForPort(port: number, child: ChildProcess, diagnostics: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Dovecot exited with code ${child.exitCode}: ${await diagnostics()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Dovecot did not listen on port ${port} within ${START_TIMEOUT_MS / 1000} s: ${await diagnostics()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { parseConfig } from '../../shared/config/load';
import type { LauncherDefinition } from '../../shared/config/schema';
import { runLauncher } from '../../shared/launch/runLauncher';
import { settleWhenStaged } from '../../shared/launch/settlement';
import { silentLogger } from '../../shared/util/log';
import { attachment, message, multipart, PDF, text } from '../fixtures/mail/corpus';
import { useAzurite } from '../helpers/azurite';
import { appendMessages, dovecotGate, folderContents, startDovecot, type RunningDovecot } from '../helpers/dovecot';

/**
 * A fake OAuth2 server following RFC 6749 §6 (refresh-token grant, form-encoded POST,
 * JSON answer with access_token / error) and RFC 7662 (token introspection, which Dovecot's
 * oauth2 passdb calls to check the XOAUTH2 token).
 */
class FakeOAuth2 {
  readonly issued = new Set<string>();
  readonly grants: URLSearchParams[] = [];
  private server?: Server;
  url = '';

  constructor(private readonly client: { id: string; secret: string; refreshToken: string }) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const json = (status: number, value: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(value));
        };
        if (req.method === 'POST' && req.url === '/token') {
          this.grants.push(form);
          const ok = form.get('grant_type') === 'refresh_token' && form.get('client_id') === this.client.id && form.get('client_secret') === this.client.secret;
          if (!ok) return json(401, { error: 'invalid_client', error_description: 'client authentication failed' });
          if (form.get('refresh_token') !== this.client.refreshToken) return json(400, { error: 'invalid_grant', error_description: 'refresh token expired or revoked' });
          const token = `at-${randomBytes(12).toString('hex')}`;
          this.issued.add(token);
          return json(200, { access_token: token, token_type: 'Bearer', expires_in: 3599 });
        }
        if (req.method === 'POST' && req.url === '/introspect') {
          const token = form.get('token') ?? '';
          return json(200, this.issued.has(token) ? { active: true, username: 'alice' } : { active: false });
        }
        json(404, { error: 'not_found' });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const gate = dovecotGate();
const azurite = useAzurite();
const oauth = new FakeOAuth2({ id: 'cold-client', secret: 'client-secret-xyz', refreshToken: 'rt-good-123' });
let d: RunningDovecot | undefined;
before(async () => {
  if (gate.skip) return;
  await oauth.start();
  d = await startDovecot({ oauth2IntrospectionUrl: `${oauth.url}/introspect` });
});
after(async () => {
  if (process.env.KEEP_DOVECOT_LOG && d) console.log(await (await import('node:fs/promises')).readFile(d.dir + '/dovecot.log', 'utf8'));
  await d?.stop();
  await oauth.stop();
});

function launcher(auth: Record<string, unknown>): LauncherDefinition {
  return parseConfig(
    JSON.stringify({
      ezged: { dropFolder: '/unused' },
      launchers: [
        {
          id: 'oauth',
          protocol: 'imap',
          server: d!.host,
          port: d!.imapsPort,
          security: 'tls',
          user: d!.user,
          tls: { ca: d!.certPem },
          auth: { type: 'oauth2', ...auth },
          scenarios: [{ waitdir: 'divers' }],
        },
      ],
    }),
    {},
  ).launchers[0]!;
}

describe('IMAP launcher: XOAUTH2 with a pluggable token provider', { skip: gate.skip }, () => {
  test('a refresh-token provider gets a token and Dovecot accepts it over XOAUTH2', async () => {
    const store = await azurite.reset();
    await appendMessages(d!, 'INBOX', [message('oauth.1', 'OAuth', multipart('mixed', [text('x'), attachment('application/pdf', 'filename="o.pdf"', PDF)]))]);
    const l = launcher({ provider: 'refresh-token', tokenUrl: `${oauth.url}/token`, clientId: 'cold-client', clientSecret: 'client-secret-xyz', refreshToken: 'rt-good-123' });
    const report = await runLauncher(l, { store, settlement: settleWhenStaged(store), logger: silentLogger, force: true });
    assert.deepEqual([report.found, report.staged, report.acknowledged, report.error], [1, 1, 1, undefined]);
    assert.equal(oauth.grants.length, 1);
    assert.ok((await folderContents(d!, 'INBOX')).every((m) => m.flags.includes('\\Seen')));
  });

  test('a revoked refresh token: a clear error naming the OAuth2 answer, nothing staged', async () => {
    const store = await azurite.reset();
    const l = launcher({ provider: 'refresh-token', tokenUrl: `${oauth.url}/token`, clientId: 'cold-client', clientSecret: 'client-secret-xyz', refreshToken: 'rt-revoked' });
    const report = await runLauncher(l, { store, settlement: settleWhenStaged(store), logger: silentLogger, force: true });
    assert.match(report.error ?? '', /IMAP_TOKEN_FAILED: .*invalid_grant: refresh token expired or revoked/);
    assert.equal(report.staged, 0);
    assert.ok(!(report.error ?? '').includes('client-secret-xyz'));
  });

  test('a static token the server does not accept: IMAP_AUTH_FAILED', async () => {
    const store = await azurite.reset();
    const report = await runLauncher(launcher({ accessToken: 'at-forged' }), { store, settlement: settleWhenStaged(store), logger: silentLogger, force: true });
    assert.match(report.error ?? '', /IMAP_AUTH_FAILED: .*refused the login of alice/);
  });

  test('an unknown provider is named with the known ones', async () => {
    const store = await azurite.reset();
    const report = await runLauncher(launcher({ provider: 'vault' }), { store, settlement: settleWhenStaged(store), logger: silentLogger, force: true });
    assert.match(report.error ?? '', /unknown OAuth2 token provider "vault" \(known: static, refresh-token, google, microsoft/);
  });
});

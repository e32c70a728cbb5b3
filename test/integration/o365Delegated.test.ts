import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { o365LinkCommand } from '../../shared/cli/commands/o365Link';
import { main } from '../../shared/cli/main';
import { loadConfigFile } from '../../shared/config/load';
import type { ColdConfig } from '../../shared/config/schema';
import { runLauncher } from '../../shared/launch/runLauncher';
import { settleWhenStaged } from '../../shared/launch/settlement';
import { launcherSegment } from '../../shared/staging/blobNames';
import type { BlobStore } from '../../shared/staging/blobStore';
import { CACHE_KEY_SETTING } from '../../shared/sources/o365/cacheCrypto';
import { tokenCacheBlobName } from '../../shared/sources/o365/tokenCacheStore';
import { createLogger, type LogLevel } from '../../shared/util/log';
import { startFakeMicrosoftCloud } from '../fakes/graphFake';
import { useAzurite } from '../helpers/azurite';
import { o365Skip } from '../helpers/o365Gate';

const TENANT = 'contoso.fr';
const SHARED = 'ged-facture@contoso.fr';
const skip = o365Skip();

describe('O365 launcher, delegated: device code link, silent refresh, revoked link', { skip }, () => {
  const azurite = useAzurite();
  let dir: string;
  let cloud: Awaited<ReturnType<typeof startFakeMicrosoftCloud>>;
  let store: BlobStore;
  let configPath: string;
  let config: ColdConfig;
  const settings: Record<string, string> = { [CACHE_KEY_SETTING]: randomBytes(32).toString('base64') };
  const saved = { storage: process.env.AzureWebJobsStorage, key: process.env[CACHE_KEY_SETTING] };
  let lines: { level: LogLevel; msg: string }[] = [];
  const logger = createLogger((level, msg) => lines.push({ level, msg }));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'o365-dlg-'));
    cloud = await startFakeMicrosoftCloud(dir, {
      tenantId: TENANT,
      apps: [{ clientId: 'cold-public', publicClient: true }],
      users: [{ username: 'alice@contoso.fr', name: 'Alice Martin', oid: '6f1c0d4e-0000-4000-8000-00000000a11c' }],
      // The person at the keyboard signs in after the first poll.
      autoApprove: { username: 'alice@contoso.fr', afterPolls: 1 },
      // Shorter than MSAL's 5-minute renewal margin: every run refreshes, so rotation is exercised.
      accessTokenSeconds: 120,
      mailboxes: [{ address: 'alice@contoso.fr' }, { address: SHARED }],
      sharedAccess: { [SHARED]: ['alice@contoso.fr'] },
    });
    store = await azurite.reset();
    settings.AzureWebJobsStorage = azurite.get().connectionString;
    // The source reads the storage connection and the cache key from the process settings, as in Azure.
    process.env.AzureWebJobsStorage = settings.AzureWebJobsStorage;
    process.env[CACHE_KEY_SETTING] = settings[CACHE_KEY_SETTING];
    configPath = join(dir, 'launchers.json');
    const common = {
      protocol: 'o365', tenantId: TENANT, clientId: 'cold-public', authorityHost: cloud.entra.url, graphEndpoint: cloud.graph.url,
      tls: { ca: cloud.cert.certPath }, delaySeconds: 0, scenarios: [{ waitdir: 'courrier' }],
    };
    await writeFile(configPath, JSON.stringify({
      ezged: { dropFolder: join(dir, 'ezged'), createWaitdirs: true },
      launchers: [
        { ...common, id: 'boite-alice', source: 'inbox' },
        { ...common, id: 'partage', source: `${SHARED}:inbox`, afterSuccess: 'delete' },
      ],
    }));
    config = await loadConfigFile(configPath, settings);
  });
  after(async () => {
    process.env.AzureWebJobsStorage = saved.storage;
    if (saved.key === undefined) delete process.env[CACHE_KEY_SETTING];
    else process.env[CACHE_KEY_SETTING] = saved.key;
    await cloud?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const launcher = (id: string) => config.launchers.find((l) => l.id === id)!;
  const run = (id: string) => runLauncher(launcher(id), { store, settlement: settleWhenStaged(store), logger, force: true });
  async function stagedCount(id: string): Promise<number> {
    let n = 0;
    for await (const _ of store.list('staging', `${launcherSegment(id)}/`)) n++;
    return n;
  }
  const mail = (subject: string) => ({
    subject,
    attachments: [{ kind: 'file' as const, name: `${subject}.pdf`, contentType: 'application/pdf', content: Buffer.from(`%PDF ${subject}`) }],
  });

  test('before linking: a clear error with the command to run', async () => {
    const report = await run('boite-alice');
    assert.match(report.error ?? '', /O365_NOT_LINKED: launcher boite-alice is not linked .*run `cold-launcher o365 link boite-alice`/);
  });

  test('cold-launcher o365 link: device code printed, sign-in awaited, encrypted cache stored', async () => {
    const out: string[] = [];
    const status = await o365LinkCommand('boite-alice', { config: configPath }, settings, logger, (l) => out.push(l));
    assert.equal(status, 0);
    assert.match(out[0]!, /open the page https:\/\/microsoft\.com\/devicelogin and enter the code [0-9A-F]{9}/);
    assert.match(out.at(-1)!, /Launcher boite-alice is linked to alice@contoso\.fr/);
    assert.ok(cloud.entra.requests.some((r) => r.grantType === 'device_code' && r.status === 400), 'polled while authorization was pending');

    const blob = await store.container('state').getBlobClient(tokenCacheBlobName('boite-alice')).downloadToBuffer();
    const text = blob.toString('latin1');
    assert.ok(!text.includes('rt.') && !text.includes('alice@contoso.fr') && !text.includes('RefreshToken'), 'the cache is not readable at rest');

    // The CLI entry point knows the command.
    const origWrite = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      assert.equal(await main(['o365', 'lnk', 'boite-alice']), 2);
    } finally {
      process.stderr.write = origWrite;
    }
  });

  test('the linked mailbox is read with silently refreshed tokens, and rotated refresh tokens are kept', async () => {
    const refreshes = () => cloud.entra.requests.filter((r) => r.grantType === 'refresh_token' && r.status === 200).length;
    cloud.graph.addMessage('alice@contoso.fr', 'inbox', mail('courrier-1'));
    const first = await run('boite-alice');
    assert.equal(first.error, undefined, first.error);
    assert.equal(first.staged, 1);
    // The fake spends each refresh token once: a second run only works with the rotated one stored.
    cloud.graph.addMessage('alice@contoso.fr', 'inbox', mail('courrier-2'));
    const second = await run('boite-alice');
    assert.equal(second.error, undefined, second.error);
    assert.equal(second.staged, 1);
    assert.equal(refreshes(), 2, 'one silent refresh per run, each with the refresh token the previous one left');
    assert.ok(cloud.graph.requests.some((r) => r.path.startsWith('/v1.0/me/') && r.kind === 'user'));
    assert.deepEqual(cloud.graph.violations, []);
  });

  test('a shared mailbox through the signed-in user (Mail.ReadWrite.Shared)', async () => {
    const status = await o365LinkCommand('partage', { config: configPath }, settings, logger, () => undefined);
    assert.equal(status, 0);
    const id = cloud.graph.addMessage(SHARED, 'inbox', mail('partage-1'));
    const report = await run('partage');
    assert.equal(report.error, undefined, report.error);
    assert.equal(report.staged, 1);
    assert.equal(cloud.graph.message(id)!.folder, 'Deleted Items', 'afterSuccess delete moves it to Deleted Items');
    assert.equal(await stagedCount('partage'), 1);
  });

  test('a revoked link: a visible error naming the launcher and the command to run again', async () => {
    cloud.entra.revokeSessions('alice@contoso.fr');
    cloud.graph.addMessage('alice@contoso.fr', 'inbox', mail('courrier-3'));
    lines = [];
    const report = await run('boite-alice');
    assert.match(report.error ?? '', /O365_LINK_EXPIRED: launcher boite-alice: the link to alice@contoso\.fr has expired or was revoked \(invalid_grant\): run `cold-launcher o365 link boite-alice` again/);
    assert.ok(lines.some((l) => l.level === 'error' && l.msg.includes('cold-launcher o365 link boite-alice')));
    assert.equal(await stagedCount('boite-alice'), 2, 'nothing staged, nothing lost: the message waits for the new link');
  });

  test('the cache key is required, with a clear message', async () => {
    const out: string[] = [];
    const noKey = { ...settings, [CACHE_KEY_SETTING]: '' };
    await assert.rejects(o365LinkCommand('boite-alice', { config: configPath }, noKey, logger, (l) => out.push(l)), /app setting O365_CACHE_KEY is not set/);
    assert.deepEqual(out, [], 'no code is shown when the link could not be stored');
  });
});

import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { launcherSchema, type LauncherDefinition } from '../../shared/config/schema';
import { runLauncher } from '../../shared/launch/runLauncher';
import { settleWhenStaged } from '../../shared/launch/settlement';
import { launcherSegment, launcherStateBlobName } from '../../shared/staging/blobNames';
import type { BlobStore } from '../../shared/staging/blobStore';
import { createLogger, type LogLevel } from '../../shared/util/log';
import { makeTestCertificate, type TestCertificate } from '../fakes/entraFake';
import { startFakeMicrosoftCloud, type GraphFake } from '../fakes/graphFake';
import { useAzurite } from '../helpers/azurite';
import { o365Skip } from '../helpers/o365Gate';
import type { EntraFake } from '../fakes/entraFake';

const TENANT = 'contoso.fr';
const SHARED = 'ged-facture@contoso.fr';
const skip = o365Skip();

describe('O365 launcher, app-only, against Entra ID and Graph fakes', { skip }, () => {
  const azurite = useAzurite();
  let dir: string;
  let cloud: Awaited<ReturnType<typeof startFakeMicrosoftCloud>>;
  let graph: GraphFake;
  let entra: EntraFake;
  let appCert: TestCertificate;
  let store: BlobStore;
  let lines: { level: LogLevel; msg: string; fields: Record<string, unknown> }[] = [];
  const logger = createLogger((level, msg, fields) => lines.push({ level, msg, fields }));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'o365-it-'));
    appCert = await makeTestCertificate(dir, 'app');
    cloud = await startFakeMicrosoftCloud(dir, {
      tenantId: TENANT,
      apps: [
        { clientId: 'app-secret', secret: 'Tr0ub4dor&3-secret', roles: ['Mail.ReadWrite'] },
        { clientId: 'app-cert', certificatePem: appCert.certPem, roles: ['Mail.ReadWrite'] },
      ],
      users: [],
      mailboxes: [
        { address: SHARED, folders: ['Inbox/Factures', 'Inbox/À vérifier', 'Traités'] },
        { address: 'alice@contoso.fr', folders: ['Traités'] },
        { address: 'direction@contoso.fr' },
      ],
      appAccess: { 'app-secret': [SHARED, 'alice@contoso.fr'], 'app-cert': ['alice@contoso.fr'] },
    });
    ({ graph, entra } = cloud);
  });
  after(async () => {
    await cloud?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    store = await azurite.reset();
    lines = [];
  });

  function launcher(id: string, extra: Record<string, unknown>): LauncherDefinition {
    return launcherSchema.parse({
      id,
      protocol: 'o365',
      authMode: 'app-only',
      tenantId: TENANT,
      clientId: 'app-secret',
      clientSecret: 'Tr0ub4dor&3-secret',
      authorityHost: entra.url,
      graphEndpoint: graph.url,
      tls: { ca: cloud.cert.certPem },
      delaySeconds: 0,
      scenarios: [{ group: 'pdf', waitdir: 'factures' }, { waitdir: 'divers' }],
      ...extra,
    });
  }
  const run = (l: LauncherDefinition) => runLauncher(l, { store, settlement: settleWhenStaged(store), logger, force: true });
  async function staged(id: string): Promise<string[]> {
    const names: string[] = [];
    for await (const b of store.list('staging', `${launcherSegment(id)}/`)) names.push(b.name.split('/').pop()!);
    return names.sort();
  }

  test('a shared mailbox folder path: file, attached mail (.eml) and OneDrive link (reported), then marked read', async () => {
    const m1 = graph.addMessage(SHARED, 'Inbox/Factures', {
      subject: 'Facture 2026-0042',
      attachments: [
        { kind: 'file', name: 'facture-2026-0042.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.7 facture 42') },
        { kind: 'item', name: 'Relance fournisseur', mime: 'From: a@b.c\r\nSubject: Relance fournisseur\r\n\r\nMerci de payer.\r\n' },
        { kind: 'reference', name: 'Contrat cadre.docx' },
      ],
    });
    const m2 = graph.addMessage(SHARED, 'Inbox/Factures', {
      subject: 'Facture 43',
      attachments: [
        { kind: 'file', name: 'logo.png', contentType: 'image/png', content: Buffer.from('png'), isInline: true },
        { kind: 'file', name: 'facture-43.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.7 facture 43') },
      ],
    });
    const m3 = graph.addMessage(SHARED, 'Inbox/Factures', { subject: 'Bonjour, sans pièce jointe' });
    const m4 = graph.addMessage(SHARED, 'Inbox/Factures', {
      subject: 'Ancienne facture déjà lue',
      isRead: true,
      attachments: [{ kind: 'file', name: 'old.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF old') }],
    });
    const l = launcher('partage-factures', { source: `${SHARED}:Inbox/Factures` });

    const report = await run(l);
    assert.equal(report.error, undefined, report.error);
    assert.equal(report.found, 2);
    assert.equal(report.acknowledged, 2);
    assert.equal(report.skipped, 2, 'the mail without attachment and the one read before the first sync');
    assert.deepEqual(await staged('partage-factures'), ['Relance fournisseur.eml', 'facture-2026-0042.pdf', 'facture-43.pdf']);
    assert.equal(graph.message(m1)!.isRead, true);
    assert.equal(graph.message(m2)!.isRead, true);
    assert.equal(graph.message(m3)!.isRead, false, 'a skipped message is left as it is');
    assert.equal(graph.message(m4)!.isRead, true);
    assert.ok(lines.some((x) => x.level === 'warn' && x.msg.includes('"Contrat cadre.docx"')), 'the OneDrive link is reported');
    assert.deepEqual(graph.violations, []);
    assert.ok(graph.requests.every((r) => r.kind === 'app'));
    assert.ok(!JSON.stringify(lines).includes('Tr0ub4dor&3-secret'), 'the secret appears in no log line');

    // Nothing new: nothing taken. A new message: only it.
    assert.equal((await run(l)).found, 0);
    graph.addMessage(SHARED, 'Inbox/Factures', {
      subject: 'Facture 44',
      attachments: [{ kind: 'file', name: 'facture-44.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.7 facture 44') }],
    });
    const third = await run(l);
    assert.equal(third.found, 1);
    assert.equal(third.staged, 1);
    assert.equal((await staged('partage-factures')).length, 4);
  });

  test('certificate credentials, move:<folder>, and the application access policy', async () => {
    const thumbprint = createHash('sha256').update(new X509Certificate(appCert.certPem).raw).digest('hex');
    const cert = { clientId: 'app-cert', clientSecret: undefined, certificate: { thumbprint, privateKey: appCert.keyPem } };
    const id = graph.addMessage('alice@contoso.fr', 'inbox', {
      subject: 'Bon de commande',
      attachments: [{ kind: 'file', name: 'bdc.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF bdc') }],
    });
    const ok = await run(launcher('alice-bdc', { ...cert, source: 'alice@contoso.fr:inbox', afterSuccess: 'move:Traités' }));
    assert.equal(ok.error, undefined, ok.error);
    assert.equal(ok.acknowledged, 1);
    assert.deepEqual(graph.message(id), { folder: 'Traités', isRead: false });
    assert.ok(entra.requests.some((r) => r.grantType === 'client_credentials' && r.status === 200));

    const denied = await run(launcher('direction', { ...cert, source: 'direction@contoso.fr:inbox' }));
    assert.match(denied.error ?? '', /launcher direction: .*HTTP 403: ErrorAccessDenied: .*AppOnly AccessPolicy.*must be in the scope of its Exchange application access policy/);

    const badSecret = await run(launcher('mauvais-secret', { clientSecret: 'wrong', source: `${SHARED}:inbox` }));
    assert.match(badSecret.error ?? '', /O365_APP_CREDENTIALS_REJECTED: launcher mauvais-secret: Entra ID refused the app's credentials \(invalid_client\)/);
  });

  test('throttling: 429 and 503 with Retry-After are waited for, then the run goes on', async () => {
    graph.addMessage(SHARED, 'inbox', {
      subject: 'Facture throttlée',
      attachments: [{ kind: 'file', name: 'lente.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF lente') }],
    });
    graph.fail({ match: /\/messages\/delta/, status: 503, retryAfterSeconds: 1, count: 1 });
    graph.fail({ match: /\/attachments\/[^/]+\/\$value$/, status: 429, retryAfterSeconds: 1, count: 2 });
    const report = await run(launcher('throttle', { source: `${SHARED}:inbox` }));
    assert.equal(report.error, undefined, report.error);
    assert.equal(report.staged, 1);
    assert.equal(graph.requests.filter((r) => r.status === 429).length, 2);
    assert.equal(graph.requests.filter((r) => r.status === 503).length, 1);
    assert.deepEqual(graph.violations, [], 'no request came back before its Retry-After');
    assert.ok(lines.some((x) => x.level === 'warn' && /HTTP 429 \(throttled\), trying again in 1 s as Retry-After asks/.test(x.msg)));

    // A wait longer than a run may last: the message is left for the next run, not lost.
    graph.addMessage(SHARED, 'inbox', {
      subject: 'Facture très throttlée',
      attachments: [{ kind: 'file', name: 'plus-tard.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF later') }],
    });
    graph.fail({ match: /\/attachments\/[^/]+\/\$value$/, status: 429, retryAfterSeconds: 3600, count: 1 });
    const throttled = await run(launcher('throttle', { source: `${SHARED}:inbox` }));
    assert.equal(throttled.failed, 1);
    assert.ok(lines.some((x) => /GRAPH_THROTTLED: .*Graph asks to wait 3600 s/.test(x.msg)));
    graph.clearFaults(); // an hour later
    const later = await run(launcher('throttle', { source: `${SHARED}:inbox` }));
    assert.equal(later.staged, 1, 'taken at the next run');
    assert.equal((await staged('throttle')).length, 2);
  });

  test('withoutAttachments eml / body, wholeMessage, and a message with nothing to file put aside in failedFolder', async () => {
    const plain = graph.addMessage(SHARED, 'Traités', { subject: 'Courrier: simple / texte', body: { contentType: 'html', content: '<p>Bonjour</p>' } });
    const eml = await run(launcher('sans-pj-eml', { source: `${SHARED}:Traités`, withoutAttachments: 'eml' }));
    assert.equal(eml.error, undefined, eml.error);
    assert.deepEqual(await staged('sans-pj-eml'), ['Courrier simple texte.eml']);
    const blobName = `${launcherSegment('sans-pj-eml')}/`;
    let mime = '';
    for await (const b of store.list('staging', blobName)) mime = (await store.container('staging').getBlobClient(b.name).downloadToBuffer()).toString();
    assert.match(mime, /^From: .*\r\nSubject: Courrier: simple \/ texte/);
    assert.equal(graph.message(plain)!.isRead, true);

    graph.addMessage(SHARED, 'Inbox', { subject: 'Corps seul', body: { contentType: 'html', content: '<p>Le corps</p>' } });
    await run(launcher('sans-pj-body', { source: `${SHARED}:inbox`, withoutAttachments: 'body', initialSync: 'all' }));
    assert.ok((await staged('sans-pj-body')).includes('Corps seul.html'));

    graph.addMessage(SHARED, 'Inbox/Factures', {
      subject: 'Avec tout',
      attachments: [{ kind: 'file', name: 'tout.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF tout') }],
    });
    await run(launcher('tout', { source: `${SHARED}:Inbox/Factures`, wholeMessage: true, initialSync: 'all' }));
    const all = await staged('tout');
    assert.ok(all.includes('tout.pdf') && all.includes('Avec tout.eml'), all.join());

    const linkOnly = graph.addMessage(SHARED, 'Inbox', { subject: 'Lien seulement', attachments: [{ kind: 'reference', name: 'Devis.xlsx' }] });
    const report = await run(launcher('liens', { source: `${SHARED}:inbox`, failedFolder: 'Inbox/À vérifier', initialSync: 'all' }));
    assert.equal(report.putAside, 1);
    assert.equal(graph.message(linkOnly)!.folder, 'Inbox/À vérifier');
    assert.ok(lines.some((x) => x.level === 'warn' && /moved to Inbox\/À vérifier: nothing to file: only links to cloud files \(Devis\.xlsx\)/.test(x.msg)));
  });

  test('HTTP 410 (sync state expired): full resynchronisation, nothing staged twice', async () => {
    const l = launcher('resync', { source: `${SHARED}:Traités`, initialSync: 'all' });
    for (const n of [1, 2, 3]) {
      graph.addMessage(SHARED, 'Traités', {
        subject: `Facture ${n}`,
        attachments: [{ kind: 'file', name: `f${n}.pdf`, contentType: 'application/pdf', content: Buffer.from(`%PDF ${n}`) }],
      });
    }
    assert.equal((await run(l)).staged, 3);
    graph.expireSyncStates();
    graph.addMessage(SHARED, 'Traités', {
      subject: 'Facture 4',
      attachments: [{ kind: 'file', name: 'f4.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF 4') }],
    });
    const report = await run(l);
    assert.equal(report.error, undefined, report.error);
    assert.equal(report.staged, 1, 'only the new message is staged');
    assert.equal(report.alreadyStaged, 3, 'the three seen again are recognised by their immutable id');
    assert.equal(graph.requests.filter((r) => r.status === 410).length, 1);
    assert.ok(lines.some((x) => x.level === 'warn' && x.msg.includes('full resynchronisation')));
    assert.equal((await staged('resync')).length, 4);
  });

  test('a crash between staging and marking read, then a re-run: each document staged exactly once', async () => {
    const l = launcher('crash', { source: `${SHARED}:inbox` });
    const seed = await run(l); // an empty first round: the delta link is stored
    assert.equal(seed.error, undefined, seed.error);
    const stateName = launcherStateBlobName('crash');
    const before = await store.readJson('state', stateName);
    const a = graph.addMessage(SHARED, 'inbox', {
      subject: 'Facture A',
      attachments: [
        { kind: 'file', name: 'a1.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF a1') },
        { kind: 'file', name: 'a2.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF a2') },
      ],
    });
    // Marking read fails once (the process "dies" there): the documents are staged, the message is not read.
    graph.fail({ method: 'PATCH', match: /\/messages\//, status: 500, count: 1 });
    const crashed = await run(l);
    assert.equal(crashed.staged, 2);
    assert.equal(crashed.failed, 1);
    assert.equal(graph.message(a)!.isRead, false);
    // ...and the launcher state saved at the end of that run is lost with the process.
    await store.writeJson('state', stateName, before!.value);

    const rerun = await run(l);
    assert.equal(rerun.error, undefined, rerun.error);
    assert.equal(rerun.staged, 0, 'nothing staged again');
    assert.equal(rerun.alreadyStaged, 1);
    assert.equal(rerun.acknowledged, 1);
    assert.equal(graph.message(a)!.isRead, true);
    assert.deepEqual(await staged('crash'), ['a1.pdf', 'a2.pdf']);

    // Same failure with the state kept: the message waits in the pending list and is acknowledged next run.
    const b = graph.addMessage(SHARED, 'inbox', {
      subject: 'Facture B',
      attachments: [{ kind: 'file', name: 'b.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF b') }],
    });
    graph.fail({ method: 'PATCH', match: /\/messages\//, status: 500, count: 1 });
    assert.equal((await run(l)).failed, 1);
    const again = await run(l);
    assert.equal(again.acknowledged, 1);
    assert.equal(again.staged, 0);
    assert.equal(graph.message(b)!.isRead, true);
    assert.equal((await staged('crash')).length, 3);
  });
});

import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { launcherSchema, type LauncherDefinition } from '../../shared/config/schema';
import { deliverAll } from '../../shared/delivery/deliverAll';
import { createDropFolderTarget } from '../../shared/delivery/dropFolder';
import { runLauncher } from '../../shared/launch/runLauncher';
import { settleWhenStaged } from '../../shared/launch/settlement';
import { launcherSegment, launcherStateBlobName } from '../../shared/staging/blobNames';
import type { BlobStore } from '../../shared/staging/blobStore';
import { createLogger, silentLogger, type LogLevel } from '../../shared/util/log';
import { makeTestCertificate, type TestCertificate } from '../fakes/entraFake';
import { startFakeMicrosoftCloud, type GraphFake } from '../fakes/graphFake';
import { useAzurite } from '../helpers/azurite';
import { listFiles } from '../helpers/folders';
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
    assert.equal(report.found, 3);
    assert.equal(report.acknowledged, 2);
    assert.equal(report.putAside, 1, 'the mail without attachment');
    assert.equal(report.skipped, 1, 'the one read before the first sync');
    assert.deepEqual(await staged('partage-factures'), ['Relance fournisseur.eml', 'facture-2026-0042.pdf', 'facture-43.pdf']);
    assert.equal(graph.message(m1)!.isRead, true);
    assert.equal(graph.message(m2)!.isRead, true);
    assert.deepEqual(graph.message(m3), { folder: 'Inbox/Factures', isRead: false }, 'a message put aside without failedFolder is left as it is');
    assert.ok(lines.some((x) => x.level === 'warn' && /"?Bonjour, sans pièce jointe.* left in .* not offered again .*nothing to file: no attachment/.test(x.msg)));
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
    assert.equal(report.putAside, 2, 'the link-only mail, and "Corps seul" (no attachment) now that the launcher says "skip"');
    assert.equal(graph.message(linkOnly)!.folder, 'Inbox/À vérifier');
    assert.ok(lines.some((x) => x.level === 'warn' && /moved to Inbox\/À vérifier: nothing to file: only links to cloud files \(Devis\.xlsx\)/.test(x.msg)));
    assert.ok(lines.some((x) => x.level === 'warn' && /Corps seul.*moved to Inbox\/À vérifier: nothing to file: no attachment/.test(x.msg)));
  });

  test('HTTP 410 (sync state expired): full resynchronisation, nothing staged twice', async () => {
    const l = launcher('resync', { source: `${SHARED}:Inbox/Resync`, initialSync: 'all' });
    for (const n of [1, 2, 3]) {
      graph.addMessage(SHARED, 'Inbox/Resync', {
        subject: `Facture ${n}`,
        attachments: [{ kind: 'file', name: `f${n}.pdf`, contentType: 'application/pdf', content: Buffer.from(`%PDF ${n}`) }],
      });
    }
    assert.equal((await run(l)).staged, 3);
    graph.expireSyncStates();
    graph.addMessage(SHARED, 'Inbox/Resync', {
      subject: 'Facture 4',
      attachments: [{ kind: 'file', name: 'f4.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF 4') }],
    });
    const report = await run(l);
    assert.equal(report.error, undefined, report.error);
    assert.equal(report.staged, 1, 'only the new message is staged');
    assert.equal(report.found, 1);
    assert.equal(report.skipped, 3, 'the three seen again are recognised by their immutable id as already filed');
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
  test('a message filed and delivered is never filed again: full resync (410), moved out and back, marked unread again', async () => {
    const wait = await mkdtemp(join(dir, 'wait-'));
    const deliver = () => deliverAll(store, createDropFolderTarget({ dropFolder: wait, createWaitdirs: true }), silentLogger, { maxAttempts: 3 });
    const delivered = async () => (await listFiles(wait)).filter((f) => !f.startsWith('.'));
    const pdf = (n: string) => ({ subject: `Avis ${n}`, attachments: [{ kind: 'file' as const, name: `avis-${n}.pdf`, contentType: 'application/pdf', content: Buffer.from(`%PDF avis ${n}`) }] });

    // initialSync "all": a resynchronisation offers every message of the folder, read or not.
    const all = launcher('refile-all', { source: `${SHARED}:Inbox/Avis`, initialSync: 'all' });
    const a = graph.addMessage(SHARED, 'Inbox/Avis', pdf('a'));
    const first = await run(all);
    assert.equal(first.error, undefined, first.error);
    assert.equal(first.staged, 1);
    // The sender delivers it: the staged blob leaves staging for archive.
    assert.equal((await deliver()).delivered, 1);
    assert.deepEqual(await staged('refile-all'), []);
    assert.equal((await delivered()).length, 1);

    graph.expireSyncStates();
    const resync = await run(all);
    assert.equal(resync.error, undefined, resync.error);
    assert.equal(graph.requests.filter((r) => r.status === 410 && r.path.includes('/messages/delta')).length >= 1, true);
    assert.equal(resync.staged, 0, 'run 2 stages nothing: the message was filed (and its blob archived) before the resynchronisation');
    assert.equal(resync.found, 0, 'the message filed before the resynchronisation is not offered again');
    assert.equal(resync.skipped, 1);
    assert.ok(lines.some((x) => x.level === 'info' && /1 message\(s\) already filed are back/.test(x.msg)));

    // A person moves it out and back (delta reports it as created again).
    graph.moveMessageTo(a, 'Traités');
    graph.moveMessageTo(a, 'Inbox/Avis');
    const back = await run(all);
    assert.equal(back.error, undefined, back.error);
    assert.equal(back.found, 0, 'moved out and back: not filed again');
    assert.equal(back.staged, 0);

    // initialSync "unread": a person marks it unread again, then Graph asks for a resync.
    const unread = launcher('refile-unread', { source: `${SHARED}:Inbox/Avis2` });
    const b = graph.addMessage(SHARED, 'Inbox/Avis2', pdf('b'));
    assert.equal((await run(unread)).staged, 1);
    assert.equal((await deliver()).delivered, 1);
    graph.setRead(b, false);
    graph.expireSyncStates();
    const again = await run(unread);
    assert.equal(again.error, undefined, again.error);
    assert.equal(again.found, 0, 'marked unread again: not filed again');
    assert.equal(again.staged, 0);

    assert.equal((await deliver()).delivered, 0, 'nothing new to deliver');
    assert.equal((await delivered()).length, 2, 'each message delivered exactly once');
    assert.deepEqual(graph.violations, []);
  });

  test('a message whose only attachment is inline (an inline PDF) is filed; one with nothing to file is put aside with its reason', async () => {
    const l = launcher('inline', { source: `${SHARED}:Inbox/Inline` });
    const inlinePdf = graph.addMessage(SHARED, 'Inbox/Inline', {
      subject: 'Relevé (PDF inline, Apple Mail)',
      attachments: [{ kind: 'file', name: 'releve.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF releve'), isInline: true }],
    });
    const logoOnly = graph.addMessage(SHARED, 'Inbox/Inline', {
      subject: 'Signature seule',
      attachments: [{ kind: 'file', name: 'image001.png', contentType: 'image/png', content: Buffer.from('png logo'), isInline: true }],
    });
    const plain = graph.addMessage(SHARED, 'Inbox/Inline', { subject: 'Texte seul' });
    assert.equal(graph.hasAttachments(inlinePdf), false, 'as Graph: inline attachments are not counted in hasAttachments');
    assert.equal(graph.hasAttachments(logoOnly), false);

    const report = await run(l);
    assert.equal(report.error, undefined, report.error);
    assert.equal(report.found, 3, 'every message is looked at, whatever its hasAttachments says');
    assert.equal(report.staged, 1);
    assert.deepEqual(await staged('inline'), ['releve.pdf']);
    assert.equal(graph.message(inlinePdf)!.isRead, true);
    assert.equal(report.putAside, 2);
    assert.deepEqual(graph.message(logoOnly), { folder: 'Inbox/Inline', isRead: false });
    assert.deepEqual(graph.message(plain), { folder: 'Inbox/Inline', isRead: false });
    const warned = (re: RegExp) => lines.some((x) => x.level === 'warn' && re.test(x.msg));
    assert.ok(warned(/Signature seule.*left in .*Inbox\/Inline and not offered again.*nothing to file: only embedded images \(image001\.png; "includeInline" takes them\)/));
    assert.ok(warned(/Texte seul.*left in .*not offered again.*nothing to file: no attachment \(withoutAttachments is "skip"\)/));

    // Not offered again, even by a full resynchronisation.
    graph.expireSyncStates();
    const again = await run(l);
    assert.equal(again.error, undefined, again.error);
    assert.equal(again.found, 0);
    assert.equal(again.putAside, 0);
    assert.equal(again.skipped, 3);

    // With failedFolder, such a message is moved there.
    const moved = graph.addMessage(SHARED, 'Inbox/Inline2', { subject: 'Sans rien' });
    const aside = await run(launcher('inline-aside', { source: `${SHARED}:Inbox/Inline2`, failedFolder: 'Inbox/À vérifier' }));
    assert.equal(aside.putAside, 1);
    assert.equal(graph.message(moved)!.folder, 'Inbox/À vérifier');
  });

  test('documents are named by the mail rules shared with IMAP and POP3; attached event and contact as .ics and .vcf', async () => {
    const ical = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:Réunion de chantier\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n';
    const vcard = 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jean Dupont\r\nEND:VCARD\r\n';
    graph.addMessage(SHARED, 'Inbox/Noms', {
      subject: 'Pièces du dossier',
      attachments: [
        { kind: 'file', name: 'scan.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF scan 1') },
        { kind: 'file', name: 'SCAN.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF scan 2') },
        { kind: 'file', name: '', contentType: 'application/pdf', content: Buffer.from('%PDF sans nom') },
        { kind: 'file', name: 'bon de livraison', contentType: 'application/pdf', content: Buffer.from('%PDF bl') },
        { kind: 'file', name: 'vide.pdf', contentType: 'application/pdf', content: Buffer.alloc(0) },
        { kind: 'item', name: 'Réunion de chantier', mime: ical, itemType: 'event' },
        { kind: 'item', name: 'Jean Dupont', mime: vcard, itemType: 'contact' },
        { kind: 'item', name: 'Relance', mime: 'From: a@b.c\r\nSubject: Relance\r\n\r\nBonjour\r\n' },
        { kind: 'item', name: 'Invitation', mime: 'From: a@b.c\r\nSubject: Invitation\r\n\r\nVenez\r\n', itemType: 'eventMessage' },
      ],
    });
    const report = await run(launcher('noms', { source: `${SHARED}:Inbox/Noms` }));
    assert.equal(report.error, undefined, report.error);
    assert.deepEqual(await staged('noms'), [
      'Invitation.eml', 'Jean Dupont.vcf', 'Relance.eml', 'Réunion de chantier.ics', 'SCAN_2.pdf', 'bon de livraison.pdf', 'document.pdf', 'scan.pdf',
    ]);
    assert.ok(lines.some((x) => x.level === 'info' && x.msg.includes('"vide.pdf" left out: empty attachment (0 bytes)')));
    const content = new Map<string, { text: string; type?: string }>();
    for await (const b of store.list('staging', `${launcherSegment('noms')}/`)) {
      const blob = store.container('staging').getBlobClient(b.name);
      content.set(b.name.split('/').pop()!, { text: (await blob.downloadToBuffer()).toString(), type: (await blob.getProperties()).contentType });
    }
    assert.equal(content.get('Réunion de chantier.ics')!.text, ical);
    assert.equal(content.get('Réunion de chantier.ics')!.type, 'text/calendar');
    assert.equal(content.get('Jean Dupont.vcf')!.text, vcard);
    assert.equal(content.get('Jean Dupont.vcf')!.type, 'text/vcard');
    assert.equal(content.get('SCAN_2.pdf')!.text, '%PDF scan 2');
    assert.deepEqual(graph.violations, []);
  });

  test('afterSuccess "delete" moves the message to Deleted Items, as Outlook does (not a Graph DELETE)', async () => {
    const id = graph.addMessage(SHARED, 'Inbox/Suppr', {
      subject: 'À supprimer après dépôt',
      attachments: [{ kind: 'file', name: 'suppr.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF suppr') }],
    });
    const report = await run(launcher('suppr', { source: `${SHARED}:Inbox/Suppr`, afterSuccess: 'delete' }));
    assert.equal(report.error, undefined, report.error);
    assert.equal(report.acknowledged, 1);
    assert.deepEqual(graph.message(id), { folder: 'Deleted Items', isRead: false });
    assert.ok(!graph.requests.some((r) => r.method === 'DELETE'), 'no DELETE: it would leave Deleted Items out (Recoverable Items)');
  });
});

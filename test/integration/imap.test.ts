import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { parseConfig } from '../../shared/config/load';
import type { LauncherDefinition, LauncherOf } from '../../shared/config/schema';
import { ItemRejectedError, type ColdError } from '../../shared/errors';
import { runLauncher } from '../../shared/launch/runLauncher';
import { settleWhenStaged } from '../../shared/launch/settlement';
import type { LaunchReport } from '../../shared/launch/report';
import type { BlobStore } from '../../shared/staging/blobStore';
import { decodeMetadata } from '../../shared/staging/metadata';
import { moveMessage } from '../../shared/sources/imap/afterSuccess';
import { clientOptions, connectionError } from '../../shared/sources/imap/connect';
import { createImapSource, type ImapItem } from '../../shared/sources/imap/imapSource';
import { WHOLE_FETCH_MAX_BYTES } from '../../shared/sources/imap/wholeFetch';
import { createLogger, silentLogger, type Logger } from '../../shared/util/log';
import { buildCorpus, message, multipart, text, attachment, PDF } from '../fixtures/mail/corpus';
import { signedMail, simpleMail, twoPdfMail } from '../fixtures/mail/testMails';
import { fakePdf } from '../helpers/mailMessages';
import { useAzurite, uniqueName } from '../helpers/azurite';
import { appendMessages, dovecotGate, folderContents, imapLauncherOn, testImapClient, useDovecot, type RunningDovecot } from '../helpers/dovecot';
import { refusingUntilHealed, withDocuments } from '../helpers/refusedDocument';

const gate = dovecotGate();
const dovecot = useDovecot(gate.skip);
const azurite = useAzurite();

function launcher(d: RunningDovecot, over: Record<string, unknown> = {}): LauncherOf<'imap'> {
  const text = JSON.stringify({
    ezged: { dropFolder: '/unused' },
    launchers: [
      {
        id: uniqueName('imap'),
        ...imapLauncherOn(d, '%IMAP_PASSWORD%'),
        timeoutSeconds: 20,
        scenarios: [{ group: 'pdf', waitdir: 'factures' }, { waitdir: 'divers' }],
        ...over,
      },
    ],
  });
  return parseConfig(text, { IMAP_PASSWORD: d.password }).launchers[0] as LauncherOf<'imap'>;
}

const run = (l: LauncherDefinition, store: BlobStore, extra: Partial<Parameters<typeof runLauncher>[1]> = {}) =>
  runLauncher(l, { store, settlement: settleWhenStaged(store), logger: silentLogger, force: true, ...extra });

/** Staged document names by Message-ID, sorted (blob names do not keep the document order; unit tests check it). */
async function stagedByMessage(store: BlobStore): Promise<Map<string, string[]>> {
  const rows: { mid: string; blob: string; name: string }[] = [];
  for await (const b of store.list('staging')) {
    const props = await store.container('staging').getBlobClient(b.name).getProperties();
    const m = decodeMetadata(props.metadata);
    rows.push({ mid: m.sourceKey!.split('|')[1]!, blob: b.name, name: m.fileName! });
  }
  rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out = new Map<string, string[]>();
  for (const r of rows) out.set(r.mid, [...(out.get(r.mid) ?? []), r.name]);
  return out;
}

const counts = (r: LaunchReport) => ({ found: r.found, staged: r.staged, acknowledged: r.acknowledged, putAside: r.putAside, alreadyStaged: r.alreadyStaged, failed: r.failed, error: r.error });
const mid = (name: string, tag: string) => `<${name}.${tag}@example.org>`;

function capture(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { lines, logger: createLogger((level, msg) => lines.push(`${level} ${msg}`)) };
}

describe('IMAP launcher against Dovecot', { skip: gate.skip }, () => {
  test('the corpus: the right documents are staged, handled mail is marked read, bad mail goes to failedFolder', async () => {
    const d = dovecot();
    const store = await azurite.reset();
    const corpus = buildCorpus('corpus');
    await appendMessages(d, 'Corpus', corpus.map((m) => m.raw));
    const l = launcher(d, { source: 'Corpus', failedFolder: 'Corpus-failed' });
    const report = await run(l, store);
    const rejected = corpus.filter((m) => m.expected === 'rejected');
    const taken = corpus.filter((m) => m.expected !== 'rejected');
    assert.deepEqual(counts(report), {
      found: corpus.length,
      staged: taken.reduce((n, m) => n + (m.expected as string[]).length, 0),
      acknowledged: taken.length,
      putAside: rejected.length,
      alreadyStaged: 0,
      failed: 0,
      error: undefined,
    });
    const staged = await stagedByMessage(store);
    for (const m of taken) assert.deepEqual(staged.get(mid(m.name, 'corpus')), [...(m.expected as string[])].sort(), m.name);
    assert.equal(staged.size, taken.length);

    const left = await folderContents(d, 'Corpus');
    assert.equal(left.length, taken.length);
    assert.ok(left.every((m) => m.flags.includes('\\Seen')), 'every taken message is marked read');
    const failed = await folderContents(d, 'Corpus-failed');
    assert.deepEqual(failed.map((m) => m.messageId).sort(), rejected.map((m) => mid(m.name, 'corpus')).sort());

    // A second run finds nothing: handled mail is not fetched again.
    const again = await run(l, store);
    assert.deepEqual([again.found, again.staged, again.error], [0, 0, undefined]);
  });

  test('without failedFolder, a mail that can never be taken stays where it is and is not downloaded again', async () => {
    const d = dovecot();
    const store = await azurite.reset();
    const m = buildCorpus('nofailed').find((c) => c.name === 'malformed')!;
    await appendMessages(d, 'NoFailed', [m.raw]);
    const l = launcher(d, { source: 'NoFailed' });
    const first = await run(l, store);
    assert.deepEqual([first.found, first.putAside], [1, 1]);
    const second = await run(l, store);
    assert.deepEqual([second.found, second.skipped, second.putAside], [0, 1, 0]);
    const left = await folderContents(d, 'NoFailed');
    assert.equal(left.length, 1);
    assert.ok(!left[0]!.flags.includes('\\Seen'));
  });

  for (const [afterSuccess, check] of [
    ['seen', (msgs: { flags: string[] }[], archive: unknown[]) => msgs.length === 1 && msgs[0]!.flags.includes('\\Seen') && archive.length === 0],
    ['flag', (msgs: { flags: string[] }[], archive: unknown[]) => msgs.length === 1 && msgs[0]!.flags.includes('\\Flagged') && !msgs[0]!.flags.includes('\\Seen') && archive.length === 0],
    ['delete', (msgs: unknown[], archive: unknown[]) => msgs.length === 0 && archive.length === 0],
    ['move:Traite/2025', (msgs: unknown[], archive: unknown[]) => msgs.length === 0 && archive.length === 1],
  ] as const) {
    test(`afterSuccess ${afterSuccess}: done once staged, and the message is not taken again`, async () => {
      const d = dovecot();
      const store = await azurite.reset();
      const folder = uniqueName('After');
      await appendMessages(d, folder, [simpleMail(uniqueName('after'))]);
      const l = launcher(d, { source: folder, afterSuccess });
      const first = await run(l, store);
      assert.deepEqual([first.found, first.staged, first.acknowledged, first.error], [1, 1, 1, undefined]);
      const archive = afterSuccess.startsWith('move:') ? await folderContents(d, 'Traite/2025') : [];
      assert.ok(check(await folderContents(d, folder) as never, archive), JSON.stringify(await folderContents(d, folder)));
      const second = await run(l, store);
      assert.deepEqual([second.found, second.staged], [0, 0]);
      // move: clean the shared target for the next test
      if (archive.length) {
        const c = await testImapClient(d);
        await c.mailboxDelete('Traite/2025');
        await c.logout();
      }
    });
  }

  test('nested source folder and oldest first with maxMessagesPerRun', async () => {
    const d = dovecot();
    const store = await azurite.reset();
    const ids = ['n1', 'n2', 'n3'].map((n) => uniqueName(n));
    await appendMessages(d, 'Scans/Factures', ids.map((id) => simpleMail(id)));
    const l = launcher(d, { source: 'Scans/Factures', maxMessagesPerRun: 2 });
    const first = await run(l, store);
    assert.deepEqual([first.found, first.staged, first.waiting], [2, 2, 1]);
    const staged = await stagedByMessage(store);
    assert.deepEqual([...staged.keys()].sort(), ids.slice(0, 2).map((i) => `<${i}@example.org>`).sort());
    const second = await run(l, store);
    assert.deepEqual([second.found, second.staged], [1, 1]);
  });

  test('implicit TLS with the self-signed certificate trusted through tls.ca; refused without it', async () => {
    const d = dovecot();
    const store = await azurite.reset();
    const folder = uniqueName('Tls');
    await appendMessages(d, folder, [simpleMail(uniqueName('tls'))]);
    const untrusted = await run(launcher(d, { source: folder, port: d.imapsPort, security: 'tls', tls: { servername: 'localhost' } }), store);
    assert.match(untrusted.error ?? '', /IMAP_TLS_FAILED/);
    assert.match(untrusted.error ?? '', /"tls": \{ "ca"/);
    assert.equal(untrusted.staged, 0);
    const trusted = await run(launcher(d, { source: folder, port: d.imapsPort, security: 'tls' }), store);
    assert.deepEqual([trusted.found, trusted.staged, trusted.error], [1, 1, undefined]);
  });

  test('STARTTLS is required, not opportunistic: an untrusted certificate fails instead of falling back', async () => {
    const d = dovecot();
    const store = await azurite.reset();
    const report = await run(launcher(d, { source: 'INBOX', tls: {} }), store);
    assert.match(report.error ?? '', /IMAP_TLS_FAILED/);
  });

  test('security "none" (with allowInsecure) logs in over clear text on the plain port', async () => {
    const d = dovecot();
    const store = await azurite.reset();
    const folder = uniqueName('Clear');
    await appendMessages(d, folder, [simpleMail(uniqueName('clear'))]);
    const report = await run(launcher(d, { source: folder, security: 'none', allowInsecure: true, tls: {} }), store);
    assert.deepEqual([report.found, report.staged, report.error], [1, 1, undefined]);
  });

  test('a wrong password: a clear error, the launcher reports it, nothing staged, no secret in the text', async () => {
    const d = dovecot();
    const store = await azurite.reset();
    const folder = uniqueName('Auth');
    await appendMessages(d, folder, [simpleMail(uniqueName('auth'))]);
    const l = { ...launcher(d, { source: folder }), password: 'not-the-password-123' };
    const { logger, lines } = capture();
    const report = await run(l, store, { logger });
    assert.match(report.error ?? '', /IMAP_AUTH_FAILED: launcher .*refused the login of alice .*Check "user" and "password"/);
    assert.equal(report.staged, 0);
    assert.equal((await stagedByMessage(store)).size, 0);
    assert.ok(!lines.join('\n').includes(d.password), 'the real password never shows');
    assert.equal((await folderContents(d, folder))[0]!.flags.includes('\\Seen'), false);
  });

  test('a crash between staging and marking read: the re-run files nothing twice and marks it', async () => {
    const d = dovecot();
    const store = await azurite.reset();
    const folder = uniqueName('Crash');
    const id = uniqueName('crash');
    await appendMessages(d, folder, [twoPdfMail(id)]);
    const l = launcher(d, { source: folder });
    // The process dies after staging, before the message is marked: the pipeline never acknowledges.
    const noAck = { ...settleWhenStaged(store), isSettled: async () => false };
    const first = await run(l, store, { settlement: noAck });
    assert.deepEqual([first.staged, first.acknowledged], [2, 0]);
    assert.equal((await folderContents(d, folder))[0]!.flags.includes('\\Seen'), false);
    const second = await run(l, store);
    assert.deepEqual([second.found, second.staged, second.alreadyStaged, second.acknowledged], [1, 0, 1, 1]);
    assert.deepEqual((await stagedByMessage(store)).get(`<${id}@example.org>`), ['a.pdf', 'b.pdf']);
    assert.ok((await folderContents(d, folder))[0]!.flags.includes('\\Seen'));
  });

  test('UIDVALIDITY change (mailbox recreated, flags lost): new mail is taken, old mail is not filed again', async () => {
    const d = dovecot();
    const store = await azurite.reset();
    const folder = uniqueName('Uv');
    const [m1, m2, m3, m4] = ['m1', 'm2', 'm3', 'm4'].map((n) => simpleMail(uniqueName(`uv-${n}`), `${n}.pdf`));
    await appendMessages(d, folder, [m1!, m2!]);
    const l = launcher(d, { source: folder });
    assert.deepEqual(counts(await run(l, store)).acknowledged, 2);
    // m3 is staged but the run "crashes" before marking it.
    await appendMessages(d, folder, [m3!]);
    const noAck = { ...settleWhenStaged(store), isSettled: async () => false };
    assert.equal((await run(l, store, { settlement: noAck })).staged, 1);

    const client = await testImapClient(d);
    const before = (await client.mailboxOpen(folder)).uidValidity;
    await client.mailboxClose();
    await client.mailboxDelete(folder);
    await client.mailboxCreate(folder);
    await client.logout();
    await appendMessages(d, folder, [m1!, m2!, m3!, m4!]); // all unseen again, new UIDs
    const c2 = await testImapClient(d);
    const afterUv = (await c2.mailboxOpen(folder)).uidValidity;
    await c2.logout();
    assert.notEqual(afterUv, before);

    const { logger, lines } = capture();
    const report = await run(l, store, { logger });
    assert.deepEqual([report.found, report.staged, report.alreadyStaged, report.acknowledged, report.skipped], [2, 1, 1, 2, 2]);
    const staged = await stagedByMessage(store);
    assert.equal(staged.size, 4);
    assert.deepEqual([...staged.values()].flat().sort(), ['m1.pdf', 'm2.pdf', 'm3.pdf', 'm4.pdf']);
    assert.ok(lines.some((x) => /UIDVALIDITY .* changed from/.test(x)), lines.join('\n'));
  });

  test('a message that fails run after run goes to failedFolder with the reason', async () => {
    const d = dovecot();
    const folder = uniqueName('Fails');
    await appendMessages(d, folder, [simpleMail(uniqueName('fails'))]);
    const l = launcher(d, { source: folder, failedFolder: `${folder}-failed`, maxFailures: 2 });
    const state: Record<string, unknown> = {};
    const ctx = { launcher: l, state, logger: silentLogger, now: () => new Date() };
    const readyItem = async (src: Awaited<ReturnType<typeof createImapSource>>): Promise<ImapItem> => {
      for await (const c of src.scan(10)) if (c.verdict === 'ready') return c.item;
      throw new Error('no ready item');
    };
    for (let i = 0; i < 2; i++) {
      // Staging starts (a document is opened) but never completes: the run ends without acknowledging.
      const src = await createImapSource(ctx);
      const docs = await src.documents(await readyItem(src));
      (await docs[0]!.open()).destroy();
      await src.close();
    }
    const src = await createImapSource(ctx);
    const item = await readyItem(src);
    const err = await src.documents(item).catch((e: unknown) => e);
    assert.ok(err instanceof ItemRejectedError);
    assert.match(err.message, /failed in 2 runs in a row/);
    await src.putAside(item, err.message);
    await src.close();
    assert.equal((await folderContents(d, folder)).length, 0);
    assert.equal((await folderContents(d, `${folder}-failed`)).length, 1);
  });

  for (const when of ['before it is fetched', 'after it was fetched ahead'] as const) {
    test(`a small message expunged by another client ${when}: never staged in part, the others are taken`, async () => {
      const d = dovecot();
      const store = await azurite.reset();
      const folder = uniqueName('Gone');
      const ids = ['g1', 'g2', 'g3', 'g4'].map((n) => uniqueName(n));
      await appendMessages(d, folder, ids.map((id, i) => simpleMail(id, `g${i + 1}.pdf`)));
      const l = launcher(d, { source: folder });
      // UIDs 1..4 in a new folder; UID 3 goes away before the first message is read (so before
      // any FETCH), or when the third is about to be read (its bytes are in memory by then).
      let calls = 0;
      const expunging = withDocuments(async (item, documents) => {
        if (++calls === (when === 'before it is fetched' ? 1 : 3)) {
          const c = await testImapClient(d);
          await c.mailboxOpen(folder);
          await c.messageDelete('3', { uid: true });
          await c.logout();
        }
        return documents(item);
      });
      const report = await run(l, store, { openSource: expunging });
      assert.equal(report.found, 4);
      assert.equal(report.putAside, 0, 'an expunged message is not taken for a malformed one');
      const staged = await stagedByMessage(store);
      for (const [i, id] of ids.entries()) if (i !== 2) assert.deepEqual(staged.get(`<${id}@example.org>`), [`g${i + 1}.pdf`]);
      // Either the server no longer gave it (left, not blamed beyond this run) or it came whole.
      const third = staged.get(`<${ids[2]}@example.org>`);
      assert.ok(third === undefined ? report.failed === 1 : third[0] === 'g3.pdf', JSON.stringify({ third, report }));
      const pdfSha = createHash('sha256').update(PDF).digest('hex');
      for await (const b of store.list('staging')) {
        const m = decodeMetadata((await store.container('staging').getBlobClient(b.name).getProperties()).metadata);
        assert.equal(m.sha256, pdfSha, `${m.fileName} staged whole`);
      }
    });
  }

  test('a small message the server no longer has when it is fetched: IMAP_MESSAGE_GONE, left for the next run, not put aside', async () => {
    const d = dovecot();
    const store = await azurite.reset();
    const folder = uniqueName('Missing');
    const ids = ['h1', 'h2', 'h3'].map((n) => uniqueName(n));
    await appendMessages(d, folder, ids.map((id, i) => simpleMail(id, `h${i + 1}.pdf`)));
    // Dovecot still serves a message another session expunged until this session is told, so
    // the message that is gone is simulated: the second item asks for a UID that does not exist.
    const gone = (item: ImapItem): ImapItem => (item.uid === 2 ? { ...item, uid: 9999 } : item);
    const missing = withDocuments((item, documents) => documents(gone(item as ImapItem)));
    const { logger, lines } = capture();
    const report = await run(launcher(d, { source: folder }), store, { openSource: missing, logger });
    assert.deepEqual([report.found, report.staged, report.acknowledged, report.failed, report.putAside], [3, 2, 2, 1, 0]);
    assert.ok(lines.some((x) => /IMAP_MESSAGE_GONE: UID 9999 is no longer in/.test(x)), lines.join('\n'));
    const flags = await folderContents(d, folder);
    assert.deepEqual(flags.map((m) => m.flags.includes('\\Seen')), [true, false, true]);
  });

  test('a batched MOVE the server refuses because one message was expunged meanwhile: the others are still moved', async () => {
    const d = dovecot();
    const folder = uniqueName('Batch');
    const done = uniqueName('Done');
    await appendMessages(d, folder, ['b1', 'b2', 'b3'].map((n) => simpleMail(uniqueName(n), `${n}.pdf`)));
    const client = await testImapClient(d);
    try {
      await client.mailboxCreate(done);
      await client.mailboxOpen(folder);
      // Another session expunges UID 2: Dovecot then answers the MOVE of 1,2,3 with
      // NO [EXPUNGEISSUED] and moves nothing, which imapflow reports as success.
      const other = await testImapClient(d);
      await other.mailboxOpen(folder);
      await other.messageDelete('2', { uid: true });
      await other.logout();
      await moveMessage(client, [1, 2, 3], done);
    } finally {
      await client.logout();
    }
    assert.deepEqual(await folderContents(d, folder), [], 'nothing left in the source');
    assert.equal((await folderContents(d, done)).length, 2);
  });

  test('small messages fetched whole and a large one streamed in the same run give the same documents', async () => {
    const d = dovecot();
    const store = await azurite.reset();
    const folder = uniqueName('Mixed');
    const big = fakePdf(WHOLE_FETCH_MAX_BYTES + 512 * 1024);
    const ids = ['s1', 'big', 's2', 's3'].map((n) => uniqueName(n));
    const mails = ids.map((id, i) =>
      message(id, `Mail ${i}`, multipart('mixed', [text('x'), attachment('application/pdf', `filename="m${i}.pdf"`, i === 1 ? big : PDF)])),
    );
    await appendMessages(d, folder, mails);
    const report = await run(launcher(d, { source: folder }), store);
    assert.deepEqual([report.found, report.staged, report.acknowledged, report.failed], [4, 4, 4, 0]);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const seen = new Map<string, string>();
    for await (const b of store.list('staging')) {
      const m = decodeMetadata((await store.container('staging').getBlobClient(b.name).getProperties()).metadata);
      seen.set(m.fileName!, m.sha256!);
    }
    assert.deepEqual(Object.fromEntries(seen), { 'm0.pdf': sha(PDF), 'm1.pdf': sha(big), 'm2.pdf': sha(PDF), 'm3.pdf': sha(PDF) });
    assert.ok((await folderContents(d, folder)).every((m) => m.flags.includes('\\Seen')));
  });

  test('filenameFilter *.pdf: a signed mail files a.pdf only and is marked read; a mail with no PDF goes to failedFolder, the reason naming what was left out', async () => {
    const d = dovecot();
    const store = await azurite.reset();
    const folder = uniqueName('Filter');
    const [signedId, tnefId] = [uniqueName('signed'), uniqueName('tnef')];
    await appendMessages(d, folder, [
      signedMail(signedId, [['application/pdf', 'a.pdf', PDF]]),
      signedMail(tnefId, [['application/ms-tnef', 'winmail.dat', Buffer.from('TNEF')]]),
    ]);
    // No default scenario: smime.p7s staged as a document would leave the mail at the source, run after run.
    const l = launcher(d, { source: folder, failedFolder: `${folder}-failed`, filenameFilter: '*.pdf', scenarios: [{ group: 'pdf', waitdir: 'factures' }] });
    const { logger, lines } = capture();
    const report = await run(l, store, { logger });
    assert.deepEqual(counts(report), { found: 2, staged: 1, acknowledged: 1, putAside: 1, alreadyStaged: 0, failed: 0, error: undefined });
    assert.equal(report.unrouted, 0);
    assert.deepEqual([...(await stagedByMessage(store))], [[`<${signedId}@example.org>`, ['a.pdf']]]);
    assert.deepEqual((await folderContents(d, folder)).map((m) => [m.messageId, m.flags.includes('\\Seen')]), [[`<${signedId}@example.org>`, true]]);
    assert.deepEqual((await folderContents(d, `${folder}-failed`)).map((m) => m.messageId), [`<${tnefId}@example.org>`]);
    assert.ok(lines.some((x) => /^info .*: not filed, not matching the file-name filter \*\.pdf: "smime\.p7s"$/.test(x)), lines.join('\n'));
    assert.ok(lines.some((x) => /^warn .*moved to .*-failed: no attachment matches the file-name filter \*\.pdf \(left out: "winmail\.dat", "smime\.p7s"\)/.test(x)), lines.join('\n'));
  });

  test('read-only (preview): messages are read, nothing changes: no folder created, no flag set (not even \\Recent cleared), nothing acknowledged or put aside', async () => {
    const d = dovecot();
    const folder = uniqueName('Preview');
    const malformed = buildCorpus(uniqueName('pv')).find((c) => c.name === 'malformed')!;
    await appendMessages(d, folder, [simpleMail(uniqueName('pv-good')), malformed.raw]);
    const l = launcher(d, { source: folder, afterSuccess: `move:${folder}-done`, failedFolder: `${folder}-failed` });
    const src = await createImapSource({ launcher: l, state: {}, logger: silentLogger, now: () => new Date(), readOnly: true });
    const ready: ImapItem[] = [];
    try {
      for await (const c of src.scan(10)) if (c.verdict === 'ready') ready.push(c.item);
      assert.equal(ready.length, 2);
      assert.deepEqual((await src.documents(ready[0]!)).map((doc) => doc.name), ['doc.pdf']);
      await assert.rejects(src.documents(ready[1]!), ItemRejectedError);
      const readOnlyRefusal = (err: unknown) => (err as ColdError).code === 'IMAP_READ_ONLY';
      await assert.rejects(src.acknowledge(ready[0]!), readOnlyRefusal);
      await assert.rejects(src.putAside(ready[1]!, 'malformed'), readOnlyRefusal);
    } finally {
      await src.close();
    }
    const client = await testImapClient(d);
    const folders = (await client.list()).map((m) => m.path);
    await client.logout();
    assert.ok(!folders.includes(`${folder}-done`) && !folders.includes(`${folder}-failed`), folders.join(', '));
    // The first session to SELECT the folder (this check) still finds the messages new.
    assert.deepEqual((await folderContents(d, folder)).map((m) => m.flags), [['\\Recent'], ['\\Recent']]);
  });

  test('a message failing run after run with part of it already staged is not moved to failedFolder: it is tried again, then filed whole, once', async () => {
    const d = dovecot();
    const store = await azurite.reset();
    const folder = uniqueName('Partly');
    const id = uniqueName('partly');
    await appendMessages(d, folder, [twoPdfMail(id)]);
    const l = launcher(d, { source: folder, failedFolder: `${folder}-failed`, maxFailures: 2 });
    // b.pdf cannot be staged (storage refusing it, say) until `healed`; a.pdf can.
    let healed = false;
    const failingB = refusingUntilHealed('b.pdf', () => healed);
    for (let i = 1; i <= 2; i++) {
      const r = await run(l, store, { openSource: failingB });
      assert.deepEqual([r.found, r.failed, r.putAside, r.acknowledged], [1, 1, 0, 0], `run ${i}`);
      assert.deepEqual((await stagedByMessage(store)).get(`<${id}@example.org>`), ['a.pdf'], `run ${i}`);
    }
    const { logger, lines } = capture();
    const third = await run(l, store, { openSource: failingB, logger });
    assert.deepEqual([third.putAside, third.failed], [0, 1], 'not put aside: a.pdf would reach EzGED without b.pdf');
    assert.ok(lines.some((x) => /^warn .*failed in 2 runs in a row.*, but part of it is already staged \("a\.pdf" \(staging\)\): not moved to .*-failed/.test(x)), lines.join('\n'));
    assert.equal((await folderContents(d, folder)).length, 1);
    assert.deepEqual(await folderContents(d, `${folder}-failed`), []);

    healed = true;
    const fourth = await run(l, store, { openSource: failingB });
    assert.deepEqual([fourth.staged, fourth.acknowledged, fourth.putAside], [1, 1, 0]);
    assert.deepEqual((await stagedByMessage(store)).get(`<${id}@example.org>`), ['a.pdf', 'b.pdf'], 'each document once');
    assert.ok((await folderContents(d, folder))[0]!.flags.includes('\\Seen'));
  });

  test('XOAUTH2 against a server that does not offer it: a clear error (see imapOauth2.test.ts for the accepted case)', async () => {
    const d = dovecot();
    const store = await azurite.reset();
    const l = launcher(d, { password: undefined, auth: { type: 'oauth2', accessToken: 'ya29.not-a-real-token' } });
    const report = await run(l, store);
    assert.match(report.error ?? '', /IMAP_AUTH_FAILED: .*does not offer OAuth2/);
    assert.ok(!(report.error ?? '').includes('ya29.not-a-real-token'));
  });
});

describe('IMAP connection settings (no server needed)', () => {
  const base = { server: 'imap.gmail.com', user: 'ged@gmail.com', password: 'app-password-1234' };
  const parse = (over: Record<string, unknown>) =>
    parseConfig(JSON.stringify({ ezged: { dropFolder: '/x' }, launchers: [{ id: 'g', protocol: 'imap', scenarios: [{ waitdir: 'w' }], ...base, ...over }] }), {}).launchers[0] as LauncherOf<'imap'>;

  test('security: 993 means implicit TLS, another port STARTTLS (required), none only when allowed', async () => {
    const tls = await clientOptions(parse({}), silentLogger);
    assert.deepEqual([tls.port, tls.secure, tls.doSTARTTLS, tls.tls?.rejectUnauthorized], [993, true, undefined, true]);
    const starttls = await clientOptions(parse({ port: 143 }), silentLogger);
    assert.deepEqual([starttls.secure, starttls.doSTARTTLS], [false, true]);
    const none = await clientOptions(parse({ port: 143, security: 'none', allowInsecure: true }), silentLogger);
    assert.deepEqual([none.secure, none.doSTARTTLS], [false, false]);
    assert.throws(() => parse({ security: 'none' }), /allowInsecure/);
  });

  test('Gmail authentication failures explain app passwords and IMAP access', () => {
    const err = Object.assign(new Error('Command failed'), { authenticationFailed: true, responseText: 'Invalid credentials (Failure)' });
    const e = connectionError(parse({}), err);
    assert.equal(e.code, 'IMAP_AUTH_FAILED');
    assert.match(e.message, /refused the login of ged@gmail.com \(Invalid credentials \(Failure\)\)/);
    assert.match(e.message, /app password/);
    assert.match(e.message, /IMAP access is enabled/);
    assert.ok(!e.message.includes('app-password-1234'));
  });
});

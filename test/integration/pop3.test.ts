import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { parseConfig } from '../../shared/config/load';
import type { LauncherDefinition, LauncherOf } from '../../shared/config/schema';
import type { ColdError } from '../../shared/errors';
import { runLauncher } from '../../shared/launch/runLauncher';
import { settleWhenStaged } from '../../shared/launch/settlement';
import type { LaunchReport } from '../../shared/launch/report';
import type { BlobStore } from '../../shared/staging/blobStore';
import { loadLauncherState } from '../../shared/staging/launcherState';
import type { Pop3Memory } from '../../shared/sources/pop3/memory';
import { createPop3Source } from '../../shared/sources/pop3/pop3Source';
import type { Candidate } from '../../shared/sources/types';
import { createLogger, silentLogger, type Logger } from '../../shared/util/log';
import { attachment, buildCorpus, message, multipart, PDF } from '../fixtures/mail/corpus';
import { signedMail, simpleMail, twoPdfMail } from '../fixtures/mail/testMails';
import { uniqueName, useAzurite } from '../helpers/azurite';
import { appendMessages, dovecotGate, folderContents, imapLauncherOn, useDovecot, type RunningDovecot } from '../helpers/dovecot';
import { deliverAll, emptyInbox, namesByMessage, stagedDocuments, startPop3Proxy, type Pop3Proxy } from '../helpers/pop3';
import { refusingUntilHealed } from '../helpers/refusedDocument';

const gate = dovecotGate();
const dovecot = useDovecot(gate.skip);
const azurite = useAzurite();

/** A POP3 launcher on Dovecot's implicit-TLS port, trusting the test certificate. */
function launcher(d: RunningDovecot, over: Record<string, unknown> = {}): LauncherOf<'pop3'> {
  const textConfig = JSON.stringify({
    ezged: { dropFolder: '/unused' },
    launchers: [
      {
        id: uniqueName('pop3'),
        protocol: 'pop3',
        server: d.host,
        port: d.pop3sPort,
        security: 'tls',
        user: d.user,
        password: '%POP3_PASSWORD%',
        tls: { ca: d.certPem, servername: 'localhost' },
        timeoutSeconds: 20,
        scenarios: [{ group: 'pdf', waitdir: 'factures' }, { waitdir: 'divers' }],
        ...over,
      },
    ],
  });
  return parseConfig(textConfig, { POP3_PASSWORD: d.password }).launchers[0] as LauncherOf<'pop3'>;
}

const run = (l: LauncherDefinition, store: BlobStore, extra: Partial<Parameters<typeof runLauncher>[1]> = {}) =>
  runLauncher(l, { store, settlement: settleWhenStaged(store), logger: silentLogger, force: true, ...extra });

const counts = (r: LaunchReport) => ({
  found: r.found, staged: r.staged, acknowledged: r.acknowledged, alreadyStaged: r.alreadyStaged, putAside: r.putAside,
  skipped: r.skipped, waiting: r.waiting, failed: r.failed, error: r.error,
});
const ok = (over: Partial<ReturnType<typeof counts>>) => ({ found: 0, staged: 0, acknowledged: 0, alreadyStaged: 0, putAside: 0, skipped: 0, waiting: 0, failed: 0, error: undefined, ...over });

function capture(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { lines, logger: createLogger((level, msg, fields) => lines.push(`${level} ${msg} ${JSON.stringify(fields)}`)) };
}

async function memoryOf(store: BlobStore, l: LauncherDefinition): Promise<Pop3Memory> {
  return (await loadLauncherState(store, l.id)).source as unknown as Pop3Memory;
}

const inbox = async (d: RunningDovecot) => (await folderContents(d, 'INBOX')).map((m) => m.messageId);

describe('POP3 launcher against Dovecot', { skip: gate.skip }, () => {
  let proxy: Pop3Proxy | undefined;
  before(async () => {
    if (!gate.skip) proxy = await startPop3Proxy(dovecot().pop3Port);
  });
  after(async () => proxy?.close());
  /** A launcher in clear text through the proxy (so the tests can break the connection). */
  const viaProxy = (d: RunningDovecot, over: Record<string, unknown> = {}) =>
    launcher(d, { port: proxy!.port, security: 'none', allowInsecure: true, ...over });

  test('delete, in clear text: oldest first, a bounded batch, each message deleted once its documents are staged', async () => {
    const d = dovecot();
    await emptyInbox(d);
    const store = await azurite.reset();
    const ids = ['p1', 'p2', 'p3'].map((n) => uniqueName(n));
    await appendMessages(d, 'INBOX', ids.map((id, i) => simpleMail(id, `f${i + 1}.pdf`)));
    const l = launcher(d, { port: d.pop3Port, security: 'none', allowInsecure: true, maxItemsPerRun: 2 });
    assert.deepEqual(counts(await run(l, store)), ok({ found: 2, staged: 2, acknowledged: 2, waiting: 1 }));
    assert.deepEqual(await inbox(d), [`<${ids[2]}@example.org>`], 'the two oldest are deleted, the newest waits');
    const docs = await stagedDocuments(store, l.id);
    assert.deepEqual(docs.map((x) => x.fileName).sort(), ['f1.pdf', 'f2.pdf']);
    assert.ok(docs.every((x) => x.sourceKey.startsWith(`${d.user}@${d.host}:`)), 'item key: user@server:UIDL');
    assert.deepEqual(counts(await run(l, store)), ok({ found: 1, staged: 1, acknowledged: 1 }));
    assert.deepEqual(await inbox(d), []);
    assert.deepEqual((await memoryOf(store, l)).filed, {}, 'committed deletions leave nothing to remember');
  });

  test('STLS on the clear-text port with the certificate trusted through tls.ca; refused without it', async () => {
    const d = dovecot();
    await emptyInbox(d);
    const store = await azurite.reset();
    await appendMessages(d, 'INBOX', [simpleMail(uniqueName('stls'))]);
    const untrusted = await run(launcher(d, { port: d.pop3Port, security: 'starttls', tls: { servername: 'localhost' } }), store);
    assert.match(untrusted.error ?? '', /^POP3_TLS_FAILED: .*"tls": \{ "ca"/);
    assert.equal(untrusted.staged, 0);
    const trusted = await run(launcher(d, { port: d.pop3Port, security: 'starttls' }), store);
    assert.deepEqual(counts(trusted), ok({ found: 1, staged: 1, acknowledged: 1 }));
    assert.deepEqual(await inbox(d), []);
  });

  test('implicit TLS (the default) with tls.ca, the certificate checked against the IP when no name is given; refused without tls.ca', async () => {
    const d = dovecot();
    await emptyInbox(d);
    const store = await azurite.reset();
    await appendMessages(d, 'INBOX', [simpleMail(uniqueName('tls'))]);
    const untrusted = await run(launcher(d, { tls: {} }), store);
    assert.match(untrusted.error ?? '', /^POP3_TLS_FAILED: launcher .* POP3 127\.0\.0\.1:\d+: TLS failed \((SELF_SIGNED|DEPTH_ZERO)/);
    assert.equal(untrusted.staged, 0);
    assert.equal((await inbox(d)).length, 1);
    const trusted = await run(launcher(d, { tls: { ca: d.certPem } }), store);
    assert.deepEqual(counts(trusted), ok({ found: 1, staged: 1, acknowledged: 1 }));
  });

  test('keep: messages stay on the server, a second run takes nothing, UIDLs gone from the server are forgotten', async () => {
    const d = dovecot();
    await emptyInbox(d);
    const store = await azurite.reset();
    const ids = ['k1', 'k2'].map((n) => uniqueName(n));
    await appendMessages(d, 'INBOX', ids.map((id) => simpleMail(id)));
    const l = launcher(d, { afterSuccess: 'keep' });
    assert.deepEqual(counts(await run(l, store)), ok({ found: 2, staged: 2, acknowledged: 2 }));
    assert.equal((await inbox(d)).length, 2);
    assert.equal(Object.keys((await memoryOf(store, l)).filed).length, 2);
    assert.deepEqual(counts(await run(l, store)), ok({ skipped: 2 }));
    assert.equal((await stagedDocuments(store, l.id)).length, 2, 'nothing staged twice');

    await emptyInbox(d);
    const k3 = uniqueName('k3');
    await appendMessages(d, 'INBOX', [simpleMail(k3)]);
    assert.deepEqual(counts(await run(l, store)), ok({ found: 1, staged: 1, acknowledged: 1 }));
    assert.equal(Object.keys((await memoryOf(store, l)).filed).length, 1, 'only the message still on the server is remembered');
  });

  test('the connection is lost before QUIT: the server keeps the messages, the re-run deletes them without filing them again', async () => {
    const d = dovecot();
    await emptyInbox(d);
    const store = await azurite.reset();
    const ids = ['q1', 'q2'].map((n) => uniqueName(n));
    await appendMessages(d, 'INBOX', [
      simpleMail(ids[0]!, 'a.pdf'),
      message(ids[1]!, 'Deux', multipart('mixed', [attachment('application/pdf', 'filename="b1.pdf"', PDF), attachment('application/pdf', 'filename="b2.pdf"', PDF)])),
    ]);
    const l = viaProxy(d);
    const { logger, lines } = capture();
    proxy!.dropOnQuit = true;
    try {
      assert.deepEqual(counts(await run(l, store, { logger })), ok({ found: 2, staged: 3, acknowledged: 2 }));
    } finally {
      proxy!.dropOnQuit = false;
    }
    assert.equal(proxy!.droppedQuits, 1);
    assert.ok(lines.some((x) => /POP3_NOT_COMMITTED: .*2 deletion\(s\) not committed/.test(x)), lines.join('\n'));
    assert.equal((await inbox(d)).length, 2, 'without QUIT, Dovecot keeps the messages');
    // The sender delivers meanwhile: the documents leave staging for archive.
    assert.equal(await deliverAll(store, l.id), 3);

    assert.deepEqual(counts(await run(l, store)), ok({ skipped: 2 }));
    assert.deepEqual(await inbox(d), []);
    const docs = await stagedDocuments(store, l.id);
    assert.deepEqual(docs.map((x) => `${x.container}:${x.fileName}`).sort(), ['archive:a.pdf', 'archive:b1.pdf', 'archive:b2.pdf'], 'each document exactly once');
    assert.deepEqual((await memoryOf(store, l)).filed, {});
  });

  test('a crash between staging and deleting: the re-run finds the documents (in-flight + lookups) and only deletes', async () => {
    const d = dovecot();
    await emptyInbox(d);
    const store = await azurite.reset();
    const id = uniqueName('crash');
    await appendMessages(d, 'INBOX', [twoPdfMail(id)]);
    const l = launcher(d);
    // The process stops after staging, before acknowledging: the pipeline never calls acknowledge.
    const noAck = { ...settleWhenStaged(store), isSettled: async () => false };
    assert.deepEqual(counts(await run(l, store, { settlement: noAck })), ok({ found: 1, staged: 2 }));
    assert.equal((await inbox(d)).length, 1);
    assert.equal(await deliverAll(store, l.id), 2);
    assert.deepEqual(counts(await run(l, store)), ok({ found: 1, alreadyStaged: 1, acknowledged: 1 }));
    assert.deepEqual(await inbox(d), []);
    assert.deepEqual((await stagedDocuments(store, l.id)).map((x) => `${x.container}:${x.fileName}`), ['archive:a.pdf', 'archive:b.pdf']);
  });

  test('the shared MIME corpus gives through POP3 the same documents as through IMAP; bad mail is set aside and left on the server', async () => {
    const d = dovecot();
    await emptyInbox(d);
    const store = await azurite.reset();
    const tag = uniqueName('pc');
    const corpus = buildCorpus(tag);
    const folder = uniqueName('CorpusImap');
    await appendMessages(d, 'INBOX', corpus.map((m) => m.raw));
    await appendMessages(d, folder, corpus.map((m) => m.raw));
    const pop = launcher(d);
    const imap = parseConfig(
      JSON.stringify({
        ezged: { dropFolder: '/unused' },
        launchers: [{ id: uniqueName('imap'), ...imapLauncherOn(d), source: folder, timeoutSeconds: 20, scenarios: [{ waitdir: 'divers' }] }],
      }),
      {},
    ).launchers[0]!;
    const rejected = corpus.filter((m) => m.expected === 'rejected');
    const taken = corpus.filter((m) => m.expected !== 'rejected');
    const { logger, lines } = capture();
    const report = await run(pop, store, { logger });
    assert.deepEqual(
      counts(report),
      ok({ found: corpus.length, staged: taken.reduce((n, m) => n + (m.expected as string[]).length, 0), acknowledged: taken.length, putAside: rejected.length }),
    );
    const imapReport = await run(imap, store);
    assert.deepEqual([imapReport.putAside, imapReport.error], [rejected.length, undefined]);

    const popDocs = await stagedDocuments(store, pop.id);
    const imapDocs = await stagedDocuments(store, imap.id);
    const popNames = namesByMessage(popDocs);
    // Blob listings do not keep the document order: names are compared as sets here (the order is the MIME layer's, tested there).
    const sorted = (names: string[] | undefined) => [...(names ?? [])].sort();
    for (const m of taken) assert.deepEqual(sorted(popNames.get(`<${m.name}.${tag}@example.org>`)), sorted(m.expected as string[]), m.name);
    assert.equal(popNames.size, taken.length);
    assert.deepEqual(new Map([...popNames].map(([k, v]) => [k, sorted(v)])), new Map([...namesByMessage(imapDocs)].map(([k, v]) => [k, sorted(v)])), 'same names as IMAP');
    const hashes = (docs: typeof popDocs) => docs.map((x) => `${x.messageId} ${x.fileName} ${x.sha256}`).sort();
    assert.deepEqual(hashes(popDocs), hashes(imapDocs), 'same bytes as IMAP');

    assert.deepEqual((await inbox(d)).sort(), rejected.map((m) => `<${m.name}.${tag}@example.org>`).sort(), 'set-aside mail stays on the server');
    assert.ok(lines.some((x) => /^warn .* set aside: left on the server and skipped from now on: /.test(x)), lines.join('\n'));
    assert.equal(Object.keys((await memoryOf(store, pop)).setAside).length, rejected.length);
    assert.deepEqual(counts(await run(pop, store)), ok({ skipped: rejected.length }), 'set-aside mail is not downloaded again');
  });

  test('lines that start with a dot and 8-bit bytes arrive byte for byte', async () => {
    const d = dovecot();
    await emptyInbox(d);
    const store = await azurite.reset();
    const id = uniqueName('dots');
    const body = Buffer.from('.first\r\n..second\r\n.\r\nr\xe9sum\xe9 \xff\r\n. \r\nlast\r\n', 'latin1');
    const raw = Buffer.concat([
      Buffer.from(message(id, 'Points', { headers: ['Content-Type: multipart/mixed; boundary="b"'], body: '' }).replace(/\r\n$/, '')),
      Buffer.from('--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="dots.bin"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'),
      body,
      Buffer.from('\r\n--b--\r\n'),
    ]);
    await appendMessages(d, 'INBOX', [raw]);
    const l = launcher(d, { wholeMessage: true });
    assert.deepEqual(counts(await run(l, store)), ok({ found: 1, staged: 2, acknowledged: 1 }));
    const docs = await stagedDocuments(store, l.id);
    const eml = docs.find((x) => x.fileName.endsWith('.eml'))!;
    assert.equal(eml.sha256, createHash('sha256').update(raw).digest('hex'), 'the whole message as the server has it');
    const bin = docs.find((x) => x.fileName === 'dots.bin')!;
    assert.equal(bin.sha256, createHash('sha256').update(body).digest('hex'), 'the attachment, dots and 8-bit bytes included');
  });

  test('a wrong password: a clear error in the report, nothing staged, the password never shows', async () => {
    const d = dovecot();
    await emptyInbox(d);
    const store = await azurite.reset();
    await appendMessages(d, 'INBOX', [simpleMail(uniqueName('auth'))]);
    const l = parseConfig(
      JSON.stringify({ ezged: { dropFolder: '/unused' }, launchers: [{ ...launcher(d), password: '%POP3_PASSWORD%' }] }),
      { POP3_PASSWORD: 'not-the-password-123' },
    ).launchers[0]!;
    const { logger, lines } = capture();
    const report = await run(l, store, { logger });
    assert.match(report.error ?? '', /^POP3_AUTH_FAILED: launcher .*refused the login of alice \(-ERR \[AUTH\] .*\)\. Check "user" and "password"/);
    assert.equal(report.staged, 0);
    assert.deepEqual(await stagedDocuments(store, l.id), []);
    assert.equal((await inbox(d)).length, 1);
    const all = lines.join('\n') + report.error;
    assert.ok(!all.includes('not-the-password-123') && !all.includes(d.password), 'no password in the logs or the report');
  });

  test('an empty mailbox: the run ends cleanly with nothing to do', async () => {
    const d = dovecot();
    await emptyInbox(d);
    const store = await azurite.reset();
    const report = await run(launcher(d), store);
    assert.equal(report.ran, true);
    assert.deepEqual(counts(report), ok({}));
  });

  test('a connection cut while a message is read: nothing staged for it, it is retried, and set aside after maxFailures runs', async () => {
    const d = dovecot();
    await emptyInbox(d);
    const store = await azurite.reset();
    const big = Buffer.alloc(300_000, 'x');
    await appendMessages(d, 'INBOX', [message(uniqueName('cut'), 'Gros', multipart('mixed', [attachment('application/pdf', 'filename="big.pdf"', big)]))]);
    const l = viaProxy(d, { maxFailures: 2 });
    proxy!.cutAfterServerBytes = 100_000;
    try {
      for (let i = 1; i <= 2; i++) {
        const r = await run(l, store);
        assert.deepEqual(counts(r), ok({ found: 1, failed: 1 }), `run ${i}`);
        assert.equal((await memoryOf(store, l)).failures[Object.keys((await memoryOf(store, l)).failures)[0]!]!.count, i);
      }
      assert.deepEqual(await stagedDocuments(store, l.id), []);
      const third = await run(l, store);
      assert.deepEqual(counts(third), ok({ found: 1, putAside: 1 }));
      const aside = Object.values((await memoryOf(store, l)).setAside);
      assert.match(aside[0]!.reason, /failed in 2 runs in a row \(last: MESSAGE_DOWNLOAD_FAILED/);
    } finally {
      proxy!.cutAfterServerBytes = undefined;
    }
    assert.deepEqual(counts(await run(l, store)), ok({ skipped: 1 }));
    assert.equal((await inbox(d)).length, 1, 'left on the server');
  });

  test('filenameFilter *.pdf: a signed mail files a.pdf only and is deleted; a mail with no PDF is set aside, the reason naming what was left out', async () => {
    const d = dovecot();
    await emptyInbox(d);
    const store = await azurite.reset();
    const [signedId, tnefId] = [uniqueName('signed'), uniqueName('tnef')];
    await appendMessages(d, 'INBOX', [
      signedMail(signedId, [['application/pdf', 'a.pdf', PDF]]),
      signedMail(tnefId, [['application/ms-tnef', 'winmail.dat', Buffer.from('TNEF')]]),
    ]);
    // No default scenario: smime.p7s staged as a document would leave the mail on the server, run after run.
    const l = launcher(d, { filenameFilter: '*.pdf', scenarios: [{ group: 'pdf', waitdir: 'factures' }] });
    const { logger, lines } = capture();
    const report = await run(l, store, { logger });
    assert.deepEqual(counts(report), ok({ found: 2, staged: 1, acknowledged: 1, putAside: 1 }));
    assert.equal(report.unrouted, 0);
    assert.deepEqual((await stagedDocuments(store, l.id)).map((x) => [x.messageId, x.fileName]), [[`<${signedId}@example.org>`, 'a.pdf']]);
    assert.deepEqual(await inbox(d), [`<${tnefId}@example.org>`], 'the signed mail is deleted, the other set aside on the server');
    const aside = Object.values((await memoryOf(store, l)).setAside);
    assert.match(aside[0]!.reason, /^no attachment matches the file-name filter \*\.pdf \(left out: "winmail\.dat", "smime\.p7s"\)/);
    assert.ok(lines.some((x) => /^info .*: not filed, not matching the file-name filter \*\.pdf: "smime\.p7s" /.test(x)), lines.join('\n'));
    assert.deepEqual(counts(await run(l, store)), ok({ skipped: 1 }));
  });

  test('read-only (preview): no DELE (not even of a message filed earlier), nothing marked read, no QUIT; the next run finishes the job', async () => {
    const d = dovecot();
    await emptyInbox(d);
    const store = await azurite.reset();
    const [filedId, newId] = [uniqueName('ro-filed'), uniqueName('ro-new')];
    await appendMessages(d, 'INBOX', [simpleMail(filedId, 'filed.pdf')]);
    const l = viaProxy(d);
    // Filed, but its deletion is not committed (QUIT lost): the next real run deletes it.
    proxy!.dropOnQuit = true;
    try {
      assert.deepEqual(counts(await run(l, store)), ok({ found: 1, staged: 1, acknowledged: 1 }));
    } finally {
      proxy!.dropOnQuit = false;
    }
    await appendMessages(d, 'INBOX', [simpleMail(newId, 'new.pdf')]);
    const readState = async () => (await folderContents(d, 'INBOX')).map((m) => `${m.messageId} ${m.flags.includes('\\Seen') ? 'read' : 'unread'}`);
    const untouched = await readState();
    assert.deepEqual(untouched.map((m) => m.split(' ')[0]), [`<${filedId}@example.org>`, `<${newId}@example.org>`]);
    assert.equal(untouched[1], `<${newId}@example.org> unread`);

    /** What `cold-launcher preview` does with a source: scan, read each ready message, close. */
    const preview = async (over: LauncherOf<'pop3'>): Promise<Candidate[]> => {
      const state = (await loadLauncherState(store, l.id)).source;
      const src = await createPop3Source({ launcher: over, state, logger: silentLogger, now: () => new Date(), store, readOnly: true });
      const seen: Candidate[] = [];
      try {
        for await (const c of src.scan(10)) {
          seen.push(c);
          if (c.verdict !== 'ready') continue;
          assert.deepEqual((await src.documents(c.item)).map((doc) => doc.name), ['new.pdf']);
          await assert.rejects(src.acknowledge(c.item), (err: unknown) => (err as ColdError).code === 'POP3_READ_ONLY');
        }
      } finally {
        await src.close();
      }
      return seen;
    };
    const direct = await preview(launcher(d));
    assert.deepEqual(await readState(), untouched, 'both messages still there, neither marked read');
    assert.deepEqual(direct.map((c) => c.verdict), ['skipped', 'ready']);
    assert.match((direct[0] as { reason: string }).reason, /deletion was not committed .*: the next run deletes it/);
    const quitsBefore = proxy!.droppedQuits;
    proxy!.dropOnQuit = true; // counts a QUIT, should one come
    try {
      await preview(l);
    } finally {
      proxy!.dropOnQuit = false;
    }
    assert.equal(proxy!.droppedQuits, quitsBefore, 'no QUIT: Gmail would take the messages read as downloaded');
    assert.deepEqual(await readState(), untouched);

    assert.deepEqual(counts(await run(l, store)), ok({ found: 1, staged: 1, acknowledged: 1, skipped: 1 }));
    assert.deepEqual(await inbox(d), []);
    assert.deepEqual((await stagedDocuments(store, l.id)).map((x) => x.fileName).sort(), ['filed.pdf', 'new.pdf'], 'each document once');
  });

  test('a message failing run after run with part of it already staged is not set aside: it is tried again, then filed whole, once', async () => {
    const d = dovecot();
    await emptyInbox(d);
    const store = await azurite.reset();
    const id = uniqueName('partly');
    await appendMessages(d, 'INBOX', [twoPdfMail(id)]);
    const l = launcher(d, { maxFailures: 2 });
    // b.pdf cannot be staged (storage refusing it, say) until `healed`; a.pdf can.
    let healed = false;
    const failingB = refusingUntilHealed('b.pdf', () => healed);
    for (let i = 1; i <= 2; i++) {
      assert.deepEqual(counts(await run(l, store, { openSource: failingB })), ok({ found: 1, failed: 1 }), `run ${i}`);
      assert.deepEqual((await stagedDocuments(store, l.id)).map((x) => x.fileName), ['a.pdf'], `run ${i}`);
    }
    const { logger, lines } = capture();
    assert.deepEqual(counts(await run(l, store, { openSource: failingB, logger })), ok({ found: 1, failed: 1 }), 'not set aside: a.pdf would reach EzGED without b.pdf');
    assert.ok(lines.some((x) => /^warn .*failed in 2 runs in a row.*, but part of it is already staged \("a\.pdf" \(staging\)\): not set aside/.test(x)), lines.join('\n'));
    assert.deepEqual((await memoryOf(store, l)).setAside, {});

    healed = true;
    assert.deepEqual(counts(await run(l, store, { openSource: failingB })), ok({ found: 1, staged: 1, acknowledged: 1, alreadyStaged: 1 }));
    assert.deepEqual(await inbox(d), []);
    assert.deepEqual((await stagedDocuments(store, l.id)).map((x) => x.fileName).sort(), ['a.pdf', 'b.pdf'], 'each document once');
  });

  test('a server that never answers: POP3_TIMEOUT, with the security/port advice', async () => {
    const d = dovecot();
    const store = await azurite.reset();
    proxy!.stall = true;
    try {
      const report = await run(viaProxy(d, { timeoutSeconds: 1 }), store);
      assert.match(report.error ?? '', /^POP3_TIMEOUT: .* did not answer within 1 s; check that "security" \("none"\) matches the port/);
    } finally {
      proxy!.stall = false;
    }
  });
});

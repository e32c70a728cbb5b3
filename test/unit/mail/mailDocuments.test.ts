import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { ItemRejectedError, SourceError } from '../../../shared/errors';
import { NothingToFileError, readMailDocuments, type MailDocuments } from '../../../shared/mail/mailDocuments';
import { DEFAULT_MAIL_DOCUMENT_OPTIONS, type MailDocumentOptions } from '../../../shared/mail/options';
import type { SourceDocument } from '../../../shared/sources/types';
import { attachment, buildCorpus, message, multipart, PDF, text, type CorpusMail } from '../../fixtures/mail/corpus';

const corpus = buildCorpus('unit');
const mail = (name: string): CorpusMail => corpus.find((m) => m.name === name)!;

let tmpRoot: string;
before(async () => {
  tmpRoot = await mkdtemp(join(tmpdir(), 'cold-mail-test-'));
});
after(async () => {
  await rm(tmpRoot, { recursive: true, force: true });
});

async function read(raw: string | Buffer, opts: Partial<MailDocumentOptions> = {}, expectedSize?: number): Promise<MailDocuments> {
  return readMailDocuments(Readable.from([Buffer.from(raw)]), { ...DEFAULT_MAIL_DOCUMENT_OPTIONS, ...opts }, { tmpRoot, expectedSize });
}

async function content(doc: SourceDocument): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await doc.open()) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function leftovers(): Promise<string[]> {
  return readdir(tmpRoot);
}

describe('MIME → documents: the corpus with default options', () => {
  for (const m of corpus) {
    test(`${m.name}: ${Array.isArray(m.expected) ? m.expected.join(', ') : 'rejected'}`, async () => {
      if (m.expected === 'rejected') {
        await assert.rejects(read(m.raw), ItemRejectedError);
      } else {
        const res = await read(m.raw);
        try {
          assert.deepEqual(res.documents.map((d) => d.name), m.expected);
        } finally {
          await res.dispose();
        }
      }
      assert.deepEqual(await leftovers(), [], 'no temp file left behind');
    });
  }
});

describe('MIME → documents: contents and options', () => {
  test('attachments are decoded byte for byte, with their type and the mail facts', async () => {
    const res = await read(mail('mixed').raw);
    try {
      assert.deepEqual(await content(res.documents[0]), PDF);
      assert.equal(res.documents[0].contentType, 'application/pdf');
      assert.equal(res.documents[0].metadata?.mailSubject, 'Factures du jour');
      assert.equal(res.documents[0].metadata?.mailMessageId, '<mixed.unit@example.org>');
      // opened twice (a retried staging) gives the same bytes
      assert.deepEqual(await content(res.documents[0]), PDF);
      assert.equal(res.message.size, Buffer.byteLength(mail('mixed').raw));
      assert.match(res.message.sha256, /^[0-9a-f]{64}$/);
    } finally {
      await res.dispose();
    }
    await assert.rejects(res.documents[0].open().then((s) => content({ name: 'x', open: async () => s })), /ENOENT/);
  });

  test('includeInline also takes the signature image', async () => {
    const res = await read(mail('alternative-related').raw, { includeInline: true });
    assert.deepEqual(res.documents.map((d) => d.name), ['image001.png', 'rapport.pdf']);
    await res.dispose();
  });

  test('an attached mail is one .eml, and unpackAttachedMessages adds its attachments', async () => {
    const plain = await read(mail('nested').raw);
    const eml = (await content(plain.documents[0])).toString();
    assert.match(eml, /^Return-Path:/);
    assert.match(eml, /Subject: Facture fournisseur/);
    assert.equal(plain.documents[0].contentType, 'message/rfc822');
    await plain.dispose();
    const unpacked = await read(mail('nested').raw, { unpackAttachedMessages: true });
    assert.deepEqual(unpacked.documents.map((d) => d.name), ['Facture fournisseur.eml', 'devis.pdf']);
    assert.deepEqual(await content(unpacked.documents[1]), PDF);
    await unpacked.dispose();
  });

  test('withoutAttachments: skip rejects with NOTHING_TO_FILE, eml stages the message, body its text', async () => {
    const raw = mail('no-attachment').raw;
    await assert.rejects(read(raw), (err: unknown) => err instanceof NothingToFileError && err.code === 'NOTHING_TO_FILE' && /withoutAttachments/.test(err.message));
    const eml = await read(raw, { withoutAttachments: 'eml' });
    assert.deepEqual(eml.documents.map((d) => d.name), ['Simple question.eml']);
    assert.equal((await content(eml.documents[0])).toString(), raw);
    await eml.dispose();
    const body = await read(raw, { withoutAttachments: 'body' });
    assert.deepEqual(body.documents.map((d) => d.name), ['Simple question.txt']);
    assert.equal((await content(body.documents[0])).toString().trim(), 'Pouvez-vous me rappeler ?');
    await body.dispose();
  });

  test('wholeMessage adds the .eml after the attachments', async () => {
    const res = await read(mail('mixed').raw, { wholeMessage: true });
    assert.deepEqual(res.documents.map((d) => d.name), ['facture-001.pdf', 'scan.tif', 'Factures du jour.eml']);
    await res.dispose();
  });

  test('the same mail always gives the same names in the same order', async () => {
    const a = await read(mail('duplicates').raw);
    const b = await read(mail('duplicates').raw);
    assert.deepEqual(a.documents.map((d) => d.name), b.documents.map((d) => d.name));
    assert.notDeepEqual(await content(a.documents[0]), await content(a.documents[1]));
    await a.dispose();
    await b.dispose();
  });

  test('the empty attachment is left out with a note', async () => {
    const res = await read(mail('zero-byte').raw);
    assert.match(res.notes.join('\n'), /vide\.pdf.*0 bytes/);
    await res.dispose();
  });

  test('a malformed message says why', async () => {
    await assert.rejects(read(mail('malformed').raw), /malformed MIME message: multipart\/mixed without a boundary/);
    await assert.rejects(read(mail('malformed-boundary').raw), /boundary "declared" never occurs/);
    await assert.rejects(read('this is not a mail at all\r\njust words\r\n'), /no header at all/);
  });

  test('a download of another size than announced is a SourceError (retried), not a rejection', async () => {
    const raw = mail('mixed').raw;
    await assert.rejects(read(raw, {}, Buffer.byteLength(raw) + 10), (err: unknown) => err instanceof SourceError && err.code === 'MESSAGE_TRUNCATED');
    assert.deepEqual(await leftovers(), []);
  });

  test('an interrupted download is a SourceError and leaves no temp file', async () => {
    const broken = new Readable({
      read() {
        this.push(Buffer.from('From: a@b\r\nSubject: x\r\n\r\npartial'));
        this.destroy(new Error('socket closed'));
      },
    });
    await assert.rejects(readMailDocuments(broken, DEFAULT_MAIL_DOCUMENT_OPTIONS, { tmpRoot }), (err: unknown) => err instanceof SourceError && err.code === 'MESSAGE_DOWNLOAD_FAILED');
    assert.deepEqual(await leftovers(), []);
  });
});

describe('MIME → documents: the launcher\'s file-name filter', () => {
  const SIGNATURE = Buffer.from('3082 signature', 'latin1');
  /** What Outlook and Thunderbird send for a signed mail: the content, then smime.p7s. */
  const signed = message(
    'signed.unit',
    'Facture signée',
    multipart('signed', [multipart('mixed', [text('Ci-joint.'), attachment('application/pdf', 'filename="a.pdf"', PDF)]), attachment('application/pkcs7-signature', 'filename="smime.p7s"', SIGNATURE)]),
  );
  /** Only what no scenario wants: Outlook's TNEF and a signature. */
  const nothingWanted = message(
    'tnef.unit',
    'Réunion',
    multipart('signed', [multipart('mixed', [text('Voir pièce jointe.'), attachment('application/ms-tnef', 'filename="winmail.dat"', Buffer.from('TNEF'))]), attachment('application/pkcs7-signature', 'filename="smime.p7s"', SIGNATURE)]),
  );

  for (const path of ['streamed', 'in memory'] as const) {
    test(`*.pdf on a signed mail (${path}): only a.pdf is a document, smime.p7s is listed as filtered out`, async () => {
      const opts = { ...DEFAULT_MAIL_DOCUMENT_OPTIONS, filenameFilter: '*.pdf' };
      const res = path === 'streamed' ? await read(signed, opts) : await readMailDocuments(Buffer.from(signed), opts, { tmpRoot });
      try {
        assert.deepEqual(res.documents.map((d) => d.name), ['a.pdf']);
        assert.deepEqual(await content(res.documents[0]!), PDF);
        assert.deepEqual(res.filtered, ['smime.p7s']);
      } finally {
        await res.dispose();
      }
      assert.deepEqual(await leftovers(), []);
    });
  }

  test('without a filter every attachment is a document and nothing is listed as filtered', async () => {
    const res = await read(signed);
    assert.deepEqual(res.documents.map((d) => d.name), ['a.pdf', 'smime.p7s']);
    assert.deepEqual(res.filtered, []);
    await res.dispose();
  });

  test('nothing matches: "skip" is NOTHING_TO_FILE naming what was left out; "eml" and "body" file the message; wholeMessage is not filtered', async () => {
    const filter = { filenameFilter: '*.pdf' };
    await assert.rejects(
      read(nothingWanted, filter),
      (err: unknown) =>
        err instanceof NothingToFileError &&
        /^no attachment matches the file-name filter \*\.pdf \(left out: "winmail\.dat", "smime\.p7s"\) \(the launcher says "withoutAttachments": "skip"/.test(err.message),
    );
    assert.deepEqual(await leftovers(), [], 'the temp files of a mail put aside are removed');
    const eml = await read(nothingWanted, { ...filter, withoutAttachments: 'eml' });
    assert.deepEqual(eml.documents.map((d) => d.name), ['Réunion.eml']);
    assert.equal((await content(eml.documents[0]!)).toString(), nothingWanted);
    assert.deepEqual(eml.filtered, ['winmail.dat', 'smime.p7s']);
    await eml.dispose();
    const body = await read(nothingWanted, { ...filter, withoutAttachments: 'body' });
    assert.deepEqual(body.documents.map((d) => d.name), ['Réunion.txt']);
    await body.dispose();
    const whole = await read(signed, { ...filter, wholeMessage: true });
    assert.deepEqual(whole.documents.map((d) => d.name), ['a.pdf', 'Facture signée.eml']);
    await whole.dispose();
    // wholeMessage: every mail has its .eml to file, so "skip" never puts one aside (as O365).
    const onlyEml = await read(nothingWanted, { ...filter, wholeMessage: true });
    assert.deepEqual(onlyEml.documents.map((d) => d.name), ['Réunion.eml']);
    await onlyEml.dispose();
    const emptyBody = message('empty.body', 'Vide', text(''));
    await assert.rejects(read(emptyBody, { withoutAttachments: 'body' }), (err: unknown) => err instanceof NothingToFileError && /empty body/.test(err.message));
    const emptyWhole = await read(emptyBody, { withoutAttachments: 'body', wholeMessage: true });
    assert.deepEqual(emptyWhole.documents.map((d) => d.name), ['Vide.eml'], 'an empty body, but the .eml to file');
    await emptyWhole.dispose();
  });

  test('a /regex/ is matched from the start of the name, flags after the slash; names from types count', async () => {
    const raw = message(
      'regex.unit',
      'Plusieurs',
      multipart('mixed', [
        text('x'),
        attachment('application/pdf', 'filename="Facture-12.pdf"', PDF),
        attachment('application/pdf', 'filename="ma-facture.pdf"', PDF),
        attachment('application/pdf', undefined, PDF),
      ]),
    );
    const regex = await read(raw, { filenameFilter: '/fact/i' });
    assert.deepEqual([regex.documents.map((d) => d.name), regex.filtered], [['Facture-12.pdf'], ['ma-facture.pdf', 'document.pdf']]);
    await regex.dispose();
    const unnamed = await read(raw, { filenameFilter: 'document.*' });
    assert.deepEqual(unnamed.documents.map((d) => d.name), ['document.pdf'], 'an unnamed PDF is named document.pdf, and filtered by that name');
    await unnamed.dispose();
  });

  test('an attached mail left out by the filter is still unpacked when asked: its own attachments are filtered by their names', async () => {
    const raw = mail('nested').raw;
    const plain = await read(raw, { filenameFilter: '*.pdf', withoutAttachments: 'eml' });
    assert.deepEqual([plain.documents.map((d) => d.name), plain.filtered], [['Fwd Facture fournisseur.eml'], ['Facture fournisseur.eml']]);
    await plain.dispose();
    const unpacked = await read(raw, { filenameFilter: '*.pdf', unpackAttachedMessages: true });
    assert.deepEqual([unpacked.documents.map((d) => d.name), unpacked.filtered], [['devis.pdf'], ['Facture fournisseur.eml']]);
    assert.deepEqual(await content(unpacked.documents[0]!), PDF);
    await unpacked.dispose();
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { ColdError } from '../../../shared/errors';
import { readMailDocuments, type MailDocuments } from '../../../shared/mail/mailDocuments';
import { DEFAULT_MAIL_DOCUMENT_OPTIONS, type MailDocumentOptions } from '../../../shared/mail/options';
import { attachment, buildCorpus, message, multipart, PDF, rfc822, text } from '../../fixtures/mail/corpus';

// The same mail read streamed (temp files, as a large mail is) and in memory (Buffers, as a
// small mail fetched whole is) must give the very same documents.
const corpus = [
  ...buildCorpus('parity'),
  // bodies with accents (the `body` document is re-encoded as UTF-8), an HTML-only mail
  { name: 'accented-text', raw: message('accented-text', 'Été à Noël', text('Réponse déjà envoyée, merci ! ✓')), expected: 'rejected' as const },
  { name: 'html-only', raw: message('html-only', 'Relevé', text('<p>Relevé <b>n°3</b> — voir ci-dessous</p>', 'text/html')), expected: 'rejected' as const },
  {
    name: 'nested-twice',
    raw: message('nested-twice', 'Fwd: Fwd', multipart('mixed', [text('x'), rfc822(message('n2', 'Niveau 2', multipart('mixed', [text('y'), rfc822(message('n3', 'Niveau 3', multipart('mixed', [text('z'), attachment('application/pdf', 'filename="profond.pdf"', PDF)])))])))])),
    expected: ['Niveau 2.eml'],
  },
];
const OPTION_SETS: Partial<MailDocumentOptions>[] = [
  {},
  { includeInline: true },
  { withoutAttachments: 'eml' },
  { withoutAttachments: 'body' },
  { wholeMessage: true },
  { unpackAttachedMessages: true, includeInline: true, wholeMessage: true, withoutAttachments: 'body' },
  // the file-name filter: some mails keep part of their attachments, others none (put aside or filed whole)
  { filenameFilter: '*.pdf' },
  { filenameFilter: '/fact/i', withoutAttachments: 'eml', unpackAttachedMessages: true, includeInline: true },
  { filenameFilter: '*.{png,tif}', withoutAttachments: 'body' },
];

let tmpRoot: string;
before(async () => {
  tmpRoot = await mkdtemp(join(tmpdir(), 'cold-mail-parity-'));
});
after(async () => {
  await rm(tmpRoot, { recursive: true, force: true });
});

interface Outcome {
  error?: { class: string; code?: string; message: string };
  message?: Omit<MailDocuments['message'], 'date'> & { date?: string };
  documents?: { name: string; contentType?: string; group?: string; metadata?: Record<string, string>; bytes: string }[];
  notes?: string[];
  filtered?: string[];
}

async function outcome(read: () => Promise<MailDocuments>): Promise<Outcome> {
  let mail: MailDocuments;
  try {
    mail = await read();
  } catch (err) {
    const e = err as ColdError;
    return { error: { class: e.constructor.name, code: e.code, message: e.message } };
  }
  try {
    const documents = [];
    for (const d of mail.documents) {
      const chunks: Buffer[] = [];
      for await (const c of await d.open()) chunks.push(c as Buffer);
      documents.push({ name: d.name, contentType: d.contentType, group: d.group, metadata: d.metadata, bytes: Buffer.concat(chunks).toString('base64') });
    }
    return { message: { ...mail.message, date: mail.message.date?.toISOString() }, documents, notes: mail.notes, filtered: mail.filtered };
  } finally {
    await mail.dispose();
  }
}

describe('MIME → documents: in memory and streamed give the same documents', () => {
  for (const m of corpus) {
    test(m.name, async () => {
      for (const o of OPTION_SETS) {
        const opts = { ...DEFAULT_MAIL_DOCUMENT_OPTIONS, ...o };
        const raw = Buffer.from(m.raw);
        const streamed = await outcome(() => readMailDocuments(Readable.from([raw]), opts, { tmpRoot }));
        const inMemory = await outcome(() => readMailDocuments(raw, opts, { tmpRoot }));
        assert.deepEqual(inMemory, streamed, `options ${JSON.stringify(o)}`);
        if (Array.isArray(m.expected) && Object.keys(o).length === 0) assert.deepEqual(inMemory.documents?.map((d) => d.name), m.expected);
      }
      assert.deepEqual(await readdir(tmpRoot), [], 'no temp file left behind');
    });
  }

  test('a Buffer of another size than announced is a SourceError (retried), as a stream is', async () => {
    const raw = Buffer.from(corpus[0]!.raw);
    const opts = DEFAULT_MAIL_DOCUMENT_OPTIONS;
    const streamed = await outcome(() => readMailDocuments(Readable.from([raw]), opts, { tmpRoot, expectedSize: raw.length + 1 }));
    const inMemory = await outcome(() => readMailDocuments(raw, opts, { tmpRoot, expectedSize: raw.length + 1 }));
    assert.equal(streamed.error?.code, 'MESSAGE_TRUNCATED');
    assert.deepEqual(inMemory, streamed);
  });

  test('a mail in memory writes no temp file, and its documents cannot be opened once disposed', async () => {
    const m = corpus.find((c) => c.name === 'mixed')!;
    const mail = await readMailDocuments(Buffer.from(m.raw), DEFAULT_MAIL_DOCUMENT_OPTIONS, { tmpRoot });
    assert.deepEqual(await readdir(tmpRoot), []);
    await mail.dispose();
    await assert.rejects(mail.documents[0]!.open(), (err: unknown) => (err as ColdError).code === 'MAIL_DISPOSED');
  });
});

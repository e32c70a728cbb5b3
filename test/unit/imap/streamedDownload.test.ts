// The large-message path of the IMAP source against a scripted client (no server needed):
// whatever happens after the download, no temp folder is left behind.
// Dovecot-backed cases are in imapLarge.test.ts and imapConnectionLost.test.ts.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { ImapFlow } from 'imapflow';
import { ColdError } from '../../../shared/errors';
import { DEFAULT_MAIL_DOCUMENT_OPTIONS } from '../../../shared/mail/options';
import { downloadStreamed } from '../../../shared/sources/imap/streamedDownload';
import { buildCorpus } from '../../fixtures/mail/corpus';

const RAW = Buffer.from(buildCorpus('streamed').find((m) => m.name === 'mixed')!.raw);

/** Serves one message by UID download; its UID SEARCH answers as told (found, gone, or the connection dropped). */
class ScriptedClient {
  constructor(private readonly answer: (uid: number) => Promise<number[]>) {}

  async download(): Promise<{ content: Readable }> {
    return { content: Readable.from([RAW]) };
  }

  search(criteria: { uid: string }): Promise<number[]> {
    return this.answer(Number(criteria.uid));
  }
}

const clientWhose = (search: (uid: number) => Promise<number[]>) => new ScriptedClient(search) as unknown as ImapFlow;

let tmpRoot: string;
before(async () => {
  tmpRoot = await mkdtemp(join(tmpdir(), 'cold-streamed-test-'));
});
after(async () => {
  await rm(tmpRoot, { recursive: true, force: true });
});

describe('IMAP large message downloaded to a temp folder', () => {
  test('still in the folder after the download: the documents are kept on disk until disposed', async () => {
    const mail = await downloadStreamed(clientWhose(async (uid) => [uid]), 7, 'INBOX', DEFAULT_MAIL_DOCUMENT_OPTIONS, { tmpRoot });
    assert.deepEqual(mail.documents.map((d) => d.name), ['facture-001.pdf', 'scan.tif']);
    assert.equal((await readdir(tmpRoot)).length, 1);
    await mail.dispose();
    assert.deepEqual(await readdir(tmpRoot), []);
  });

  test('expunged during the download: IMAP_MESSAGE_GONE and no temp folder left', async () => {
    const err = await downloadStreamed(clientWhose(async () => []), 7, 'INBOX', DEFAULT_MAIL_DOCUMENT_OPTIONS, { tmpRoot }).catch((e: unknown) => e);
    assert.equal((err as ColdError).code, 'IMAP_MESSAGE_GONE');
    assert.deepEqual(await readdir(tmpRoot), []);
  });

  test('the connection drops before the UID SEARCH that follows the download: its error, and no temp folder left', async () => {
    const dropped = Object.assign(new Error('Connection not available'), { code: 'NoConnection' });
    const err = await downloadStreamed(clientWhose(() => Promise.reject(dropped)), 7, 'INBOX', DEFAULT_MAIL_DOCUMENT_OPTIONS, { tmpRoot }).catch((e: unknown) => e);
    assert.equal(err, dropped);
    assert.deepEqual(await readdir(tmpRoot), [], 'the spooled message and its parts are removed');
  });
});

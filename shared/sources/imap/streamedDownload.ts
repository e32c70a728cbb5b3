import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ImapFlow } from 'imapflow';
import { SourceError } from '../../errors';
import { readMailDocuments, type MailDocuments, type ReadMailOptions } from '../../mail/mailDocuments';
import type { MailDocumentOptions } from '../../mail/options';
import type { SourceDocument } from '../types';
import type { Semaphore } from '../../util/concurrency';

/** Bytes asked per partial FETCH when downloading a message (memory per download). */
export const DOWNLOAD_CHUNK_SIZE = 1024 * 1024;
/**
 * Large messages downloaded, and documents of large messages read for staging, at once at
 * most (each holds a download chunk or staging blocks in memory), however many small
 * messages are worked on meanwhile.
 */
export const STREAMED_CONCURRENCY = 4;

/**
 * A large message: downloaded in DOWNLOAD_CHUNK_SIZE partial FETCHes, spooled to a temp
 * file and read from there (memory does not grow with its size). No strict check against
 * RFC822.SIZE: some servers (Exchange) only estimate it. A lost connection fails the
 * stream; a message expunged during the download ends it early, which the UID SEARCH
 * afterwards catches. The temp files are removed whenever the mail is not returned (that
 * SEARCH failing too: a connection lost after a long download).
 */
export async function downloadStreamed(client: ImapFlow, uid: number, folder: string, opts: MailDocumentOptions, io: ReadMailOptions = {}): Promise<MailDocuments> {
  const dl = await client.download(String(uid), undefined, { uid: true, chunkSize: DOWNLOAD_CHUNK_SIZE });
  if (!('content' in dl) || !dl.content) {
    throw new SourceError('IMAP_MESSAGE_GONE', `UID ${uid} is no longer in "${folder}" (moved or deleted meanwhile)`);
  }
  const mail = await readMailDocuments(dl.content as Readable, opts, io);
  try {
    if (!(await stillThere(client, uid))) throw new SourceError('IMAP_MESSAGE_GONE', `UID ${uid} was removed from "${folder}" while it was downloaded`);
  } catch (err) {
    await mail.dispose();
    throw err;
  }
  return mail;
}

async function stillThere(client: ImapFlow, uid: number): Promise<boolean> {
  const found = await client.search({ uid: String(uid) }, { uid: true });
  return Array.isArray(found) && found.includes(uid);
}

/**
 * `open` of a document of a large message, holding a slot of `slots` from the opening until
 * its stream is over (read to the end, failed or destroyed).
 */
export function openWithSlot(slots: Semaphore, open: SourceDocument['open']): SourceDocument['open'] {
  return () =>
    new Promise<Readable>((resolve, reject) => {
      void slots.use(async () => {
        let stream: Readable;
        try {
          stream = await open();
        } catch (err) {
          reject(err);
          return;
        }
        resolve(stream);
        await finished(stream).catch(() => undefined);
      });
    });
}

import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';

/** 57 bytes make one 76-character base64 line. */
const LINE_BYTES = 57;
const CHUNK_LINES = 16 * 1024;

/**
 * Writes to `path` a mail with one PDF attachment of `bytes` random bytes, streaming (the
 * writer never holds more than about 1 MB); returns the attachment's SHA-256.
 */
export async function writeLargeMail(
  path: string,
  bytes: number,
  opts: { messageId?: string; fileName?: string; /** Text part (dot-led lines test POP3's dot-stuffing). */ bodyText?: string } = {},
): Promise<string> {
  const out = createWriteStream(path);
  const hash = createHash('sha256');
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  const fileName = opts.fileName ?? 'archive.pdf';
  await write(
    [
      'From: scanner@example.org',
      'To: ged@example.org',
      'Subject: Gros scan',
      'Date: Mon, 3 Mar 2025 10:00:00 +0100',
      `Message-ID: <${opts.messageId ?? `large.${randomBytes(6).toString('hex')}@example.org`}>`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      opts.bodyText ?? 'Le scan complet.',
      '--b1',
      `Content-Type: application/pdf; name="${fileName}"`,
      `Content-Disposition: attachment; filename="${fileName}"`,
      'Content-Transfer-Encoding: base64',
      '',
      '',
    ].join('\r\n'),
  );
  let left = bytes;
  while (left > 0) {
    const n = Math.min(left, LINE_BYTES * CHUNK_LINES);
    const data = randomBytes(n);
    hash.update(data);
    left -= n;
    // n is a multiple of 57 except for the last chunk: base64 lines never straddle chunks.
    await write(data.toString('base64').replace(/.{1,76}/g, (l) => l + '\r\n'));
  }
  await write('--b1--\r\n');
  out.end();
  await once(out, 'finish');
  return hash.digest('hex');
}

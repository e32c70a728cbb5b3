import { createHash, randomBytes } from 'node:crypto';
import { attachment, message, multipart, text } from '../fixtures/mail/corpus';
import { mulberry32 } from './killer';

/** One generated mail: its raw text and the attachments it must yield, by SHA-256. */
export interface GeneratedMail {
  messageId: string;
  raw: string;
  attachments: { name: string; sha256: string; size: number }[];
}

/** A PDF header followed by `size` bytes in all: looks like a PDF, content unique. */
export function fakePdf(size: number, random: () => number = Math.random): Buffer {
  const head = Buffer.from('%PDF-1.4\n');
  const body = size > head.length ? randomBytesFrom(size - head.length, random) : Buffer.alloc(0);
  return Buffer.concat([head, body]).subarray(0, Math.max(size, head.length));
}

/**
 * `count` mails, each with `attachmentsPer(i)` PDF attachments of `size(i, j)` bytes of
 * seeded random content (so every attachment differs from every other), and a short body.
 */
export function generateMails(opts: {
  count: number;
  tag: string;
  seed: number;
  attachmentsPer?: (i: number) => number;
  size?: (i: number, j: number) => number;
}): GeneratedMail[] {
  const random = mulberry32(opts.seed);
  const per = opts.attachmentsPer ?? (() => 1);
  const size = opts.size ?? (() => 4096);
  const mails: GeneratedMail[] = [];
  for (let i = 0; i < opts.count; i++) {
    const id = `${opts.tag}-${String(i).padStart(5, '0')}`;
    const atts = Array.from({ length: per(i) }, (_, j) => {
      const data = fakePdf(size(i, j), random);
      return { name: `scan-${id}-${j + 1}.pdf`, data };
    });
    const root = multipart('mixed', [
      text(`Document(s) ${id}.`),
      ...atts.map((a) => attachment('application/pdf', `filename="${a.name}"`, a.data)),
    ]);
    mails.push({
      messageId: `${id}@example.org`,
      raw: message(id, `Scan ${id}`, root),
      attachments: atts.map((a) => ({ name: a.name, sha256: sha256(a.data), size: a.data.length })),
    });
  }
  return mails;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Random bytes from a seeded generator (fast enough for test data: 4 bytes per call). */
function randomBytesFrom(n: number, random: () => number): Buffer {
  if (random === Math.random) return randomBytes(n);
  const out = Buffer.allocUnsafe(n);
  let i = 0;
  for (; i + 4 <= n; i += 4) out.writeUInt32LE(Math.floor(random() * 4294967296), i);
  for (; i < n; i++) out[i] = Math.floor(random() * 256);
  return out;
}

import { open } from 'node:fs/promises';
import { simpleParser } from 'mailparser';

/** Bytes read at most to find the header of an attached mail. */
export const MAX_HEADER_BYTES = 64 * 1024;

/** The decoded Subject of the mail stored at `path`, reading only its header. */
export async function headerSubject(path: string): Promise<string | undefined> {
  const file = await open(path, 'r');
  let head: Buffer;
  try {
    const buf = Buffer.alloc(MAX_HEADER_BYTES);
    const { bytesRead } = await file.read(buf, 0, buf.length, 0);
    head = buf.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
  const end = head.indexOf('\r\n\r\n') >= 0 ? head.indexOf('\r\n\r\n') : head.indexOf('\n\n');
  const header = end >= 0 ? head.subarray(0, end) : head;
  try {
    const parsed = await simpleParser(Buffer.concat([header, Buffer.from('\r\n\r\n')]), { skipHtmlToText: true, skipTextToHtml: true });
    return parsed.subject || undefined;
  } catch {
    return undefined;
  }
}

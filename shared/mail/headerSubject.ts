import { simpleParser } from 'mailparser';
import type { StoredPart } from './partStore';

/** Bytes read at most to find the header of an attached mail. */
export const MAX_HEADER_BYTES = 64 * 1024;

/** The decoded Subject of the mail stored in `part`, reading only its header. */
export async function headerSubject(part: StoredPart): Promise<string | undefined> {
  const head = await part.head(MAX_HEADER_BYTES);
  const crlf = head.indexOf('\r\n\r\n');
  const end = crlf >= 0 ? crlf : head.indexOf('\n\n');
  const header = end >= 0 ? head.subarray(0, end) : head;
  try {
    const parsed = await simpleParser(Buffer.concat([header, Buffer.from('\r\n\r\n')]), { skipHtmlToText: true, skipTextToHtml: true });
    return parsed.subject || undefined;
  } catch {
    return undefined;
  }
}

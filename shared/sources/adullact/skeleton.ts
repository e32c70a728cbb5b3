import type { Readable } from 'node:stream';
import { EnvelopeFormatError } from './errors';

/** Largest skeleton kept (the XML once its binary contents are taken out). */
export const MAX_SKELETON_BYTES = 32 * 1024 * 1024;
/** Characters of a payload kept to sniff it (a gzip header is in the first 4 base64 chars). */
const HEAD_CHARS = 16;
/** A start tag longer than this is not waited for across chunks. */
const MAX_PENDING_TAG = 64 * 1024;

/** Where one stripped payload lies in the original file, in bytes: [start, end). */
export interface Payload {
  start: number;
  end: number;
  /** First characters of the payload (whitespace and references removed), to sniff it. */
  head: string;
}

export interface Skeleton {
  /** The XML with each payload replaced by `#<index>`, bytes in the original encoding. */
  xml: Buffer;
  payloads: Payload[];
}

export class SkeletonTooLargeError extends Error {}

/**
 * Reads an XML file once, as a stream, and keeps everything except the text content of
 * the named elements (base64 payloads: `Fichier` in a PES, `Contenu` in a Chorus pivot),
 * which it replaces by `#<n>` while recording their byte ranges. The skeleton is small
 * and parsed as usual; each payload is later decoded from its range, one at a time, so a
 * 100 MB PES is never held in memory.
 *
 * Bytes are handled as latin1 text (one char per byte), so offsets are byte offsets and
 * the skeleton keeps the file's own encoding, whatever it declares.
 */
export async function stripPayloads(stream: Readable, elements: readonly string[], maxSkeleton = MAX_SKELETON_BYTES): Promise<Skeleton> {
  const open = new RegExp(`<(?:[A-Za-z_][\\w.-]*:)?(?:${elements.join('|')})(?=[\\s/>])[^>]*>`, 'g');
  const parts: string[] = [];
  const payloads: Payload[] = [];
  let size = 0;
  let pending = ''; // outside a payload: text not yet emitted (may hold a partial tag)
  let pendingStart = 0; // byte offset of `pending`
  let inside: { start: number; head: string } | undefined;
  let expectClose = false; // a payload just ended: the next chars must be `</`
  let offset = 0; // byte offset of the current chunk

  const emit = (s: string) => {
    size += s.length;
    if (size > maxSkeleton) throw new SkeletonTooLargeError(`more than ${maxSkeleton} bytes of XML outside the binary payloads`);
    parts.push(s);
  };

  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let text = chunk.toString('latin1');
    let base = offset;
    offset += chunk.length;
    while (text.length > 0) {
      if (inside) {
        const lt = text.indexOf('<');
        if (inside.head.length < HEAD_CHARS) inside.head += payloadChars(lt < 0 ? text : text.slice(0, lt)).slice(0, HEAD_CHARS - inside.head.length);
        if (lt < 0) break;
        payloads.push({ start: inside.start, end: base + lt, head: inside.head });
        inside = undefined;
        expectClose = true;
        pending = '';
        pendingStart = base + lt;
        text = text.slice(lt);
        base += lt;
        continue;
      }
      const buf = pending + text;
      const bufStart = pending ? pendingStart : base;
      if (expectClose && buf.length >= 2) {
        if (!buf.startsWith('</')) {
          throw new EnvelopeFormatError('XML_UNEXPECTED_MARKUP', `markup inside a <${elements.join('|')}> payload at byte ${bufStart} (CDATA, comment or child element), only base64 text is expected`);
        }
        expectClose = false;
      }
      open.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = open.exec(buf)) && m[0].endsWith('/>')) {
        // a self-closing payload element (<Fichier/>) has nothing to strip
      }
      if (m) {
        const endOfTag = m.index + m[0].length;
        emit(buf.slice(0, endOfTag) + `#${payloads.length}`);
        inside = { start: bufStart + endOfTag, head: '' };
        pending = '';
        text = buf.slice(endOfTag);
        base = bufStart + endOfTag;
        continue;
      }
      // No payload starts here: emit all but a possibly unfinished tag at the end.
      const lastLt = buf.lastIndexOf('<');
      const cut = lastLt >= 0 && buf.indexOf('>', lastLt) < 0 && buf.length - lastLt < MAX_PENDING_TAG ? lastLt : buf.length;
      emit(buf.slice(0, cut));
      pending = buf.slice(cut);
      pendingStart = bufStart + cut;
      break;
    }
  }
  if (inside) throw new EnvelopeFormatError('XML_MALFORMED', `the file ends inside a <${elements.join('|')}> payload`);
  emit(pending);
  return { xml: Buffer.from(parts.join(''), 'latin1'), payloads };
}

/** The base64 characters of a piece of payload text (whitespace and `&#..;` removed). */
function payloadChars(s: string): string {
  return s.replace(/&#?[0-9a-zA-Z]*;?/g, '').replace(/[^A-Za-z0-9+/=]/g, '');
}

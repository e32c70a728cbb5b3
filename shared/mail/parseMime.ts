import type { Readable } from 'node:stream';
import { MailParser, type AttachmentStream, type MessageText } from 'mailparser';
import { ItemRejectedError } from '../errors';
import type { PartStore, StoredPart } from './partStore';

/** What the MIME header of a leaf part says (see partRole.ts, partNames.ts). */
export interface MimePartFacts {
  size: number;
  /** Decoded file name (RFC 2047 / RFC 2231 handled by the parser), as the sender wrote it. */
  filename?: string;
  contentType: string;
  /** `attachment` or `inline`. */
  disposition?: string;
  /** Inside a multipart/related (an image of the HTML body, a signature logo...). */
  related: boolean;
  /** Content-ID without angle brackets. */
  cid?: string;
  /** IMAP-style part number (`2`, `1.3`). */
  partId?: string;
}

/** One leaf part of a mail that is not its text, kept whole in the mail's PartStore. */
export interface MimePart extends MimePartFacts {
  /** The decoded content. */
  content: StoredPart;
}

export interface ParsedMail {
  subject?: string;
  messageId?: string;
  from?: string;
  date?: Date;
  text?: string;
  html?: string;
  /** In MIME order. */
  parts: MimePart[];
}

/** Parser settings: attached mails stay whole (never merged into the outer message). */
const PARSER_OPTIONS = {
  ignoreEmbedded: true,
  keepCidLinks: true,
  skipHtmlToText: true,
  skipTextToHtml: true,
  skipTextLinks: true,
  skipImageLinks: true,
  checksumAlgo: false,
} as const;

/** A header field name (RFC 5322: printable ASCII except the colon). */
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

/**
 * Parses the raw message read from `input` in ONE pass, streaming: every attachment is kept
 * in `store` while the parser goes on (with the temp-file store, memory does not grow with
 * the size of attachments). A message whose MIME structure loses content (no header at all, a
 * multipart without boundary, or whose boundary never occurs) is rejected: the mail
 * would otherwise be taken with its attachments silently missing.
 */
export async function parseMime(input: Readable, store: PartStore): Promise<ParsedMail> {
  const parser = new MailParser(PARSER_OPTIONS);
  const slots: (MimePart | undefined)[] = [];
  const writes: Promise<void>[] = [];
  let text: MessageText | undefined;

  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      input.destroy();
      parser.destroy();
      reject(err);
    };
    parser.on('data', (data: AttachmentStream | MessageText) => {
      if (data.type === 'text') {
        text = data;
        return;
      }
      const index = slots.push(undefined) - 1;
      const written = store.keep(data.content).then((content) => {
        slots[index] = {
          content,
          size: content.size,
          filename: cleanFilename(data.filename),
          contentType: (data.contentType || 'application/octet-stream').toLowerCase(),
          disposition: data.contentDisposition,
          related: data.related === true,
          cid: data.cid,
          partId: data.partId ?? undefined,
        };
        data.release?.();
      });
      writes.push(written);
      written.catch(fail);
    });
    parser.on('error', (err) => fail(new ItemRejectedError(`the message cannot be parsed: ${err.message}`, { cause: err })));
    parser.on('end', () => {
      Promise.all(writes).then(() => {
        if (settled) return;
        settled = true;
        resolve();
      }, fail);
    });
    input.on('error', fail);
    input.pipe(parser);
  });

  const problem = structureProblem(parser);
  if (problem) throw new ItemRejectedError(`malformed MIME message: ${problem}`);
  return {
    subject: parser.subject || undefined,
    messageId: parser.messageId || undefined,
    from: parser.from?.text || undefined,
    date: parser.date,
    text: typeof text?.text === 'string' ? text.text : undefined,
    html: typeof text?.html === 'string' ? text.html : undefined,
    parts: slots.filter((p): p is MimePart => p !== undefined),
  };
}

/** The node tree mailparser builds (not in its public types, hence this narrow view). */
interface TreeNode {
  contentType?: string;
  node?: { _boundary?: string | false };
  children?: TreeNode[];
}

function structureProblem(parser: MailParser): string | undefined {
  const lines = parser.headerLines || [];
  if (!lines.some((l) => FIELD_NAME.test(l.key) && l.line.includes(':'))) return 'no header at all (not a mail)';
  const walk = (n: TreeNode | undefined): string | undefined => {
    if (!n) return undefined;
    const type = n.contentType ?? '';
    if (type.startsWith('multipart/')) {
      if (!n.node?._boundary) return `${type} without a boundary: its parts cannot be told apart`;
      if (!n.children?.length) return `${type} whose boundary "${n.node._boundary}" never occurs: no part can be found`;
    }
    for (const c of n.children ?? []) {
      const p = walk(c);
      if (p) return p;
    }
    return undefined;
  };
  return walk((parser as unknown as { tree?: TreeNode }).tree);
}

/** Keeps the last path segment and drops control characters; empty means unnamed. */
function cleanFilename(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const last = name.split(/[/\\]/).pop() ?? '';
  const clean = last.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return clean === '' || clean === '.' || clean === '..' ? undefined : clean.normalize('NFC');
}

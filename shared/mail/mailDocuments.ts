import type { Readable } from 'node:stream';
import { ItemRejectedError } from '../errors';
import type { SourceDocument } from '../sources/types';
import { headerSubject } from './headerSubject';
import { MemoryPartStore } from './memoryStore';
import { MAX_FACT_LENGTH, MAX_UNPACK_DEPTH, type MailDocumentOptions } from './options';
import { parseMime, type ParsedMail } from './parseMime';
import type { PartStore, StoredPart } from './partStore';
import { nameForPart, nameFromSubject, uniqueNames } from './partNames';
import { isDocumentPart } from './partRole';
import { holdMessage, spoolMessage, type RawMessage } from './spool';
import { MailWorkspace } from './workspace';

/** Bytes handed to the parser at a time (Node's default for file streams; also faster than a whole mail at once). */
const PARSE_CHUNK = 64 * 1024;

/** The mail had nothing to file and the launcher says `"withoutAttachments": "skip"`. */
export class NothingToFileError extends ItemRejectedError {
  override readonly code = 'NOTHING_TO_FILE';
}

export interface MailSummary {
  subject?: string;
  messageId?: string;
  from?: string;
  date?: Date;
  /** Size and SHA-256 of the raw message. */
  size: number;
  readonly sha256: string;
}

export interface MailDocuments {
  message: MailSummary;
  /** In a stable order with unique names; each opens a stream on its temp file or Buffer. */
  documents: SourceDocument[];
  /** What was left out and why (empty attachments, attached mails that could not be unpacked). */
  notes: string[];
  /** Removes the temp files (frees the Buffers); the documents cannot be opened afterwards. */
  dispose(): Promise<void>;
}

export interface ReadMailOptions {
  /** Size the server announced; a download of another size is an error (retried). */
  expectedSize?: number;
  /** Folder for temp files (the OS temp folder by default; unused for a mail in memory). */
  tmpRoot?: string;
}

interface Entry {
  name: string;
  contentType: string;
  part: StoredPart;
}

/**
 * MIME → documents, shared by every mail source. A raw message that streams in (`Readable`)
 * is spooled to a temp file (bounded memory), parsed once, every part written to its own
 * temp file, and each document streams from disk when opened. A raw message already in
 * memory (`Buffer`, a small mail fetched whole) is parsed by the same parser and its parts
 * kept as Buffers: no temp file. Either way the documents (names, bytes, types, facts,
 * notes) are the same, and known before any of them is staged. What becomes a document:
 * - each attachment, and each inline part that is a real file (see `isDocumentPart`);
 * - an attached mail (message/rfc822) as `.eml`, plus its own attachments with
 *   `unpackAttachedMessages`;
 * - with no document at all: nothing (`skip`: NothingToFileError), the message as `.eml`
 *   (`eml`) or its body (`body`: HTML if any, else text);
 * - with `wholeMessage`, the message as `.eml` as well (last).
 * A malformed message throws ItemRejectedError; an interrupted download a SourceError.
 */
export async function readMailDocuments(raw: Readable | Buffer, opts: MailDocumentOptions, io: ReadMailOptions = {}): Promise<MailDocuments> {
  if (Buffer.isBuffer(raw)) {
    const store = new MemoryPartStore();
    return documentsOf(holdMessage(raw, store, io.expectedSize), store, opts);
  }
  const ws = await MailWorkspace.create(io.tmpRoot);
  let spooled: RawMessage;
  try {
    spooled = await spoolMessage(raw, ws, io.expectedSize);
  } catch (err) {
    await ws.dispose();
    throw err;
  }
  return documentsOf(spooled, ws, opts);
}

/** The documents of a raw message kept in `store`; disposes of `store` when it fails. */
async function documentsOf(raw: RawMessage, store: PartStore, opts: MailDocumentOptions): Promise<MailDocuments> {
  try {
    const notes: string[] = [];
    const { parsed, entries } = await collect(raw.part, store, opts, 0, notes);
    const message: MailSummary = {
      subject: parsed.subject,
      messageId: parsed.messageId,
      from: parsed.from,
      date: parsed.date,
      size: raw.part.size,
      get sha256() {
        return raw.sha256;
      },
    };
    const asEml = (): Entry => ({ name: nameFromSubject(parsed.subject, 'eml'), contentType: 'message/rfc822', part: raw.part });
    if (entries.length === 0) {
      if (opts.withoutAttachments === 'skip') {
        throw new NothingToFileError('no attachment to file (the launcher says "withoutAttachments": "skip"; "eml" or "body" would take such mail)');
      }
      entries.push(opts.withoutAttachments === 'eml' ? asEml() : await bodyEntry(parsed, store));
    }
    if (opts.wholeMessage && !entries.some((e) => e.part === raw.part)) entries.push(asEml());

    const facts = mailFacts(message);
    const names = uniqueNames(entries.map((e) => e.name));
    const documents = entries.map((e, i): SourceDocument => ({
      name: names[i],
      contentType: e.contentType,
      metadata: facts,
      open: async () => e.part.open(),
    }));
    return { message, documents, notes, dispose: () => store.dispose() };
  } catch (err) {
    await store.dispose();
    throw err;
  }
}

async function collect(
  raw: StoredPart,
  store: PartStore,
  opts: MailDocumentOptions,
  depth: number,
  notes: string[],
): Promise<{ parsed: ParsedMail; entries: Entry[] }> {
  const parsed = await parseMime(raw.open(PARSE_CHUNK), store);
  const entries: Entry[] = [];
  for (const part of parsed.parts) {
    if (part.contentType === 'message/rfc822') {
      const name = part.filename ? nameForPart(part.filename, part.contentType) : nameFromSubject(await headerSubject(part.content), 'eml');
      entries.push({ name, contentType: part.contentType, part: part.content });
      if (opts.unpackAttachedMessages) {
        if (depth + 1 > MAX_UNPACK_DEPTH) {
          notes.push(`"${name}" not unpacked: attached mails nested deeper than ${MAX_UNPACK_DEPTH} levels`);
          continue;
        }
        try {
          entries.push(...(await collect(part.content, store, opts, depth + 1, notes)).entries);
        } catch (err) {
          if (!(err instanceof ItemRejectedError)) throw err;
          notes.push(`"${name}" staged as it is but not unpacked: ${err.message}`);
        }
      }
      continue;
    }
    if (!isDocumentPart(part, parsed.html, opts.includeInline)) continue;
    const name = nameForPart(part.filename, part.contentType);
    if (part.size === 0) {
      notes.push(`"${name}" left out: empty attachment (0 bytes)`);
      continue;
    }
    entries.push({ name, contentType: part.contentType, part: part.content });
  }
  return { parsed, entries };
}

async function bodyEntry(parsed: ParsedMail, store: PartStore): Promise<Entry> {
  const html = parsed.html?.trim() ? parsed.html : undefined;
  const text = parsed.text?.trim() ? parsed.text : undefined;
  if (!html && !text) throw new NothingToFileError('no attachment and an empty body: nothing to file');
  const part = await store.keepText(html ?? text!, html ? 'html' : 'txt');
  return html
    ? { name: nameFromSubject(parsed.subject, 'html'), contentType: 'text/html; charset=utf-8', part }
    : { name: nameFromSubject(parsed.subject, 'txt'), contentType: 'text/plain; charset=utf-8', part };
}

/** Facts kept with every document of the mail (blob metadata `doc_mail*`). */
function mailFacts(m: MailSummary): Record<string, string> {
  const facts: Record<string, string> = {};
  const put = (k: string, v: string | undefined) => {
    if (v) facts[k] = v.slice(0, MAX_FACT_LENGTH);
  };
  put('mailSubject', m.subject);
  put('mailFrom', m.from);
  put('mailMessageId', m.messageId);
  put('mailDate', m.date && !Number.isNaN(m.date.getTime()) ? m.date.toISOString() : undefined);
  return facts;
}

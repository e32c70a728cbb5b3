import type { Readable } from 'node:stream';
import { ItemRejectedError } from '../errors';
import { compileFilenameFilter, type FilenameFilter } from '../routing/filenameFilter';
import type { SourceDocument } from '../sources/types';
import { NothingToFileError } from './errors';
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

export { NothingToFileError } from './errors';

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
  /** Attachments and attached mails left out because their name does not match the launcher's file-name filter. */
  filtered: string[];
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

/** What reading a mail gathers besides its documents, through every attached mail it unpacks. */
interface Gleaned {
  /** The launcher's file-name filter. */
  accepts: FilenameFilter;
  notes: string[];
  filtered: string[];
}

/**
 * MIME → documents, shared by every mail source. A raw message that streams in (`Readable`)
 * is spooled to a temp file (bounded memory), parsed once, every part written to its own
 * temp file, and each document streams from disk when opened. A raw message already in
 * memory (`Buffer`, a small mail fetched whole) is parsed by the same parser and its parts
 * kept as Buffers: no temp file. Either way the documents (names, bytes, types, facts,
 * notes, what the filter left out) are the same, and known before any of them is staged.
 * What becomes a document:
 * - each attachment, and each inline part that is a real file (see `isDocumentPart`);
 * - an attached mail (message/rfc822) as `.eml`, plus its own attachments with
 *   `unpackAttachedMessages`;
 *   each of those only when its name matches the launcher's `filenameFilter` (the others
 *   are listed in `filtered`);
 * - with no document at all (none, or none matching the filter): nothing (`skip`:
 *   NothingToFileError, unless `wholeMessage`), the message as `.eml` (`eml`) or its body
 *   (`body`: HTML if any, else text; an empty one is NothingToFileError unless
 *   `wholeMessage`), whatever the filter;
 * - with `wholeMessage`, the message as `.eml` as well (last), whatever the filter.
 * A malformed message throws ItemRejectedError; an interrupted download a SourceError.
 */
export async function readMailDocuments(raw: Readable | Buffer, opts: MailDocumentOptions, io: ReadMailOptions = {}): Promise<MailDocuments> {
  const accepts = compileFilenameFilter(opts.filenameFilter);
  if (Buffer.isBuffer(raw)) {
    const store = new MemoryPartStore();
    return documentsOf(holdMessage(raw, store, io.expectedSize), store, opts, accepts);
  }
  const ws = await MailWorkspace.create(io.tmpRoot);
  let spooled: RawMessage;
  try {
    spooled = await spoolMessage(raw, ws, io.expectedSize);
  } catch (err) {
    await ws.dispose();
    throw err;
  }
  return documentsOf(spooled, ws, opts, accepts);
}

/** The documents of a raw message kept in `store`; disposes of `store` when it fails. */
async function documentsOf(raw: RawMessage, store: PartStore, opts: MailDocumentOptions, accepts: FilenameFilter): Promise<MailDocuments> {
  try {
    const gleaned: Gleaned = { accepts, notes: [], filtered: [] };
    const { parsed, entries } = await collect(raw.part, store, opts, 0, gleaned);
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
      const unmatched = noneMatches(gleaned.filtered, opts.filenameFilter);
      // With wholeMessage every mail has its .eml to file (as the O365 launcher does).
      if (opts.withoutAttachments === 'eml') entries.push(asEml());
      else if (opts.withoutAttachments === 'body') {
        const body = await bodyEntry(parsed, store);
        if (body) entries.push(body);
        // An empty body has nothing to file; with wholeMessage the .eml below still does.
        else if (!opts.wholeMessage) throw new NothingToFileError(`${unmatched ?? 'no attachment'} and an empty body: nothing to file`);
      } else if (!opts.wholeMessage) {
        throw new NothingToFileError(`${unmatched ?? 'no attachment to file'} (the launcher says "withoutAttachments": "skip"; "eml" or "body" would take such mail)`);
      }
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
    return { message, documents, notes: gleaned.notes, filtered: gleaned.filtered, dispose: () => store.dispose() };
  } catch (err) {
    await store.dispose();
    throw err;
  }
}

/**
 * The candidate documents of a mail (and of the mails it unpacks), in MIME order. The
 * file-name filter applies to each candidate's own name, before names are made unique: an
 * attached mail left out by it is still unpacked when asked (its attachments have names of
 * their own).
 */
async function collect(raw: StoredPart, store: PartStore, opts: MailDocumentOptions, depth: number, gleaned: Gleaned): Promise<{ parsed: ParsedMail; entries: Entry[] }> {
  const parsed = await parseMime(raw.open(PARSE_CHUNK), store);
  const entries: Entry[] = [];
  const wanted = (name: string): boolean => {
    if (gleaned.accepts(name)) return true;
    gleaned.filtered.push(name);
    return false;
  };
  for (const part of parsed.parts) {
    if (part.contentType === 'message/rfc822') {
      const name = part.filename ? nameForPart(part.filename, part.contentType) : nameFromSubject(await headerSubject(part.content), 'eml');
      const taken = wanted(name);
      if (taken) entries.push({ name, contentType: part.contentType, part: part.content });
      if (opts.unpackAttachedMessages) {
        if (depth + 1 > MAX_UNPACK_DEPTH) {
          gleaned.notes.push(`"${name}" not unpacked: attached mails nested deeper than ${MAX_UNPACK_DEPTH} levels`);
          continue;
        }
        try {
          entries.push(...(await collect(part.content, store, opts, depth + 1, gleaned)).entries);
        } catch (err) {
          if (!(err instanceof ItemRejectedError)) throw err;
          gleaned.notes.push(`"${name}" ${taken ? 'staged as it is but ' : ''}not unpacked: ${err.message}`);
        }
      }
      continue;
    }
    if (!isDocumentPart(part, parsed.html, opts.includeInline)) continue;
    const name = nameForPart(part.filename, part.contentType);
    if (!wanted(name)) continue;
    if (part.size === 0) {
      gleaned.notes.push(`"${name}" left out: empty attachment (0 bytes)`);
      continue;
    }
    entries.push({ name, contentType: part.contentType, part: part.content });
  }
  return { parsed, entries };
}

/** When the filter is why a mail has no document of its own: says so, naming what it left out. */
function noneMatches(filtered: readonly string[], filter: string | undefined): string | undefined {
  if (filtered.length === 0) return undefined;
  return `no attachment matches the file-name filter ${filter} (left out: ${quoted(filtered)})`;
}

/** The log line of a mail some of whose attachments the filter left out (`MailDocuments.filtered`). */
export function filteredOut(filtered: readonly string[], filter: string | undefined): string {
  return `not filed, not matching the file-name filter ${filter}: ${quoted(filtered)}`;
}

const quoted = (names: readonly string[]) => names.map((n) => `"${n}"`).join(', ');

/** The body as a document (HTML if any, else text); undefined when it is empty. */
async function bodyEntry(parsed: ParsedMail, store: PartStore): Promise<Entry | undefined> {
  const html = parsed.html?.trim() ? parsed.html : undefined;
  const text = parsed.text?.trim() ? parsed.text : undefined;
  if (!html && !text) return undefined;
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

import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ItemRejectedError } from '../errors';
import type { SourceDocument } from '../sources/types';
import { headerSubject } from './headerSubject';
import { MAX_FACT_LENGTH, MAX_UNPACK_DEPTH, type MailDocumentOptions } from './options';
import { parseMime, type ParsedMail } from './parseMime';
import { nameForPart, nameFromSubject, uniqueNames } from './partNames';
import { isDocumentPart } from './partRole';
import { spoolMessage } from './spool';
import { MailWorkspace } from './workspace';

/** Read size of a document's temp file. */
const READ_CHUNK = 1024 * 1024;

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
  sha256: string;
}

export interface MailDocuments {
  message: MailSummary;
  /** In a stable order with unique names; each opens a stream on its temp file. */
  documents: SourceDocument[];
  /** What was left out and why (empty attachments, attached mails that could not be unpacked). */
  notes: string[];
  /** Removes the temp files; the documents cannot be opened afterwards. */
  dispose(): Promise<void>;
}

export interface ReadMailOptions {
  /** Size the server announced; a download of another size is an error (retried). */
  expectedSize?: number;
  /** Folder for temp files (the OS temp folder by default). */
  tmpRoot?: string;
}

interface Entry {
  name: string;
  contentType: string;
  path: string;
}

/**
 * MIME → documents, shared by every mail source. The raw message is spooled to a temp
 * file (bounded memory), parsed once, every part written to its own temp file; the
 * documents are then known (names, order) before any of them is staged, and each one
 * streams from disk when opened. What becomes a document:
 * - each attachment, and each inline part that is a real file (see `isDocumentPart`);
 * - an attached mail (message/rfc822) as `.eml`, plus its own attachments with
 *   `unpackAttachedMessages`;
 * - with no document at all: nothing (`skip`: NothingToFileError), the message as `.eml`
 *   (`eml`) or its body (`body`: HTML if any, else text);
 * - with `wholeMessage`, the message as `.eml` as well (last).
 * A malformed message throws ItemRejectedError; an interrupted download a SourceError.
 */
export async function readMailDocuments(raw: Readable, opts: MailDocumentOptions, io: ReadMailOptions = {}): Promise<MailDocuments> {
  const ws = await MailWorkspace.create(io.tmpRoot);
  try {
    const spooled = await spoolMessage(raw, ws.newFile('eml'), io.expectedSize);
    const notes: string[] = [];
    const { parsed, entries } = await collect(spooled.path, ws, opts, 0, notes);
    const message: MailSummary = {
      subject: parsed.subject,
      messageId: parsed.messageId,
      from: parsed.from,
      date: parsed.date,
      size: spooled.size,
      sha256: spooled.sha256,
    };
    const asEml = (): Entry => ({ name: nameFromSubject(parsed.subject, 'eml'), contentType: 'message/rfc822', path: spooled.path });
    if (entries.length === 0) {
      if (opts.withoutAttachments === 'skip') {
        throw new NothingToFileError('no attachment to file (the launcher says "withoutAttachments": "skip"; "eml" or "body" would take such mail)');
      }
      entries.push(opts.withoutAttachments === 'eml' ? asEml() : await bodyEntry(parsed, ws));
    }
    if (opts.wholeMessage && !entries.some((e) => e.path === spooled.path)) entries.push(asEml());

    const facts = mailFacts(message);
    const names = uniqueNames(entries.map((e) => e.name));
    const documents = entries.map((e, i): SourceDocument => ({
      name: names[i],
      contentType: e.contentType,
      metadata: facts,
      open: async () => createReadStream(e.path, { highWaterMark: READ_CHUNK }),
    }));
    return { message, documents, notes, dispose: () => ws.dispose() };
  } catch (err) {
    await ws.dispose();
    throw err;
  }
}

async function collect(
  path: string,
  ws: MailWorkspace,
  opts: MailDocumentOptions,
  depth: number,
  notes: string[],
): Promise<{ parsed: ParsedMail; entries: Entry[] }> {
  const parsed = await parseMime(path, ws);
  const entries: Entry[] = [];
  for (const part of parsed.parts) {
    if (part.contentType === 'message/rfc822') {
      const name = part.filename ? nameForPart(part.filename, part.contentType) : nameFromSubject(await headerSubject(part.path), 'eml');
      entries.push({ name, contentType: part.contentType, path: part.path });
      if (opts.unpackAttachedMessages) {
        if (depth + 1 > MAX_UNPACK_DEPTH) {
          notes.push(`"${name}" not unpacked: attached mails nested deeper than ${MAX_UNPACK_DEPTH} levels`);
          continue;
        }
        try {
          entries.push(...(await collect(part.path, ws, opts, depth + 1, notes)).entries);
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
    entries.push({ name, contentType: part.contentType, path: part.path });
  }
  return { parsed, entries };
}

async function bodyEntry(parsed: ParsedMail, ws: MailWorkspace): Promise<Entry> {
  const html = parsed.html?.trim() ? parsed.html : undefined;
  const text = parsed.text?.trim() ? parsed.text : undefined;
  if (!html && !text) throw new NothingToFileError('no attachment and an empty body: nothing to file');
  const path = ws.newFile(html ? 'html' : 'txt');
  await writeFile(path, html ?? text!, { encoding: 'utf8', flag: 'wx' });
  return html
    ? { name: nameFromSubject(parsed.subject, 'html'), contentType: 'text/html; charset=utf-8', path }
    : { name: nameFromSubject(parsed.subject, 'txt'), contentType: 'text/plain; charset=utf-8', path };
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

import type { Readable } from 'node:stream';
import { nameForPart, nameFromSubject, uniqueNames } from '../../mail/partNames';
import { compileFilenameFilter } from '../../routing/filenameFilter';
import { InMemoryBody } from '../../staging/putIfAbsent';
import type { Logger } from '../../util/log';
import type { SourceDocument } from '../types';
import {
  FILE_ATTACHMENT, ITEM_ATTACHMENT, REFERENCE_ATTACHMENT, SMALL_ATTACHMENT_BYTES, itemContent, listAttachments, readSmallContent,
} from './attachments';
import type { O365Launcher } from './auth';
import { NothingToFileError } from './errors';
import type { GraphClient } from './graphClient';

/** Type of a file attachment Graph gives none for. */
const UNKNOWN_TYPE = 'application/octet-stream';

export interface MessageRef {
  id: string;
  subject?: string | null;
}

/** A document before names are made unique within the message. */
interface Entry {
  name: string;
  contentType?: string;
  open(): Promise<Readable>;
}

/**
 * The documents of one message, named and ordered before any large content is read, by
 * the rules shared with IMAP and POP3 (shared/mail/partNames.ts): an attachment keeps its
 * name (given the extension of its type when it has none); an unnamed one is named from
 * its type (`document.pdf`, `image.png`); names are unique within the message (`scan.pdf`,
 * `scan_2.pdf`); empty attachments are left out.
 * 1. each fileAttachment, inline ones too (an inline PDF is a document), except inline
 *    images without includeInline; the file-name filter applies;
 * 2. each itemAttachment from its `$value`: an attached mail (or meeting request) as
 *    `<subject>.eml`, an event as `.ics` (iCal), a contact as `.vcf` (vCard);
 * 3. without any of those: withoutAttachments `eml` (the message's MIME) or `body`, or
 *    `skip`: NothingToFileError with the reason, and the message is put aside;
 * 4. wholeMessage: the message's `.eml` as well.
 * What a message holds is decided here, from its attachments, never from the message's
 * `hasAttachments` (false when its only attachments are inline).
 * referenceAttachments (links to OneDrive / SharePoint) carry no content in Graph v1.0
 * (`$value` answers 405, no URL is exposed): each is logged as not staged, never dropped
 * silently, and a message left with nothing to file is put aside with that reason.
 */
export async function messageDocuments(
  graph: GraphClient,
  launcher: O365Launcher,
  mailbox: string,
  message: MessageRef,
  log: Logger,
): Promise<SourceDocument[]> {
  const accepts = compileFilenameFilter(launcher.filenameFilter);
  const msgPath = `${mailbox}/messages/${encodeURIComponent(message.id)}`;
  const entries: Entry[] = [];
  const links: string[] = [];
  const filtered: string[] = [];
  const empty: string[] = [];
  const embedded: string[] = [];

  for (const att of await listAttachments(graph, msgPath)) {
    const type = att['@odata.type'];
    const value = () => graph.getStream(`${msgPath}/attachments/${encodeURIComponent(att.id)}/$value`);
    if (type === FILE_ATTACHMENT) {
      const contentType = mediaType(att.contentType);
      const name = nameForPart(att.name?.trim() || undefined, contentType);
      if (att.isInline && contentType.startsWith('image/') && !launcher.includeInline) {
        embedded.push(name);
        continue;
      }
      if (!accepts(name)) {
        filtered.push(name);
        continue;
      }
      let open = value;
      if (att.size === undefined || att.size <= SMALL_ATTACHMENT_BYTES) {
        const content = await readSmallContent(value);
        if (content?.length === 0) {
          empty.push(name);
          continue;
        }
        if (content) open = async () => new InMemoryBody(content);
      }
      entries.push({ name, contentType: att.contentType ?? undefined, open });
    } else if (type === ITEM_ATTACHMENT) {
      const item = itemContent(att);
      const name = nameFromSubject(att.name ?? undefined, item.ext, item.fallbackStem);
      if (!accepts(name)) {
        filtered.push(name);
        continue;
      }
      entries.push({ name, contentType: item.contentType, open: value });
    } else if (type === REFERENCE_ATTACHMENT) {
      links.push(att.name?.trim() || '(unnamed link)');
    } else {
      log.warn(`attachment "${att.name ?? att.id}" of unknown type ${type} not staged`);
    }
  }
  if (links.length > 0) {
    log.warn(`${links.length} link${links.length > 1 ? 's' : ''} to cloud files not staged (Graph gives no content for reference attachments): ${links.map((l) => `"${l}"`).join(', ')}`, { links });
  }
  for (const name of empty) log.info(`"${name}" left out: empty attachment (0 bytes)`);
  if (filtered.length > 0) log.debug(`attachments not matching the file-name filter: ${filtered.join(', ')}`);

  const eml = (): Entry => ({ name: nameFromSubject(message.subject ?? undefined, 'eml'), contentType: 'message/rfc822', open: () => graph.getStream(`${msgPath}/$value`) });
  const emlOnly = entries.length === 0 && launcher.withoutAttachments === 'eml';
  if (entries.length === 0 && !emlOnly) {
    if (launcher.withoutAttachments === 'body') {
      // An empty body has nothing to file, as for IMAP and POP3; with wholeMessage the .eml still does.
      const body = await bodyDocument(graph, msgPath, message.subject);
      if (body) entries.push(body);
      else if (!launcher.wholeMessage) throw new NothingToFileError('no attachment and an empty body: nothing to file');
    } else if (!launcher.wholeMessage) {
      const why = [
        links.length ? `only links to cloud files (${links.join(', ')})` : '',
        filtered.length ? `no attachment matching the file-name filter (${filtered.join(', ')})` : '',
        empty.length ? `only empty attachments (${empty.join(', ')})` : '',
        embedded.length ? `only embedded images (${embedded.join(', ')}; "includeInline" takes them)` : '',
      ].filter(Boolean);
      throw new NothingToFileError(`nothing to file: ${why.join('; ') || 'no attachment'} (withoutAttachments is "skip")`);
    }
  }
  if (emlOnly || launcher.wholeMessage) entries.push(eml());
  const names = uniqueNames(entries.map((e) => e.name));
  return entries.map((e, i) => ({ name: names[i]!, contentType: e.contentType, open: e.open }));
}

/** The media type of a Graph contentType, lower case, without parameters. */
function mediaType(contentType: string | null | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() || UNKNOWN_TYPE;
}

async function bodyDocument(graph: GraphClient, msgPath: string, subject: string | null | undefined): Promise<Entry | undefined> {
  const { body } = await graph.getJson<{ body?: { contentType?: string; content?: string } }>(`${msgPath}?$select=body`);
  if (!body?.content?.trim()) return undefined;
  const html = (body.contentType ?? '').toLowerCase() === 'html';
  const content = Buffer.from(body.content, 'utf8');
  return {
    name: nameFromSubject(subject ?? undefined, html ? 'html' : 'txt'),
    contentType: html ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8',
    open: async () => new InMemoryBody(content),
  };
}

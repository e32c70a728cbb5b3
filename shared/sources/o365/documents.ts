import { Readable } from 'node:stream';
import { ItemRejectedError } from '../../errors';
import { compileFilenameFilter } from '../../routing/filenameFilter';
import { splitExtension } from '../../routing/safeName';
import type { Logger } from '../../util/log';
import type { SourceDocument } from '../types';
import type { O365Launcher } from './auth';
import type { GraphClient } from './graphClient';

const FILE = '#microsoft.graph.fileAttachment';
const ITEM = '#microsoft.graph.itemAttachment';
const REFERENCE = '#microsoft.graph.referenceAttachment';
/** Longest stem taken from a subject for `.eml` / body names. */
const SUBJECT_STEM_LENGTH = 80;
const ATTACHMENT_FIELDS = 'id,name,contentType,size,isInline';

export interface AttachmentSummary {
  '@odata.type': string;
  id: string;
  name?: string | null;
  contentType?: string | null;
  size?: number;
  isInline?: boolean;
}

/** Extension of an attached Outlook item's raw content ($value is MIME, iCal or vCard). */
const ITEM_EXTENSIONS: Record<string, string> = { 'text/calendar': 'ics', 'text/vcard': 'vcf', 'text/x-vcard': 'vcf' };
const TYPE_EXTENSIONS: Record<string, string> = {
  'application/pdf': 'pdf', 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/tiff': 'tif',
  'text/plain': 'txt', 'text/html': 'html', 'application/xml': 'xml', 'text/xml': 'xml', 'application/zip': 'zip',
};

export interface MessageRef {
  id: string;
  subject?: string | null;
}

/**
 * The documents of one message, named and ordered before any content is read:
 * 1. each fileAttachment (inline images only with includeInline; the file-name filter applies);
 * 2. each itemAttachment (an attached mail) as `.eml` from its `$value`;
 * 3. without any of those: withoutAttachments `eml` (the message's MIME) or `body`;
 * 4. wholeMessage: the message's `.eml` as well.
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
  const names = new UniqueNames();
  const docs: SourceDocument[] = [];
  const links: string[] = [];
  const filtered: string[] = [];
  const stem = subjectStem(message.subject);

  for (const att of await listAttachments(graph, msgPath)) {
    const type = att['@odata.type'];
    const value = () => graph.getStream(`${msgPath}/attachments/${encodeURIComponent(att.id)}/$value`);
    if (type === FILE) {
      if (att.isInline && /^image\//i.test(att.contentType ?? '') && !launcher.includeInline) continue;
      const name = att.name?.trim() || `attachment-${docs.length + 1}${extensionFor(att.contentType)}`;
      if (!accepts(name)) {
        filtered.push(name);
        continue;
      }
      docs.push({ name: names.take(name), contentType: att.contentType ?? undefined, open: value });
    } else if (type === ITEM) {
      const ext = ITEM_EXTENSIONS[(att.contentType ?? '').toLowerCase()] ?? 'eml';
      const name = `${subjectStem(att.name) || 'attached-message'}.${ext}`;
      if (!accepts(name)) {
        filtered.push(name);
        continue;
      }
      docs.push({ name: names.take(name), contentType: ext === 'eml' ? 'message/rfc822' : (att.contentType ?? undefined), open: value });
    } else if (type === REFERENCE) {
      links.push(att.name?.trim() || '(unnamed link)');
    } else {
      log.warn(`attachment "${att.name ?? att.id}" of unknown type ${type} not staged`);
    }
  }
  if (links.length > 0) {
    log.warn(`${links.length} link${links.length > 1 ? 's' : ''} to cloud files not staged (Graph gives no content for reference attachments): ${links.map((l) => `"${l}"`).join(', ')}`, { links });
  }
  if (filtered.length > 0) log.debug(`attachments not matching the file-name filter: ${filtered.join(', ')}`);

  let emlAdded = false;
  const eml = (): SourceDocument => {
    emlAdded = true;
    return { name: names.take(`${stem || 'message'}.eml`), contentType: 'message/rfc822', open: () => graph.getStream(`${msgPath}/$value`) };
  };
  if (docs.length === 0) {
    if (launcher.withoutAttachments === 'eml') docs.push(eml());
    else if (launcher.withoutAttachments === 'body') docs.push(await bodyDocument(graph, msgPath, stem, names));
    else {
      const why = [
        links.length ? `only links to cloud files (${links.join(', ')})` : '',
        filtered.length ? `no attachment matching the file-name filter (${filtered.join(', ')})` : '',
      ].filter(Boolean);
      if (!launcher.wholeMessage) {
        throw new ItemRejectedError(`nothing to file: ${why.join('; ') || 'no attachment'} (withoutAttachments is "skip")`);
      }
    }
  }
  if (launcher.wholeMessage && !emlAdded) docs.push(eml());
  return docs;
}

async function listAttachments(graph: GraphClient, msgPath: string): Promise<AttachmentSummary[]> {
  const out: AttachmentSummary[] = [];
  // $select keeps contentBytes (the whole file, base64) out of the listing.
  let url: string | undefined = `${msgPath}/attachments?$select=${ATTACHMENT_FIELDS}`;
  while (url) {
    const page: { value: AttachmentSummary[]; '@odata.nextLink'?: string } = await graph.getJson(url);
    out.push(...page.value);
    url = page['@odata.nextLink'];
  }
  return out;
}

async function bodyDocument(graph: GraphClient, msgPath: string, stem: string, names: UniqueNames): Promise<SourceDocument> {
  const { body } = await graph.getJson<{ body?: { contentType?: string; content?: string } }>(`${msgPath}?$select=body`);
  const html = (body?.contentType ?? '').toLowerCase() === 'html';
  const content = Buffer.from(body?.content ?? '', 'utf8');
  return {
    name: names.take(`${stem || 'message'}.${html ? 'html' : 'txt'}`),
    contentType: html ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8',
    open: async () => Readable.from([content]),
  };
}

/** A subject as a file-name stem: no path or control characters, bounded length. */
export function subjectStem(subject: string | null | undefined): string {
  return (subject ?? '')
    .replace(/[\u0000-\u001f\u007f<>:"/\\|?*]+/g, ' ')
    .replace(/\.{2,}/g, '.')
    .replace(/\s+/g, ' ')
    .replace(/^[.\s]+|[.\s]+$/g, '')
    .slice(0, SUBJECT_STEM_LENGTH)
    .trim();
}

function extensionFor(contentType: string | null | undefined): string {
  const ext = TYPE_EXTENSIONS[(contentType ?? '').split(';')[0]!.trim().toLowerCase()];
  return ext ? `.${ext}` : '';
}

/** Names unique within a message (case-insensitively): `a.pdf`, `a (2).pdf`... */
class UniqueNames {
  private readonly seen = new Set<string>();
  take(name: string): string {
    const { stem, ext } = splitExtension(name);
    for (let n = 1; ; n++) {
      const candidate = n === 1 ? name : `${stem} (${n})${ext ? '.' + ext : ''}`;
      if (!this.seen.has(candidate.toLowerCase())) {
        this.seen.add(candidate.toLowerCase());
        return candidate;
      }
    }
  }
}

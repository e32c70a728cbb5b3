import type { Readable } from 'node:stream';
import type { GraphClient } from './graphClient';
import { readAtMost } from './transport';

export const FILE_ATTACHMENT = '#microsoft.graph.fileAttachment';
export const ITEM_ATTACHMENT = '#microsoft.graph.itemAttachment';
export const REFERENCE_ATTACHMENT = '#microsoft.graph.referenceAttachment';

/** Attachment properties listed: never `contentBytes` (the whole file, base64). */
const ATTACHMENT_FIELDS = 'id,name,contentType,size,isInline';
/**
 * The type of an attached Outlook item, and nothing else of it (its body and attachments
 * stay on the server): an itemAttachment's own `contentType` is null.
 */
const ITEM_TYPE_EXPANSION = 'microsoft.graph.itemAttachment/item($select=id)';
/**
 * A file attachment Graph announces at this size or less is read when the message's
 * documents are listed (one request, instead of one when it is staged), to leave out an
 * empty one: Graph's `size` counts the attachment's properties too, so an empty file is
 * announced at a few hundred bytes, never 0.
 */
export const SMALL_ATTACHMENT_BYTES = 4096;
/** More than this from a "small" attachment: it is streamed when staged, as any other. */
const SMALL_READ_LIMIT = 64 * 1024;

export interface AttachmentSummary {
  '@odata.type': string;
  id: string;
  name?: string | null;
  contentType?: string | null;
  /** Graph's size of the attachment (content and properties): not the file's length. */
  size?: number;
  isInline?: boolean;
  /** An itemAttachment's item, expanded to its type only. */
  item?: { '@odata.type'?: string } | null;
}

/** What `$value` of an attached Outlook item holds, by the item's type (Graph's attachment reference). */
export interface ItemContent {
  ext: 'eml' | 'ics' | 'vcf';
  contentType: string;
  /** Stem of the name when the item has none. */
  fallbackStem: string;
}

const ITEM_CONTENTS: Readonly<Record<string, ItemContent>> = {
  '#microsoft.graph.event': { ext: 'ics', contentType: 'text/calendar', fallbackStem: 'event' },
  '#microsoft.graph.contact': { ext: 'vcf', contentType: 'text/vcard', fallbackStem: 'contact' },
};
/** A message, a meeting request (eventMessage, a message too), or an item of unknown type: MIME. */
const MIME_CONTENT: ItemContent = { ext: 'eml', contentType: 'message/rfc822', fallbackStem: 'message' };

/** `$value` of an itemAttachment: vCard for a contact, iCal for an event, MIME for a message. */
export function itemContent(att: AttachmentSummary): ItemContent {
  return ITEM_CONTENTS[att.item?.['@odata.type'] ?? ''] ?? MIME_CONTENT;
}

/** Every attachment of a message (all pages), with the type of attached items. */
export async function listAttachments(graph: GraphClient, msgPath: string): Promise<AttachmentSummary[]> {
  const out: AttachmentSummary[] = [];
  let url: string | undefined = `${msgPath}/attachments?$select=${ATTACHMENT_FIELDS}&$expand=${ITEM_TYPE_EXPANSION}`;
  while (url) {
    const page: { value: AttachmentSummary[]; '@odata.nextLink'?: string } = await graph.getJson(url);
    out.push(...page.value);
    url = page['@odata.nextLink'];
  }
  return out;
}

/**
 * The content of a small attachment, or undefined when it turns out larger than
 * SMALL_READ_LIMIT (then it is streamed when staged).
 */
export async function readSmallContent(open: () => Promise<Readable>): Promise<Buffer | undefined> {
  return readAtMost(await open(), SMALL_READ_LIMIT);
}

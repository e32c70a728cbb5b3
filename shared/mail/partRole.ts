import type { MimePartFacts } from './parseMime';

/**
 * Is this part a document to file, or something embedded in the body (a signature logo,
 * an image of the HTML)? Attachments and inline files (a PDF marked `inline`, as Apple
 * Mail does; a photo dropped into the text, which has a name) are documents; images the
 * HTML shows through `cid:` or that sit in a multipart/related, and unnamed inline images,
 * are embedded, unless the launcher asks for them (`includeInline`).
 */
export function isDocumentPart(part: MimePartFacts, html: string | undefined, includeInline: boolean): boolean {
  if (includeInline) return true;
  const image = part.contentType.startsWith('image/');
  const shownByHtml = !!part.cid && !!html && html.includes(`cid:${part.cid}`);
  if (image && (part.related || shownByHtml)) return false;
  if (image && part.disposition === 'inline' && !part.filename) return false;
  if (!part.filename && (part.related || shownByHtml)) return false;
  return true;
}

import { safeFileName, splitExtension } from '../routing/safeName';

/** Extensions of the types a mail usually carries; routing is by extension. */
const EXTENSIONS: Readonly<Record<string, string>> = {
  'application/pdf': 'pdf',
  'application/xml': 'xml',
  'application/json': 'json',
  'application/zip': 'zip',
  'application/msword': 'doc',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.oasis.opendocument.text': 'odt',
  'application/vnd.oasis.opendocument.spreadsheet': 'ods',
  'application/pkcs7-signature': 'p7s',
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/tiff': 'tif',
  'image/bmp': 'bmp',
  'image/webp': 'webp',
  'image/heic': 'heic',
  'text/plain': 'txt',
  'text/html': 'html',
  'text/csv': 'csv',
  'text/xml': 'xml',
  'text/calendar': 'ics',
  'message/rfc822': 'eml',
  'message/delivery-status': 'txt',
};

/** The extension of a MIME type, or undefined when it says nothing (octet-stream...). */
export function extensionForType(contentType: string): string | undefined {
  return EXTENSIONS[contentType.toLowerCase().split(';')[0].trim()];
}

/** The stem of an unnamed part: what a person would call it. */
function stemForType(contentType: string): string {
  if (contentType === 'message/rfc822') return 'message';
  if (contentType.startsWith('image/')) return 'image';
  if (contentType.startsWith('text/')) return 'text';
  return extensionForType(contentType) ? 'document' : 'attachment';
}

/**
 * The name of a part: its own (decoded) name, given the extension of its type when it has
 * none; an unnamed part is named from its type (`document.pdf`, `image.png`, `message.eml`).
 */
export function nameForPart(filename: string | undefined, contentType: string): string {
  const ext = extensionForType(contentType);
  if (!filename) return `${stemForType(contentType)}.${ext ?? 'bin'}`;
  if (!splitExtension(filename).ext && ext) return `${filename}.${ext}`;
  return filename;
}

/**
 * Makes names unique within one mail, keeping the first as it is: `a.pdf`, `a_2.pdf`...
 * Names are compared as they will be written (safe form, case-insensitively), since two
 * names differing only there would collide in a Windows wait folder.
 */
export function uniqueNames(names: readonly string[]): string[] {
  const taken = new Set<string>();
  const key = (n: string) => safeFileName(n).toLowerCase();
  return names.map((name) => {
    let candidate = name;
    const { stem, ext } = splitExtension(name);
    for (let n = 2; taken.has(key(candidate)); n++) candidate = ext ? `${stem}_${n}.${ext}` : `${stem}_${n}`;
    taken.add(key(candidate));
    return candidate;
  });
}

/** A file name from a mail subject (for `.eml` and body documents); `fallback` when empty. */
export function nameFromSubject(subject: string | undefined, ext: string, fallback = 'message'): string {
  const stem = (subject ?? '')
    .replace(/[\u0000-\u001f\u007f<>:"/\\|?*]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 100)
    .replace(/[.\s]+$/, '');
  return `${stem || fallback}.${ext}`;
}

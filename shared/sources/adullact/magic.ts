/** Bytes read at the start of a file to recognise its kind. */
export const MAGIC_BYTES = 2048;
/** Extension of a file whose kind is not recognised. */
export const UNKNOWN_EXTENSION = 'bin';

/**
 * The extension a file's first bytes call for: pdf, xml, zip (odt, ods, docx, xlsx,
 * pptx when the start of the zip says so), png, jpg, gif, tif, gz, rtf; else `bin`.
 * Used to name a file Pastell wrote under an internal name (`<id>.yml_<field>_<n>`)
 * when the metadata gives no original name.
 */
export function extensionFromMagic(head: Buffer): string {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  const ascii = head.toString('latin1');
  if (ascii.startsWith('%PDF-')) return 'pdf';
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png';
  if (starts(0xff, 0xd8, 0xff)) return 'jpg';
  if (starts(0x49, 0x49, 0x2a, 0x00) || starts(0x4d, 0x4d, 0x00, 0x2a)) return 'tif';
  if (ascii.startsWith('GIF87a') || ascii.startsWith('GIF89a')) return 'gif';
  if (starts(0x50, 0x4b, 0x03, 0x04)) return zipKind(ascii);
  if (starts(0x1f, 0x8b)) return 'gz';
  if (ascii.startsWith('{\\rtf')) return 'rtf';
  if (isXml(head)) return 'xml';
  return UNKNOWN_EXTENSION;
}

/** OpenDocument stores its `mimetype` first; Office Open XML names its parts early. */
function zipKind(ascii: string): string {
  const odf = /^mimetype\s*application\/vnd\.oasis\.opendocument\.(text|spreadsheet|presentation)/.exec(ascii.slice(30));
  if (odf) return { text: 'odt', spreadsheet: 'ods', presentation: 'odp' }[odf[1] as 'text' | 'spreadsheet' | 'presentation'];
  if (ascii.includes('[Content_Types].xml') || ascii.includes('_rels/')) {
    if (ascii.includes('word/')) return 'docx';
    if (ascii.includes('xl/')) return 'xlsx';
    if (ascii.includes('ppt/')) return 'pptx';
  }
  return 'zip';
}

/** `<?xml`, or a first element, after a byte-order mark and blanks (UTF-8 or UTF-16). */
function isXml(head: Buffer): boolean {
  if ((head[0] === 0xff && head[1] === 0xfe && head[2] === 0x3c) || (head[0] === 0xfe && head[1] === 0xff && head[3] === 0x3c)) return true;
  const text = head.toString('latin1').replace(/^\xef\xbb\xbf/, '').trimStart();
  return text.startsWith('<?xml') || /^<[A-Za-z_][\w.:-]*[\s>/]/.test(text);
}

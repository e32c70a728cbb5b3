import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { EnvelopeFormatError } from './errors';

/** Largest XML file parsed whole (metadata, acknowledgements, invoices stripped of binaries). */
export const MAX_XML_BYTES = 16 * 1024 * 1024;
/** Bytes of the start of a file in which the XML declaration is looked for. */
const PROLOG_BYTES = 512;

/** A parsed element: attributes as `@_name`, text as `#text`, children by local name. */
export type XmlNode = Record<string, unknown>;

/** Encodings accepted in an XML declaration, by lower-case label → TextDecoder label. */
const ENCODINGS: Record<string, string> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'iso-8859-1': 'windows-1252',
  'iso8859-1': 'windows-1252',
  'iso_8859-1': 'windows-1252',
  latin1: 'windows-1252',
  'latin-1': 'windows-1252',
  'windows-1252': 'windows-1252',
  cp1252: 'windows-1252',
  'iso-8859-15': 'iso-8859-15',
  'iso8859-15': 'iso-8859-15',
  'us-ascii': 'utf-8',
  ascii: 'utf-8',
};

/** Reads the encoding named by the XML declaration (lower case), if any. */
export function declaredEncoding(bytes: Buffer): string | undefined {
  const head = bytes.subarray(0, PROLOG_BYTES).toString('latin1');
  const m = /^\s*<\?xml\s[^?]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head);
  return m?.[1].toLowerCase();
}

/**
 * XML bytes → text, honouring a byte-order mark or the declared encoding (ISO-8859-1 and
 * windows-1252 are common in Actes and PES files). Without a declaration the XML default
 * is UTF-8; bytes that are not UTF-8 then fall back to windows-1252 so accents survive.
 */
export function decodeXmlBytes(bytes: Buffer, what: string): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return new TextDecoder('utf-8').decode(bytes.subarray(3));
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  const declared = declaredEncoding(bytes);
  if (declared) {
    const label = ENCODINGS[declared];
    if (!label) throw new EnvelopeFormatError('XML_ENCODING', `${what}: unsupported XML encoding "${declared}"`);
    if (label === 'windows-1252') return decodeWindows1252(bytes);
    try {
      return new TextDecoder(label, { fatal: label === 'utf-8' }).decode(bytes);
    } catch (err) {
      throw new EnvelopeFormatError('XML_ENCODING', `${what}: declared ${declared} but is not valid ${declared}`, { cause: err });
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return decodeWindows1252(bytes);
  }
}

/** windows-1252 characters of bytes 0x80–0x9F (undefined bytes stay as they are). */
const CP1252_HIGH = '€\x81‚ƒ„…†‡ˆ‰Š‹Œ\x8DŽ\x8F\x90‘’“”•–—˜™š›œ\x9DžŸ';

/**
 * ISO-8859-1 and windows-1252 bytes → text. Declared ISO-8859-1 is read as windows-1252,
 * as browsers do (WHATWG): French files say ISO-8859-1 and hold € or œ from Windows.
 * (Node's TextDecoder maps these labels to plain latin1, losing €.)
 */
export function decodeWindows1252(bytes: Buffer): string {
  return bytes.toString('latin1').replace(/[\x80-\x9f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]);
}

/**
 * Refuses documents that declare entities: `<!ENTITY` inside a DOCTYPE is how
 * billion-laughs and external-entity (XXE) attacks start. Nothing here needs a DTD.
 */
export function assertNoEntityDeclarations(text: string, what: string): void {
  const doctype = /<!DOCTYPE/i.exec(text);
  if (!doctype) return;
  if (/<!ENTITY/i.test(text.slice(doctype.index))) {
    throw new EnvelopeFormatError('XML_ENTITY_DECLARATION', `${what}: the XML declares entities (<!DOCTYPE ... <!ENTITY>), refused (entity expansion is never done)`);
  }
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * Replaces the five predefined XML entities and numeric character references; anything
 * else (`&foo;`) stays as written: entities declared in a DTD are never expanded.
 */
export function decodeCharacterReferences(value: string): string {
  if (!value.includes('&')) return value;
  return value.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos);/g, (whole, ref: string) => {
    if (ref[0] !== '#') return PREDEFINED[ref];
    const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  processEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: true,
  tagValueProcessor: (_name, value) => decodeCharacterReferences(value),
  attributeValueProcessor: (_name, value) => decodeCharacterReferences(value),
});

/**
 * Parses XML bytes safely: size bound, declared encoding honoured, entity declarations
 * refused, well-formedness checked (the parser alone is lenient), no entity expansion.
 * Namespace prefixes are dropped (`actes:Acte` → `Acte`).
 */
export function parseXml(bytes: Buffer, what: string, maxBytes = MAX_XML_BYTES): XmlNode {
  if (bytes.length > maxBytes) throw new EnvelopeFormatError('XML_TOO_LARGE', `${what}: ${bytes.length} bytes, more than the ${maxBytes} bytes parsed whole`);
  const text = decodeXmlBytes(bytes, what);
  assertNoEntityDeclarations(text, what);
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new EnvelopeFormatError('XML_MALFORMED', `${what}: malformed XML (${valid.err.msg} at line ${valid.err.line}, column ${valid.err.col})`);
  }
  return parser.parse(text) as XmlNode;
}

// ---- small accessors over parsed nodes ----------------------------------------------

/** The child element(s) of a node, always as an array. */
export function children(node: unknown, name: string): XmlNode[] {
  if (!node || typeof node !== 'object') return [];
  const v = (node as XmlNode)[name];
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map((c) => (typeof c === 'object' && c !== null ? (c as XmlNode) : { '#text': String(c) }));
}

/** The first child element at the end of a path of local names. */
export function child(node: unknown, ...path: string[]): XmlNode | undefined {
  let cur: XmlNode | undefined = node as XmlNode | undefined;
  for (const name of path) {
    cur = children(cur, name)[0];
    if (!cur) return undefined;
  }
  return cur;
}

/** Text content of the element at the end of `path` (trimmed, undefined when empty). */
export function text(node: unknown, ...path: string[]): string | undefined {
  const n = path.length ? child(node, ...path) : (node as XmlNode | undefined);
  const t = n?.['#text'];
  return t === undefined || t === '' ? undefined : String(t);
}

/** An attribute by local name of the element at the end of `path`. */
export function attr(node: unknown, name: string, ...path: string[]): string | undefined {
  const n = path.length ? child(node, ...path) : (node as XmlNode | undefined);
  const v = n?.['@_' + name];
  return v === undefined || v === '' ? undefined : String(v);
}

/** PES style: the value of the `V` attribute of the element at the end of `path`. */
export function v(node: unknown, ...path: string[]): string | undefined {
  return attr(node, 'V', ...path);
}

/** The root element of a parsed document, with its local name. */
export function rootOf(doc: XmlNode): { name: string; node: XmlNode } | undefined {
  for (const [name, value] of Object.entries(doc)) {
    if (name.startsWith('?') || name.startsWith('#')) continue;
    return { name, node: (typeof value === 'object' && value !== null ? value : { '#text': String(value) }) as XmlNode };
  }
  return undefined;
}

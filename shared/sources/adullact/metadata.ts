import { parse as parseYaml } from 'yaml';
import { EnvelopeFormatError } from './errors';
import { readSmall, type EnvelopeFile, type EnvelopeReader } from './envelopeReader';
import { attr, children, parseXml, rootOf } from './xml';

/** Default name (without extension) of Pastell's metadata file. */
export const DEFAULT_METADATA_STEM = 'metadata';
/** Largest metadata file read. */
export const MAX_METADATA_BYTES = 4 * 1024 * 1024;
/** YAML aliases allowed in a metadata file (Pastell writes none; bounds alias bombs). */
const MAX_YAML_ALIASES = 50;

export type MetadataFormat = 'xml' | 'json' | 'yaml';

/** A file named by the metadata: the form field it fills, and its names. */
export interface FileRef {
  field: string;
  /** The name in the envelope (Pastell's internal name when so configured). */
  name: string;
  /** The original name when it differs (`name_original`). */
  original?: string;
}

/** What a Pastell metadata file says, whatever its format. */
export interface EnvelopeMetadata {
  format: MetadataFormat;
  /** Path of the metadata file inside the envelope. */
  file: string;
  /** `<flux type="...">` of a glaneur manifest, when present. */
  fluxType?: string;
  /** Every text field (`acte_nature`, `objet`...). */
  data: Record<string, string>;
  /** Every file field, in the order written. */
  files: FileRef[];
}

const EXTENSIONS: Record<string, MetadataFormat> = { xml: 'xml', json: 'json', txt: 'yaml', yml: 'yaml', yaml: 'yaml' };

/** The metadata file of an envelope: `<stem>.xml`, `.json` or `.txt` at its top. */
export function findMetadataFile(files: EnvelopeFile[], stem = DEFAULT_METADATA_STEM): { path: string; format: MetadataFormat } | undefined {
  const wanted = stem.toLowerCase();
  for (const ext of ['xml', 'json', 'txt', 'yml', 'yaml']) {
    const hit = files.find((f) => !f.path.includes('/') && f.path.toLowerCase() === `${wanted}.${ext}`);
    if (hit) return { path: hit.path, format: EXTENSIONS[ext] };
  }
  return undefined;
}

/** Reads and parses the metadata file; a malformed one rejects the envelope. */
export async function readMetadata(reader: EnvelopeReader, file: { path: string; format: MetadataFormat }, label: string): Promise<{ metadata: EnvelopeMetadata; bytes: Buffer }> {
  const bytes = await readMetadataBytes(reader, file, label);
  return { metadata: parseMetadata(bytes, file.format, file.path, `${label}/${file.path}`), bytes };
}

/** The bytes of the metadata file, refusing more than MAX_METADATA_BYTES. */
export async function readMetadataBytes(reader: EnvelopeReader, file: { path: string }, label: string): Promise<Buffer> {
  const what = `${label}/${file.path}`;
  try {
    return await readSmall(reader, file.path, MAX_METADATA_BYTES, what);
  } catch (err) {
    if (err instanceof EnvelopeFormatError && err.code === 'XML_TOO_LARGE') throw new EnvelopeFormatError('METADATA_TOO_LARGE', err.message);
    throw err;
  }
}

export function parseMetadata(bytes: Buffer, format: MetadataFormat, path: string, what: string): EnvelopeMetadata {
  if (format === 'xml') return fromXml(bytes, path, what);
  let value: unknown;
  try {
    const text = new TextDecoder('utf-8').decode(bytes).replace(/^\uFEFF/, '');
    value = format === 'json' ? JSON.parse(text) : parseYaml(text, { schema: 'failsafe', maxAliasCount: MAX_YAML_ALIASES, uniqueKeys: false });
  } catch (err) {
    throw new EnvelopeFormatError('METADATA_MALFORMED', `${what}: malformed ${format.toUpperCase()} (${(err as Error).message.split('\n')[0]})`, { cause: err });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new EnvelopeFormatError('METADATA_MALFORMED', `${what}: expected a ${format.toUpperCase()} object of fields`);
  }
  return fromFlatObject(value as Record<string, unknown>, format, path);
}

/** `<flux><files name="f"><file content="a.pdf" name_original="..."/></files><data name="k" value="v"/></flux>` */
function fromXml(bytes: Buffer, path: string, what: string): EnvelopeMetadata {
  const root = rootOf(parseXml(bytes, what, MAX_METADATA_BYTES));
  if (!root || root.name !== 'flux') {
    throw new EnvelopeFormatError('METADATA_MALFORMED', `${what}: expected a <flux> root element${root ? `, found <${root.name}>` : ''}`);
  }
  const data: Record<string, string> = {};
  for (const d of children(root.node, 'data')) {
    const name = attr(d, 'name');
    if (name) data[name] = attr(d, 'value') ?? '';
  }
  const files: FileRef[] = [];
  for (const group of children(root.node, 'files')) {
    const field = attr(group, 'name');
    if (!field) continue;
    for (const f of children(group, 'file')) {
      const name = attr(f, 'content');
      if (!name) continue;
      const original = attr(f, 'name_original');
      files.push(original && original !== name ? { field, name, original } : { field, name });
    }
  }
  return { format: 'xml', file: path, fluxType: attr(root.node, 'type'), data, files };
}

/** JSON and YAML: a flat object; strings are fields, lists are file fields. */
function fromFlatObject(obj: Record<string, unknown>, format: MetadataFormat, path: string): EnvelopeMetadata {
  const data: Record<string, string> = {};
  const files: FileRef[] = [];
  for (const [key, value] of Object.entries(obj)) {
    const list = asList(value);
    if (list) {
      for (const name of list) files.push({ field: key, name });
    } else if (value === null || value === undefined) {
      data[key] = '';
    } else {
      data[key] = typeof value === 'object' ? JSON.stringify(value) : String(value);
    }
  }
  return { format, file: path, data, files };
}

/** A list of file names: an array, or a map with numeric keys (PHP arrays dumped by Spyc). */
function asList(value: unknown): string[] | undefined {
  if (Array.isArray(value)) return value.map(String);
  if (value && typeof value === 'object' && Object.keys(value).length > 0 && Object.keys(value).every((k) => /^\d+$/.test(k))) {
    return Object.values(value as Record<string, unknown>).map(String);
  }
  return undefined;
}

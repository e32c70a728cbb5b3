import { Readable } from 'node:stream';
import { safeFileName, splitExtension } from '../../routing/safeName';
import { sha256Hex } from '../../util/hash';
import type { SourceDocument } from '../types';
import { decodeActes } from './actes';
import { decodeChorus } from './chorus';
import { emptyDecoded, type DecodeContext, type Decoded, type Decoder, type EnvelopeEntry } from './decoded';
import { EnvelopeFormatError, EnvelopeIncompleteError } from './errors';
import { readHead, type EnvelopeFile, type EnvelopeReader } from './envelopeReader';
import { decodeHelios } from './helios';
import { MAGIC_BYTES, extensionFromMagic } from './magic';
import { findMetadataFile, parseMetadata, readMetadata, readMetadataBytes, type EnvelopeMetadata, type FileRef } from './metadata';
import { PASTELL_INTERNAL_NAME, describeMissing, missingFiles } from './missingFiles';
import { TYPE_LABELS, UNRECOGNISED_GROUP, recogniseType, type EnvelopeType } from './recognise';

/** One decoder per envelope type, found through a map. */
const DECODERS: Record<EnvelopeType, Decoder> = { acte_nature: decodeActes, helios: decodeHelios, chorus_fact: decodeChorus };
/** Longest envelope prefix in Chorus document names. */
export const MAX_PREFIX_LENGTH = 60;
/** Budget of the decoded facts on one blob, percent-encoded (Azure allows 8 KiB in all). */
export const FACTS_BUDGET_BYTES = 3 * 1024;

const CONTENT_TYPES: Record<string, string> = {
  pdf: 'application/pdf',
  xml: 'application/xml',
  json: 'application/json',
  txt: 'text/plain; charset=utf-8',
  zip: 'application/zip',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  odt: 'application/vnd.oasis.opendocument.text',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

export interface EnvelopeSpec {
  /** Folder or zip name as in the source. */
  name: string;
  kind: 'folder' | 'zip';
  /** Name of the end marker, never delivered. */
  endMarker: string;
  /** Metadata file name without extension. */
  metadataStem: string;
}

export interface EnvelopeContent {
  type: EnvelopeType | undefined;
  documents: SourceDocument[];
  /** Hash of the metadata file (or of the listing when there is none): part of the item key. */
  metadataHash: string;
  /** Hash of the listing (paths and sizes): tells whether the envelope changed since. */
  fingerprint: string;
  index: Record<string, unknown>;
}

/** Stem of an envelope's name (a zip loses its `.zip`). */
export function envelopeStem(spec: Pick<EnvelopeSpec, 'name' | 'kind'>): string {
  return spec.kind === 'zip' ? spec.name.replace(/\.zip$/i, '') : spec.name;
}

/** The files of an envelope that are documents: everything but the end marker. */
export async function envelopeFiles(reader: EnvelopeReader, endMarker: string): Promise<EnvelopeFile[]> {
  const marker = endMarker.toLowerCase();
  return (await reader.list()).filter((f) => f.path.toLowerCase() !== marker);
}

export function listingHash(files: EnvelopeFile[]): string {
  return sha256Hex(files.map((f) => `${f.path}\u0000${f.size}`).join('\n')).slice(0, 16);
}

/** The item-key part of an envelope: the hash of its metadata file's bytes, else of its listing. */
function keyHash(files: EnvelopeFile[], metadataBytes?: Buffer): string {
  return metadataBytes ? sha256Hex(metadataBytes.toString('latin1')).slice(0, 16) : `l${listingHash(files)}`;
}

/** What a scan needs to know of a complete-looking envelope before taking it. */
export interface EnvelopeIdentity {
  /** The item-key part: the hash of its metadata file, else of its listing. */
  hash: string;
  /** Files its metadata names that it does not hold (none when the metadata is unreadable). */
  missing: FileRef[];
}

/**
 * Reads the metadata file of an envelope (only it): its hash, and the files it names
 * that are not there. A metadata file that does not parse is not reported here: reading
 * the envelope refuses it with the reason.
 */
export async function envelopeIdentity(reader: EnvelopeReader, spec: EnvelopeSpec): Promise<EnvelopeIdentity> {
  const files = await envelopeFiles(reader, spec.endMarker);
  const meta = findMetadataFile(files, spec.metadataStem);
  if (!meta) return { hash: keyHash(files), missing: [] };
  const bytes = await readMetadataBytes(reader, meta, spec.name);
  const hash = keyHash(files, bytes);
  let metadata: EnvelopeMetadata;
  try {
    metadata = parseMetadata(bytes, meta.format, meta.path, `${spec.name}/${meta.path}`);
  } catch (err) {
    if (err instanceof EnvelopeFormatError) return { hash, missing: [] };
    throw err;
  }
  return { hash, missing: missingFiles(files, metadata) };
}

/** The reason an envelope is incomplete, naming the missing files and their fields. */
export function incompleteReason(spec: Pick<EnvelopeSpec, 'name'>, missing: readonly FileRef[]): string {
  return `${spec.name}: incomplete envelope, its metadata names ${missing.length === 1 ? 'a file' : `${missing.length} files`} it does not contain: ${describeMissing(missing)}`;
}

/**
 * Reads an envelope: its metadata, its type, what the type's decoder finds, and the
 * documents to stage, in a stable order with stable names: the envelope's files (sorted),
 * then the documents extracted from them (PES PJ), then `<envelope>.index.json`.
 *
 * Everything that can make the envelope unusable is found here, before any document is
 * staged, so a broken envelope is refused whole: a corrupt zip entry (the zip is
 * inflated once, its large entries kept in temp files that every later read uses, until
 * `reader.close()`), files the metadata names but the envelope lacks, a corrupt PES PJ
 * (decoded once and discarded).
 */
export async function readEnvelope(reader: EnvelopeReader, spec: EnvelopeSpec): Promise<EnvelopeContent> {
  const files = await envelopeFiles(reader, spec.endMarker);
  if (files.length === 0) throw new EnvelopeFormatError('ENVELOPE_EMPTY', `${spec.name}: the envelope holds no file`);
  await reader.verify?.();
  const metaFile = findMetadataFile(files, spec.metadataStem);
  let metadata: EnvelopeMetadata | undefined;
  let metadataHash = keyHash(files);
  if (metaFile) {
    const read = await readMetadata(reader, metaFile, spec.name);
    metadata = read.metadata;
    metadataHash = keyHash(files, read.bytes);
    const missing = missingFiles(files, metadata);
    if (missing.length > 0) throw new EnvelopeIncompleteError(incompleteReason(spec, missing), missing.map((m) => m.name));
  }
  const entries: EnvelopeEntry[] = [];
  for (const f of files) entries.push(await toEntry(f, metadata, reader));
  const recognition = recogniseType(metadata);
  const ctx: DecodeContext = { label: spec.name, reader, entries, metadata };
  const decoded: Decoded = recognition.type ? await DECODERS[recognition.type](ctx) : emptyDecoded();
  const type = recognition.type;

  const stem = envelopeStem(spec);
  const prefix = type === 'chorus_fact' ? safeFileName(stem).slice(0, MAX_PREFIX_LENGTH).replace(/[.\s]+$/, '') + '__' : '';
  const names = new UniqueNames();
  const common = { adullact_type: type ?? 'inconnu', enveloppe: stem };
  const group = type ?? UNRECOGNISED_GROUP;
  const listed: Record<string, unknown>[] = [];
  const documents: SourceDocument[] = [];

  for (const e of entries) {
    const name = names.take(prefix + e.name);
    const role = e.path === metadata?.file ? 'metadata' : e.field ?? 'fichier';
    listed.push({ name, source: e.path, role, size: e.size });
    documents.push({
      name,
      group,
      contentType: contentTypeOf(name),
      metadata: withinBudget({ ...common, role, ...decoded.facts }),
      open: () => reader.open(e.path),
    });
  }
  for (const x of decoded.extra) {
    const name = names.take(prefix + x.name);
    listed.push({ name, role: 'piece_justificative', ...x.facts });
    documents.push({ name, group, contentType: x.contentType ?? contentTypeOf(name), metadata: withinBudget({ ...common, role: 'piece_justificative', ...decoded.facts, ...x.facts }), open: x.open });
  }

  const indexName = names.take(`${safeFileName(stem).slice(0, MAX_PREFIX_LENGTH).replace(/[.\s]+$/, '')}.index.json`);
  const index: Record<string, unknown> = {
    envelope: spec.name,
    container: spec.kind,
    type: type ?? null,
    typeLabel: type ? TYPE_LABELS[type] : null,
    recognition: recognition.type ? { matched: recognition.matched } : { reason: recognition.reason },
    metadata: metadata ? { file: metadata.file, format: metadata.format, fluxType: metadata.fluxType, fields: metadata.data, files: metadata.files } : null,
    facts: decoded.facts,
    decoded: decoded.details,
    documents: [...listed, { name: indexName, role: 'index' }],
    warnings: decoded.warnings,
  };
  const indexBytes = Buffer.from(JSON.stringify(index, null, 2) + '\n', 'utf8');
  documents.push({
    name: indexName,
    group,
    contentType: 'application/json',
    metadata: withinBudget({ ...common, role: 'index', ...decoded.facts }),
    open: async () => Readable.from([indexBytes]),
  });
  return { type, documents, metadataHash, fingerprint: listingHash(files), index };
}

/**
 * The metadata field of a file, and the name it is delivered under: its original name
 * when known. A file under Pastell's internal name (`<id>.yml_<field>_<n>`) whose
 * original name is unknown (JSON and YAML metadata never give one) is delivered as
 * `<field>_<n>.<extension>`, the extension read from its first bytes: the internal name
 * would otherwise reach EzGED with `yml_<field>_<n>` as its extension.
 */
async function toEntry(file: EnvelopeFile, metadata: EnvelopeMetadata | undefined, reader: EnvelopeReader): Promise<EnvelopeEntry> {
  const base = file.path.split('/').join('_');
  if (!metadata) return { ...file, name: base };
  if (file.path === metadata.file) return { ...file, name: base };
  const leaf = file.path.split('/').pop()!;
  const ref: FileRef | undefined = metadata.files.find((f) => f.name === file.path) ?? metadata.files.find((f) => f.name === leaf);
  const internal = PASTELL_INTERNAL_NAME.exec(leaf);
  if (!internal) return ref ? { ...file, field: ref.field, name: ref.original ?? base } : { ...file, name: base };

  const [, fieldName, n] = internal;
  const field = ref?.field ?? fieldName;
  const listed = ref ?? metadata.files.filter((f) => f.field === fieldName)[Number(n)];
  const original = [listed?.original, listed?.name].find((name) => name && name.trim() !== '' && !PASTELL_INTERNAL_NAME.test(name));
  if (original) return { ...file, field, name: original };
  const ext = extensionFromMagic(await readHead(reader, file.path, MAGIC_BYTES));
  return { ...file, field, name: `${fieldName}_${n}.${ext}` };
}

function contentTypeOf(name: string): string | undefined {
  return CONTENT_TYPES[splitExtension(name).ext.toLowerCase()];
}

/** Keeps names unique within an envelope (case-insensitively): `a.pdf`, `a_2.pdf`... */
class UniqueNames {
  private readonly used = new Set<string>();
  take(wanted: string): string {
    const safe = safeFileName(wanted);
    const { stem, ext } = splitExtension(safe);
    for (let n = 1; ; n++) {
      const candidate = n === 1 ? safe : `${stem}_${n}${ext ? '.' + ext : ''}`;
      if (!this.used.has(candidate.toLowerCase())) {
        this.used.add(candidate.toLowerCase());
        return candidate;
      }
    }
  }
}

/** Shortens the longest facts until all of them fit the blob-metadata budget. */
export function withinBudget(facts: Record<string, string>): Record<string, string> {
  const out = { ...facts };
  const size = () => Object.entries(out).reduce((s, [k, v]) => s + k.length + 4 + encodeURIComponent(v).length, 0);
  while (size() > FACTS_BUDGET_BYTES) {
    const [longest] = Object.entries(out).sort((a, b) => encodeURIComponent(b[1]).length - encodeURIComponent(a[1]).length);
    if (!longest || longest[1].length <= 8) break;
    out[longest[0]] = longest[1].slice(0, Math.floor(longest[1].length * 0.6)) + '…';
  }
  return out;
}

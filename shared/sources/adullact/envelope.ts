import { Readable } from 'node:stream';
import { safeFileName, splitExtension } from '../../routing/safeName';
import { sha256Hex } from '../../util/hash';
import type { SourceDocument } from '../types';
import { decodeActes } from './actes';
import { decodeChorus } from './chorus';
import { emptyDecoded, type DecodeContext, type Decoded, type Decoder, type EnvelopeEntry } from './decoded';
import { EnvelopeFormatError } from './errors';
import type { EnvelopeFile, EnvelopeReader } from './envelopeReader';
import { decodeHelios } from './helios';
import { findMetadataFile, readMetadata, type EnvelopeMetadata, type FileRef } from './metadata';
import { TYPE_LABELS, UNRECOGNISED_GROUP, recogniseType, type EnvelopeType } from './recognise';

/** One decoder per envelope type, found through a map. */
const DECODERS: Record<EnvelopeType, Decoder> = { acte_nature: decodeActes, helios: decodeHelios, chorus_fact: decodeChorus };
/** Longest envelope prefix in Chorus document names. */
export const MAX_PREFIX_LENGTH = 60;
/** Budget of the decoded facts on one blob, percent-encoded (Azure allows 8 KiB in all). */
export const FACTS_BUDGET_BYTES = 3 * 1024;
/** Pastell's internal file names: `<id_d>.yml_<field>_<n>`. */
const PASTELL_INTERNAL_NAME = /\.yml_([A-Za-z0-9_]+?)_(\d+)$/;

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

/** The item-key part of an envelope: the hash of its metadata file, else of its listing. */
export async function metadataHashOf(reader: EnvelopeReader, spec: EnvelopeSpec): Promise<string> {
  const files = await envelopeFiles(reader, spec.endMarker);
  const meta = findMetadataFile(files, spec.metadataStem);
  if (!meta) return `l${listingHash(files)}`;
  const { bytes } = await readMetadata(reader, meta, spec.name);
  return sha256Hex(bytes.toString('latin1')).slice(0, 16);
}

/**
 * Reads an envelope: its metadata, its type, what the type's decoder finds, and the
 * documents to stage, in a stable order with stable names: the envelope's files (sorted),
 * then the documents extracted from them (PES PJ), then `<envelope>.index.json`.
 */
export async function readEnvelope(reader: EnvelopeReader, spec: EnvelopeSpec): Promise<EnvelopeContent> {
  const files = await envelopeFiles(reader, spec.endMarker);
  if (files.length === 0) throw new EnvelopeFormatError('ENVELOPE_EMPTY', `${spec.name}: the envelope holds no file`);
  const metaFile = findMetadataFile(files, spec.metadataStem);
  let metadata: EnvelopeMetadata | undefined;
  let metadataHash = `l${listingHash(files)}`;
  if (metaFile) {
    const read = await readMetadata(reader, metaFile, spec.name);
    metadata = read.metadata;
    metadataHash = sha256Hex(read.bytes.toString('latin1')).slice(0, 16);
  }
  const entries = files.map((f) => toEntry(f, metadata));
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

/** The metadata field of a file, and the name it is delivered under (its original name). */
function toEntry(file: EnvelopeFile, metadata: EnvelopeMetadata | undefined): EnvelopeEntry {
  const base = file.path.split('/').join('_');
  if (!metadata) return { ...file, name: base };
  if (file.path === metadata.file) return { ...file, name: base };
  const leaf = file.path.split('/').pop()!;
  const ref: FileRef | undefined = metadata.files.find((f) => f.name === file.path) ?? metadata.files.find((f) => f.name === leaf);
  if (ref) return { ...file, field: ref.field, name: ref.original ?? base };
  const internal = PASTELL_INTERNAL_NAME.exec(leaf);
  if (internal) {
    const [, fieldName, n] = internal;
    const original = metadata.files.filter((f) => f.field === fieldName)[Number(n)];
    // without its original name, `<id>.yml_<field>_<n>` would read as an extension
    return { ...file, field: fieldName, name: original?.original ?? original?.name ?? base.replace(/\.yml_/, '_') };
  }
  return { ...file, name: base };
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

import type { Readable } from 'node:stream';
import type { EnvelopeFile, EnvelopeReader } from './envelopeReader';
import type { EnvelopeMetadata } from './metadata';

/** Longest value of a decoded fact kept as blob metadata (the index keeps them whole). */
export const MAX_FACT_LENGTH = 160;

/** A file of the envelope, with the metadata field it fills when the metadata says so. */
export interface EnvelopeEntry extends EnvelopeFile {
  /** Metadata file field (`arrete`, `fichier_pes`...), if any. */
  field?: string;
  /** The name the document is delivered under (original name when known), before prefixing. */
  name: string;
}

/** What a type decoder gets: the envelope's files and metadata, and a way to read them. */
export interface DecodeContext {
  /** Envelope name as seen in the source (for messages). */
  label: string;
  reader: EnvelopeReader;
  entries: EnvelopeEntry[];
  metadata: EnvelopeMetadata | undefined;
}

/** A document the decoder found inside a file (a PES pièce justificative). */
export interface ExtraDocument {
  name: string;
  contentType?: string;
  facts: Record<string, string>;
  open(): Promise<Readable>;
}

/** What a decoder found. */
export interface Decoded {
  /** Short facts put on every staged document of the envelope (blob metadata `doc_*`). */
  facts: Record<string, string>;
  /** Everything decoded, written whole into the envelope's JSON index. */
  details: Record<string, unknown>;
  extra: ExtraDocument[];
  /** What could not be decoded but did not make the envelope unusable. */
  warnings: string[];
}

export type Decoder = (ctx: DecodeContext) => Promise<Decoded>;

export const emptyDecoded = (): Decoded => ({ facts: {}, details: {}, extra: [], warnings: [] });

/** The entries filling a metadata field, in envelope order. */
export function entriesOf(ctx: DecodeContext, field: string): EnvelopeEntry[] {
  return ctx.entries.filter((e) => e.field === field);
}

/** The first non-empty value among metadata fields. */
export function field(ctx: DecodeContext, ...names: string[]): string | undefined {
  for (const n of names) {
    const value = ctx.metadata?.data[n]?.trim();
    if (value) return value;
  }
  return undefined;
}

/** Facts with empty values dropped and long values cut, ready for blob metadata. */
export function compactFacts(facts: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(facts)) {
    if (value === undefined || value === '') continue;
    out[k] = value.length > MAX_FACT_LENGTH ? value.slice(0, MAX_FACT_LENGTH - 1) + '…' : value;
  }
  return out;
}

/** Drops undefined members so the JSON index stays readable. */
export function defined<T extends Record<string, unknown>>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, value]) => value !== undefined && !(Array.isArray(value) && value.length === 0))) as Partial<T>;
}

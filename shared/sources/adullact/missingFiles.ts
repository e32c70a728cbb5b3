import type { EnvelopeFile } from './envelopeReader';
import type { EnvelopeMetadata, FileRef } from './metadata';

/** Pastell's internal file names: `<id_d>.yml_<field>_<n>`. */
export const PASTELL_INTERNAL_NAME = /\.yml_([A-Za-z0-9_]+?)_(\d+)$/;

/**
 * The files the metadata names that the envelope does not hold. Pastell writes every
 * file, then the metadata, then the end marker: a named file that is absent means the
 * envelope is still being written (or copied in another order), or was damaged.
 *
 * Lenient on purpose (a false "missing" would put a good envelope aside): a file counts
 * as present under its name or its original name, by full path or by leaf name, ignoring
 * case, with `/` or `\` written as `-` or `_` as Pastell does in file names, or as the
 * internal name `<id>.yml_<field>_<n>` of the n-th file of its field.
 */
export function missingFiles(files: readonly EnvelopeFile[], metadata: EnvelopeMetadata): FileRef[] {
  const present = new Set<string>();
  const internal = new Set<string>();
  for (const f of files) {
    const leaf = f.path.split('/').pop()!;
    present.add(f.path.toLowerCase());
    present.add(leaf.toLowerCase());
    const m = PASTELL_INTERNAL_NAME.exec(leaf);
    if (m) internal.add(`${m[1]}\u0000${Number(m[2])}`);
  }
  const found = (name: string | undefined) => !!name && spellings(name).some((s) => present.has(s.toLowerCase()));
  const rank = new Map<string, number>();
  return metadata.files.filter((ref) => {
    const n = rank.get(ref.field) ?? 0;
    rank.set(ref.field, n + 1);
    // `<id>.yml_<field>_<n>` is the n-th file of its field, whatever name the metadata gives
    return ref.name.trim() !== '' && !found(ref.name) && !found(ref.original) && !internal.has(`${ref.field}\u0000${n}`);
  });
}

/** `acte.pdf (arrete), annexe.pdf (autre_document_attache)`. */
export function describeMissing(refs: readonly FileRef[]): string {
  return refs.map((r) => `${r.name} (${r.field})`).join(', ');
}

function spellings(name: string): string[] {
  return [name, name.replace(/\\/g, '/'), name.replace(/[\\/]/g, '-'), name.replace(/[\\/]/g, '_')];
}

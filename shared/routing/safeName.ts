import { sha256Hex } from '../util/hash';

/** Longest stem kept from an original file name, so paths stay well under OS limits. */
export const MAX_STEM_LENGTH = 120;
const UNSAFE_CHARS = /[\u0000-\u001f\u007f<>:"/\\|?*]/g;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)$/i;

/** Why a waitdir or name is unsafe to join into an EzGED server path, or undefined. */
export function unsafeSegmentReason(segment: string): string | undefined {
  if (segment === '') return 'is empty';
  if (/[/\\]/.test(segment)) return 'contains a path separator';
  if (segment.includes('..')) return 'contains ".."';
  if (/[\u0000-\u001f\u007f]/.test(segment)) return 'contains control characters';
  if (/^[A-Za-z]:/.test(segment)) return 'starts with a drive letter';
  return undefined;
}

/** Splits `name.ext` into stem and extension (without the dot, as written). */
export function splitExtension(name: string): { stem: string; ext: string } {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return { stem: name, ext: '' };
  return { stem: name.slice(0, dot), ext: name.slice(dot + 1) };
}

/** The extension EzGED groups scenarios by: lower case, no dot. */
export function extensionOf(name: string): string {
  return splitExtension(name).ext.toLowerCase();
}

/**
 * A file name safe for any file system and for EzGED: no separators, no `..`, no control
 * characters, no reserved device names, the original still recognisable.
 */
export function safeFileName(original: string): string {
  const base = original.split(/[/\\]/).pop() ?? '';
  let { stem, ext } = splitExtension(base.normalize('NFC'));
  stem = stem.replace(UNSAFE_CHARS, '_').replace(/\.{2,}/g, '.').replace(/^[.\s]+|[.\s]+$/g, '');
  ext = ext.replace(UNSAFE_CHARS, '_').replace(/\./g, '_').slice(0, 16);
  if (stem === '' || WINDOWS_RESERVED.test(stem)) stem = `document${stem ? '_' + stem : ''}`;
  stem = stem.slice(0, MAX_STEM_LENGTH);
  return ext ? `${stem}.${ext}` : stem;
}

/**
 * The name a document is delivered under: its safe original name plus a short tag
 * derived from its staged identity. Two different documents called `facture.pdf` get
 * different names; the same document always gets the same one, so a repeated delivery
 * into a wait folder replaces rather than duplicates.
 */
export function deliveredName(originalName: string, identity: string): string {
  const { stem, ext } = splitExtension(safeFileName(originalName));
  const tag = sha256Hex(identity).slice(0, 8);
  return ext ? `${stem}_${tag}.${ext}` : `${stem}_${tag}`;
}

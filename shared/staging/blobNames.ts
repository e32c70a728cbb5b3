import { sha256Hex } from '../util/hash';
import { safeFileName } from '../routing/safeName';

/** Hex digits of the item hash kept in names: 96 bits, collisions are not a concern. */
const ITEM_HASH_LENGTH = 24;

/** A launcher id as one safe blob-name segment. */
export function launcherSegment(launcherId: string): string {
  return encodeURIComponent(launcherId).replace(/[!'()*~.]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** The stable short identity of a source item (its key hashed). */
export function itemHash(launcherId: string, itemKey: string): string {
  return sha256Hex(`${launcherId}\n${itemKey}`).slice(0, ITEM_HASH_LENGTH);
}

/**
 * The blob name of a document: deterministic from the launcher, the source identity and
 * the document's place in the item, so a re-run after a crash finds what it staged.
 */
export function documentBlobName(launcherId: string, itemKey: string, index: number, originalName: string): string {
  return `${launcherSegment(launcherId)}/${itemHash(launcherId, itemKey)}/${String(index).padStart(3, '0')}-${safeFileName(originalName)}`;
}

export function launcherStateBlobName(launcherId: string): string {
  return `launchers/${launcherSegment(launcherId)}.json`;
}

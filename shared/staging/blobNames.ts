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
 * The blob names of an item's documents: deterministic from the launcher, the source
 * identity and each document's name (not its position: a file added to an envelope
 * between two runs must not shift the others). Names that are the same once made safe
 * get `~2`, `~3`... in order.
 */
export function documentBlobNames(launcherId: string, itemKey: string, originalNames: readonly string[]): string[] {
  const prefix = `${launcherSegment(launcherId)}/${itemHash(launcherId, itemKey)}/`;
  const seen = new Map<string, number>();
  return originalNames.map((original) => {
    const safe = safeFileName(original);
    const key = safe.toLowerCase();
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return prefix + (n === 1 ? safe : `~${n}-${safe}`);
  });
}

export function launcherStateBlobName(launcherId: string): string {
  return `launchers/${launcherSegment(launcherId)}.json`;
}

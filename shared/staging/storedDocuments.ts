import { itemHash, launcherSegment } from './blobNames';
import type { BlobStore } from './blobStore';
import { decodeMetadata } from './metadata';

/** Where a document written by an earlier run is now. */
const DOCUMENT_CONTAINERS = ['staging', 'archive', 'failed'] as const;

export interface StoredDocument {
  /** The document's name in the mail (the staged blob's `fileName`). */
  name: string;
  container: (typeof DOCUMENT_CONTAINERS)[number];
}

/**
 * The documents of an item that earlier runs already wrote (in staging, delivered, or dead
 * letters), found by the blob-name prefix of the item (see documentBlobNames), without
 * reading the item. Asked before an item is put aside (runLauncher; the mail sources before
 * they give up on a mail that failed run after run, see shared/mail/failedRuns.ts): with
 * some of its documents written, putting it aside would give EzGED part of the item, and
 * taking it back later would write them again under a forgotten in-flight record.
 */
export async function storedDocuments(store: BlobStore, launcherId: string, itemKey: string): Promise<StoredDocument[]> {
  const prefix = `${launcherSegment(launcherId)}/${itemHash(launcherId, itemKey)}/`;
  const found: StoredDocument[] = [];
  for (const container of DOCUMENT_CONTAINERS) {
    for await (const blob of store.list(container, prefix, { metadata: true })) {
      found.push({ name: decodeMetadata(blob.metadata).fileName, container });
    }
  }
  return found;
}

const WHERE: Readonly<Record<StoredDocument['container'], string>> = { staging: 'staging', archive: 'delivered', failed: 'dead letter' };

/** `"a.pdf" (staging), "b.pdf" (delivered)`. */
export function describeStored(docs: readonly StoredDocument[]): string {
  return docs.map((d) => `"${d.name}" (${WHERE[d.container]})`).join(', ');
}

import type { BlobStore } from './blobStore';
import { manifestBlobName } from './blobNames';

/** What an item was split into, recorded before its documents are staged. */
export interface ItemManifest {
  version: 1;
  launcherId: string;
  key: string;
  label: string;
  createdAt: string;
  documents: { blob: string; name: string; waitdir: string; job?: string }[];
}

/**
 * The ledger: one manifest per source item, written with If-None-Match before any of its
 * documents is staged. A manifest that already exists means "this item was started
 * before": its documents are then looked for before anything is written again.
 */
export class Ledger {
  constructor(private readonly store: BlobStore) {}

  /** Records the manifest unless one exists; returns the one that is in force. */
  async begin(manifest: ItemManifest): Promise<{ manifest: ItemManifest; existed: boolean }> {
    const name = manifestBlobName(manifest.launcherId, manifest.key);
    if (await this.store.writeJson('state', name, manifest, { ifAbsent: true })) return { manifest, existed: false };
    const existing = await this.store.readJson<ItemManifest>('state', name);
    // Deleted between the two calls (retention): start again.
    if (!existing) return this.begin(manifest);
    return { manifest: existing.value, existed: true };
  }

  async get(launcherId: string, key: string): Promise<ItemManifest | undefined> {
    return (await this.store.readJson<ItemManifest>('state', manifestBlobName(launcherId, key)))?.value;
  }
}

/** The containers of the product, one role each. */
export const CONTAINERS = {
  /** Documents waiting for delivery; the blob trigger fires on this one. */
  staging: 'staging',
  /** Delivered documents, with the EzGED answer in their metadata (lifecycle: retention). */
  archive: 'archive',
  /** Dead letters: documents that could not be delivered, with the reason. */
  failed: 'failed',
  /** Item manifests (the ledger) and per-launcher state. */
  state: 'state',
  /** Launcher definitions (`launchers.json`) in Azure. */
  config: 'config',
} as const;

export type ContainerRole = keyof typeof CONTAINERS;

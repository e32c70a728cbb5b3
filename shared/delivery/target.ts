import type { Readable } from 'node:stream';

/** One document to deliver into a COLD's wait folder. */
export interface Delivery {
  /** Safe, unique file name (see routing/safeName.deliveredName). */
  name: string;
  waitdir: string;
  body: Readable;
  size: number;
  /** SHA-256 recorded at staging; a target that can check it does. */
  sha256: string;
}

/** Where documents end up: EzGED's pupload API, or the wait folders themselves. */
export interface DeliveryTarget {
  /** A short description for logs and `check` (no secrets, no query strings). */
  readonly description: string;
  /** Delivers one document; throws DeliveryError (transient or not). Returns where it went. */
  deliver(doc: Delivery): Promise<{ location: string }>;
  /** Checks the target is reachable and usable (for `cold-launcher check`). */
  probe(waitdirs: string[]): Promise<void>;
  close(): Promise<void>;
}

import type { Readable } from 'node:stream';
import type { LauncherDefinition } from '../config/schema';
import type { Settings } from '../config/settings';
import type { BlobStore } from '../staging/blobStore';
import type { Logger } from '../util/log';

/** One thing taken from a source: a file, a mail, an envelope. */
export interface SourceItem {
  /** Stable identity, the root of every idempotency check (see each source). */
  key: string;
  /** What a person recognises: relative path, subject... */
  label: string;
}

/** One document of an item, opened only when it is staged. */
export interface SourceDocument {
  name: string;
  /** Envelope type for Adullact; by default the extension of `name` is the group. */
  group?: string;
  contentType?: string;
  /**
   * Facts the source decoded (envelope type, invoice number...), kept as blob metadata
   * of the staged document (prefixed `doc_`, percent-encoded; keep it well under 4 KiB).
   */
  metadata?: Record<string, string>;
  /** Opens the content; called once per staging attempt, streamed, never buffered whole. */
  open(): Promise<Readable>;
}

/** What a scan saw: an item ready to take, or why something is not taken now. */
export type Candidate<I extends SourceItem = SourceItem> =
  | { verdict: 'ready'; label: string; item: I }
  | { verdict: 'filtered' | 'waiting' | 'skipped'; label: string; reason: string };

/**
 * Every protocol sits behind this interface; the pipeline in `shared/launch/` does the
 * rest (routing, staging, acknowledging) once for all of them.
 */
export interface Source<I extends SourceItem = SourceItem> {
  /** Items ready now (stable, filtered), oldest first, at most `limit` ready ones. */
  scan(limit: number): AsyncIterable<Candidate<I>>;
  /** The documents of one item, in a stable order (same names, same order every time). */
  documents(item: I): Promise<SourceDocument[]>;
  /** Called only after every document of the item is durably staged (or delivered). */
  acknowledge(item: I): Promise<void>;
  /** The item can never be taken as it is: move it aside with the reason. */
  putAside(item: I, reason: string): Promise<void>;
  close(): Promise<void>;
  /** Items this source can work on at once (1 for a single mail connection). */
  readonly concurrency: number;
}

export interface SourceContext<L extends LauncherDefinition = LauncherDefinition> {
  launcher: L;
  /** The source's own memory between runs (persisted by the pipeline). */
  state: Record<string, unknown>;
  logger: Logger;
  now(): Date;
  /** The app's storage (for sources that keep more than `state`, e.g. O365 token caches). */
  store?: BlobStore;
  /** App settings / environment, for sources that read settings of their own. */
  settings?: Settings;
  /** Opened only to look (`cold-launcher preview`): the source changes nothing at the source (no delete, move, flag, folder creation). */
  readOnly?: boolean;
}

export type SourceFactory<L extends LauncherDefinition = LauncherDefinition> = (ctx: SourceContext<L>) => Promise<Source>;

import type { Readable } from 'node:stream';

/** The decoded content of one part of a mail (or the raw mail itself), kept until disposed. */
export interface StoredPart {
  readonly size: number;
  /**
   * A new stream over the whole content; fails once the store is disposed. `chunkSize`:
   * bytes per read when the content is on disk (a default suited to staging otherwise).
   */
  open(chunkSize?: number): Readable;
  /** Up to `max` bytes from the start. */
  head(max: number): Promise<Buffer>;
}

/**
 * Where the parts of one mail are kept while it is staged, chosen by the caller: temp files
 * (`MailWorkspace`, memory does not grow with the size of the mail) or memory
 * (`MemoryPartStore`, for mails known to be small). The parser is the same for both.
 */
export interface PartStore {
  /** Keeps a content as it streams in; resolves once all of it is kept. */
  keep(content: Readable): Promise<StoredPart>;
  /** Keeps a text (a mail body) as UTF-8; `suffix` names its kind (`html`, `txt`). */
  keepText(text: string, suffix: string): Promise<StoredPart>;
  /** Frees every part; the parts cannot be opened afterwards. */
  dispose(): Promise<void>;
}

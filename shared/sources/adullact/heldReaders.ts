import type { Readable } from 'node:stream';
import type { SourceDocument } from '../types';
import type { EnvelopeReader } from './envelopeReader';

interface Held {
  reader: EnvelopeReader;
  /** Streams of the envelope's documents open now. */
  open: number;
  /** Its last document was opened: every one before it is staged (stageItem goes in order). */
  lastOpened: boolean;
  /** Last time it was given out, or one of its streams opened or closed. */
  usedAt: number;
}

/**
 * The readers of the envelopes whose documents were given out, kept until they are done
 * with (a zip reader keeps its large entries in temp files): released
 * - once the envelope's last document (its JSON index, staged last) has been opened and
 *   no stream of it is open any more: everything is staged;
 * - when the envelope is acknowledged or put aside, or its reading failed;
 * - beyond `keep` envelopes, the one idle longest (nothing open): an envelope left
 *   unrouted, failed half-way or already partly staged gives no other sign;
 * - all of them when the source is closed.
 * A reader released too early still works (a zip is inflated again): only slower.
 */
export class HeldReaders {
  private readonly held = new Map<string, Held>();
  private tick = 0;

  constructor(private readonly keep: number) {}

  /**
   * Holds the reader of `key` (releasing an older one of the same key), then trims. The
   * envelope counts as in use (never trimmed) until `follow` gives its documents out: its
   * reading (zip check, PJ check) is the long part.
   */
  async hold(key: string, reader: EnvelopeReader): Promise<void> {
    await this.release(key);
    this.held.set(key, { reader, open: 1, lastOpened: false, usedAt: ++this.tick });
    await this.trim(key);
  }

  /** The documents, whose streams are followed to know when the reader is done with. */
  follow(key: string, docs: SourceDocument[]): SourceDocument[] {
    const reading = this.held.get(key);
    if (reading) {
      reading.open--; // the reading that hold() counted is over
      reading.usedAt = ++this.tick;
    }
    return docs.map((doc, i) => ({
      ...doc,
      open: async () => {
        const h = this.held.get(key);
        if (h) {
          h.usedAt = ++this.tick;
          if (i === docs.length - 1) h.lastOpened = true;
        }
        let stream: Readable;
        try {
          stream = await doc.open();
        } catch (err) {
          if (h) await this.releaseIfDone(key, h);
          throw err;
        }
        if (h && this.held.get(key) === h) {
          h.open++;
          stream.once('close', () => {
            h.open--;
            h.usedAt = ++this.tick;
            void this.releaseIfDone(key, h);
          });
        }
        return stream;
      },
    }));
  }

  async release(key: string): Promise<void> {
    const h = this.held.get(key);
    if (!h) return;
    this.held.delete(key);
    await h.reader.close?.().catch(() => undefined);
  }

  async releaseAll(): Promise<void> {
    for (const key of [...this.held.keys()]) await this.release(key);
  }

  /** Keys held now (tests). */
  keys(): string[] {
    return [...this.held.keys()];
  }

  private async releaseIfDone(key: string, h: Held): Promise<void> {
    if (h.lastOpened && h.open === 0 && this.held.get(key) === h) await this.release(key);
  }

  private async trim(newest: string): Promise<void> {
    while (this.held.size > this.keep) {
      let idlest: [string, Held] | undefined;
      for (const entry of this.held) {
        if (entry[0] === newest || entry[1].open > 0) continue;
        if (!idlest || entry[1].usedAt < idlest[1].usedAt) idlest = entry;
      }
      if (!idlest) return;
      await this.release(idlest[0]);
    }
  }
}

import type { ImapFlow } from 'imapflow';

/**
 * Messages announced (RFC822.SIZE) at most this size are fetched whole with BODY.PEEK[],
 * several in one FETCH, and read in memory; larger ones are downloaded in chunks through a
 * temp file (see streamedDownload.ts), so memory never grows with the size of a mail.
 */
export const WHOLE_FETCH_MAX_BYTES = 2 * 1024 * 1024;
/** Announced bytes of the messages fetched ahead and not taken yet, at most. */
export const PREFETCH_WINDOW_BYTES = 8 * 1024 * 1024;
/** Another FETCH is sent once what is held ahead falls to this, so that FETCHes stay large. */
export const PREFETCH_REFILL_BYTES = PREFETCH_WINDOW_BYTES / 2;
/** Messages asked in one FETCH command at most. */
export const PREFETCH_MAX_MESSAGES = 64;

export interface WholeFetchItem {
  uid: number;
  /** Size the server announced. */
  size: number;
}

interface Slot {
  item: WholeFetchItem;
  promise: Promise<Buffer | undefined>;
  resolve(raw: Buffer | undefined): void;
  reject(err: unknown): void;
}

/**
 * Fetches the small messages of a run ahead of their turn: the messages the run will take
 * are offered in the order they will be taken, and each `take()` also asks the next ones,
 * several per `UID FETCH ... BODY.PEEK[]`, up to PREFETCH_WINDOW_BYTES held ahead. A
 * message comes whole or not at all (an IMAP literal has its length): a message expunged
 * meanwhile is simply not in the answer, never taken for a shorter mail. A FETCH that fails
 * on a live connection is asked again message by message, so that one bad message does not
 * fail its neighbours.
 */
export class WholeMessageFetcher {
  private readonly order: WholeFetchItem[] = [];
  private readonly position = new Map<number, number>();
  /** Index in `order` of the first message not asked yet. */
  private next = 0;
  /** Asked and not taken yet, by UID. */
  private readonly slots = new Map<number, Slot>();
  private heldBytes = 0;
  /** Dropped before they were asked: never asked ahead. */
  private readonly dropped = new Set<number>();

  constructor(private readonly client: ImapFlow) {}

  /** A size the server did not announce (0) counts as large: it is streamed. */
  static fits(item: WholeFetchItem): boolean {
    return item.size > 0 && item.size <= WHOLE_FETCH_MAX_BYTES;
  }

  /** A message the run is going to take, in the order it will take them. */
  offer(item: WholeFetchItem): void {
    if (!WholeMessageFetcher.fits(item) || this.position.has(item.uid)) return;
    this.position.set(item.uid, this.order.length);
    this.order.push(item);
  }

  /** The raw message; undefined when the server no longer has it. */
  async take(item: WholeFetchItem): Promise<Buffer | undefined> {
    this.dropped.delete(item.uid);
    if (!this.slots.has(item.uid)) {
      const at = this.position.get(item.uid);
      if (at !== undefined && at >= this.next) {
        this.next = at;
        this.fill(true);
      } else {
        this.ask([item]);
      }
    }
    const slot = this.slots.get(item.uid)!;
    try {
      return await slot.promise;
    } finally {
      this.drop(item);
      this.fill(false);
    }
  }

  /**
   * Forgets a message that will not be taken: its memory is released if it was asked
   * ahead, and it is not asked at all if it was not yet.
   */
  drop(item: WholeFetchItem): void {
    const slot = this.slots.get(item.uid);
    if (!slot) {
      this.dropped.add(item.uid);
      return;
    }
    this.slots.delete(item.uid);
    this.heldBytes -= slot.item.size;
  }

  /** Forgets everything asked ahead (end of the run). */
  clear(): void {
    this.slots.clear();
    this.heldBytes = 0;
    this.next = this.order.length;
  }

  /** Asks the next messages in order while the window allows; `force`: at least one. */
  private fill(force: boolean): void {
    if (!force && this.heldBytes > PREFETCH_REFILL_BYTES) return;
    const batch: WholeFetchItem[] = [];
    let bytes = this.heldBytes;
    while (this.next < this.order.length && batch.length < PREFETCH_MAX_MESSAGES) {
      const item = this.order[this.next]!;
      if (!this.slots.has(item.uid) && !this.dropped.has(item.uid)) {
        if (!(force && batch.length === 0) && bytes + item.size > PREFETCH_WINDOW_BYTES) break;
        batch.push(item);
        bytes += item.size;
      }
      this.next++;
    }
    if (batch.length > 0) this.ask(batch);
  }

  private ask(batch: WholeFetchItem[]): void {
    const slots = batch.map((item) => this.open(item));
    void this.fetch(slots, batch.length > 1);
  }

  private open(item: WholeFetchItem): Slot {
    let resolve!: Slot['resolve'];
    let reject!: Slot['reject'];
    const promise = new Promise<Buffer | undefined>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined); // a message asked ahead may never be taken
    const slot: Slot = { item, promise, resolve, reject };
    this.slots.set(item.uid, slot);
    this.heldBytes += item.size;
    return slot;
  }

  private async fetch(slots: Slot[], oneByOneOnError: boolean): Promise<void> {
    const waiting = new Map(slots.map((s) => [s.item.uid, s]));
    try {
      const range = slots.map((s) => s.item.uid).join(',');
      for await (const m of this.client.fetch(range, { uid: true, source: true }, { uid: true })) {
        const slot = waiting.get(m.uid);
        if (!slot || !m.source?.length) continue;
        waiting.delete(m.uid);
        slot.resolve(m.source);
      }
      for (const slot of waiting.values()) slot.resolve(undefined);
    } catch (err) {
      if (oneByOneOnError && this.client.usable) {
        for (const slot of waiting.values()) void this.fetch([slot], false);
        return;
      }
      for (const slot of waiting.values()) slot.reject(err);
    }
  }
}

/**
 * The "changed" read lock (Apache Camel's term): a file is taken only once a look has
 * seen the same size and modification time for `delaySeconds`. A file seen for the
 * first time is taken at once only when its status-change time (ctime, which every
 * write updates and no copy tool can set back) is also older than `delaySeconds`;
 * otherwise the first look only records it: a copy that preserves modification times
 * would be taken half-written if the modification time alone were trusted. So with a
 * daily schedule a file that has been quiet for long is not kept waiting a day more.
 */
export interface Observation {
  /** `size:mtimeMs` when first seen in this state. */
  signature: string;
  /** ISO time of the first look that saw this signature. */
  since: string;
}

export type Observations = Record<string, Observation>;

export type StabilityVerdict = { stable: true } | { stable: false; reason: string };

export class StabilityTracker {
  private readonly next: Observations = {};

  constructor(
    private readonly previous: Observations,
    private readonly delaySeconds: number,
    private readonly now: Date,
  ) {}

  check(path: string, size: number, mtimeMs: number, ctimeMs?: number): StabilityVerdict {
    if (this.delaySeconds === 0) return { stable: true };
    const signature = `${size}:${mtimeMs}`;
    const seen = this.previous[path];
    if (seen?.signature !== signature && ctimeMs !== undefined && (this.now.getTime() - Math.max(mtimeMs, ctimeMs)) / 1000 >= this.delaySeconds) {
      return { stable: true };
    }
    const since = seen?.signature === signature ? seen.since : this.now.toISOString();
    const unchangedFor = (this.now.getTime() - Date.parse(since)) / 1000;
    if (unchangedFor >= this.delaySeconds) return { stable: true };
    this.next[path] = { signature, since };
    const reason = seen?.signature === signature
      ? `unchanged for ${Math.floor(unchangedFor)} s of ${this.delaySeconds} s`
      : seen ? 'changed since the last look' : `first seen now, taken once unchanged for ${this.delaySeconds} s`;
    return { stable: false, reason };
  }

  /** Keeps watching a stable file that was not taken in this run (batch limit). */
  keep(path: string): void {
    const seen = this.previous[path];
    if (seen) this.next[path] = seen;
  }

  /** What to remember: only files still waiting; taken or vanished files are forgotten. */
  result(): Observations {
    return this.next;
  }
}

/**
 * The "changed" read lock (Apache Camel's term): a file is taken only once a look has
 * seen the same size and modification time for `delaySeconds`. The first look at a file
 * only records it, whatever its times say: a copy that preserves modification times
 * would otherwise be taken half-written, and a file server's times are not this host's
 * clock (skew; SMB shows a write time only once the writer closes the file). The
 * pipeline looks again `delaySeconds` later even when the schedule is not due
 * (runLauncher's follow-up), so a sparse schedule does not keep a file waiting a period.
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

  check(path: string, size: number, mtimeMs: number): StabilityVerdict {
    if (this.delaySeconds === 0) return { stable: true };
    const signature = `${size}:${mtimeMs}`;
    const seen = this.previous[path];
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

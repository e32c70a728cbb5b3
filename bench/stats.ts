/** Small statistics for the benchmark: medians and side-by-side ratios. */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export interface Pair {
  baselineMs: number[];
  oursMs: number[];
}

/**
 * Runs baseline and ours alternately `rounds` times (after one warm-up each), so that a
 * noisy neighbour slows both alike, and returns every timing.
 */
export async function sideBySide(rounds: number, prepare: () => Promise<void>, baseline: () => Promise<void>, ours: () => Promise<void>): Promise<Pair> {
  const pair: Pair = { baselineMs: [], oursMs: [] };
  for (let i = 0; i <= rounds; i++) {
    const order: ['baseline' | 'ours', () => Promise<void>][] = i % 2 ? [['ours', ours], ['baseline', baseline]] : [['baseline', baseline], ['ours', ours]];
    for (const [name, fn] of order) {
      await prepare();
      const ms = await timed(fn);
      if (i > 0) (name === 'baseline' ? pair.baselineMs : pair.oursMs).push(ms);
    }
  }
  return pair;
}

export function ratio(p: Pair): number {
  return median(p.oursMs) / median(p.baselineMs);
}

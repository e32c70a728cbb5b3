/** Peak growth of this process's memory while some work ran, in MB. */
export interface MemoryPeak<T> {
  value: T;
  /** Resident set size. */
  rssMb: number;
  /** V8 heap plus ArrayBuffers (the Buffers that stream through). */
  heapAndBuffersMb: number;
}

const MB = 1024 * 1024;

/**
 * Runs `work` while sampling memory every `everyMs` (and once at its end), after a
 * collection when the process exposes `gc`; returns the work's result and the peak growth
 * over what the process used before it started.
 */
export async function withMemoryPeak<T>(work: () => Promise<T>, everyMs = 10): Promise<MemoryPeak<T>> {
  (globalThis as { gc?: () => void }).gc?.();
  const base = process.memoryUsage();
  let rss = base.rss;
  let heapAndBuffers = base.heapUsed + base.arrayBuffers;
  const sample = () => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heapAndBuffers = Math.max(heapAndBuffers, m.heapUsed + m.arrayBuffers);
  };
  const sampler = setInterval(sample, everyMs);
  let value: T;
  try {
    value = await work();
  } finally {
    clearInterval(sampler);
  }
  sample();
  return { value, rssMb: (rss - base.rss) / MB, heapAndBuffersMb: (heapAndBuffers - base.heapUsed - base.arrayBuffers) / MB };
}

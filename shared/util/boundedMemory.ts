/**
 * Pruning of what a source remembers between runs: a record whose entries each carry an
 * ISO time (`atOf`), forgotten once too old and bounded in number, so the state stays small.
 */

/** Deletes the entries whose time is before `oldestMs` (or is not a date at all). */
export function forgetOlderThan<V>(record: Record<string, V>, atOf: (v: V) => string, oldestMs: number): void {
  for (const [k, v] of Object.entries(record)) if (!(Date.parse(atOf(v)) >= oldestMs)) delete record[k];
}

/** Keeps the `max` entries with the latest times (ISO times compared as text), deletes the others. */
export function keepNewest<V>(record: Record<string, V>, atOf: (v: V) => string, max: number): void {
  const entries = Object.entries(record);
  if (entries.length <= max) return;
  entries.sort((a, b) => atOf(a[1]).localeCompare(atOf(b[1])));
  for (const [k] of entries.slice(0, entries.length - max)) delete record[k];
}

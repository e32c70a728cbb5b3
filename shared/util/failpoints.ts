/**
 * Failpoints for crash tests: `COLD_FAILPOINTS=after-stage` makes the process kill itself
 * (SIGKILL, no clean-up, like a power cut) the first time it reaches that point;
 * `after-stage:3` the third time. Unset (always, in production), this is one Set lookup.
 */
export type FailpointName = 'after-inflight' | 'after-stage' | 'before-acknowledge' | 'after-deliver' | 'before-archive' | 'after-archive-copy';

const armed = new Map<string, number>();
for (const spec of (process.env.COLD_FAILPOINTS ?? '').split(',').filter(Boolean)) {
  const [name, nth] = spec.split(':');
  armed.set(name!, Number(nth ?? 1));
}

export function failpoint(name: FailpointName): void {
  const left = armed.get(name);
  if (left === undefined) return;
  if (left > 1) {
    armed.set(name, left - 1);
    return;
  }
  process.kill(process.pid, 'SIGKILL');
}

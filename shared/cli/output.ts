import type { DeliveryReport } from '../delivery/deliverAll';
import type { LaunchReport } from '../launch/report';
import type { LogSink } from '../util/log';

const COLORS = { debug: '\x1b[2m', info: '', warn: '\x1b[33m', error: '\x1b[31m' } as const;
const RESET = '\x1b[0m';

/** Human lines for a terminal: time, launcher, message; warnings and errors stand out. */
export function terminalSink(opts: { verbose: boolean; color: boolean; write?: (line: string) => void }): LogSink {
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  return (level, msg, fields) => {
    if (level === 'debug' && !opts.verbose) return;
    const time = new Date().toTimeString().slice(0, 8);
    const who = fields.launcherId !== undefined ? `[${String(fields.launcherId)}] ` : '';
    const tag = level === 'warn' ? 'WARN  ' : level === 'error' ? 'ERROR ' : '';
    const line = `${time} ${tag}${who}${msg}`;
    write(opts.color && COLORS[level] ? `${COLORS[level]}${line}${RESET}` : line);
  };
}

export interface RunTotals {
  found: number;
  staged: number;
  delivered: number;
  putAside: number;
  failed: number;
  waiting: number;
  filtered: number;
  skipped: number;
  unrouted: number;
  pending: number;
  launcherErrors: number;
}

export function emptyTotals(): RunTotals {
  return { found: 0, staged: 0, delivered: 0, putAside: 0, failed: 0, waiting: 0, filtered: 0, skipped: 0, unrouted: 0, pending: 0, launcherErrors: 0 };
}

export function addLaunch(t: RunTotals, r: LaunchReport): void {
  t.found += r.found;
  t.staged += r.staged;
  t.putAside += r.putAside;
  t.failed += r.failed;
  t.waiting += r.waiting;
  t.filtered += r.filtered;
  t.skipped += r.skipped;
  t.unrouted += r.unrouted;
  t.pending += r.pendingAcknowledgement;
  if (r.error) t.launcherErrors++;
}

export function addDelivery(t: RunTotals, d: DeliveryReport): void {
  t.delivered += d.delivered;
  t.failed += d.deadLettered + d.retry;
}

/** The closing line of a run. */
export function summaryLine(t: RunTotals): string {
  const main = `${t.found} found, ${t.staged} staged, ${t.delivered} delivered, ${t.putAside} put aside, ${t.failed} failed`;
  const extra = [
    t.waiting && `${t.waiting} waiting`,
    t.filtered && `${t.filtered} filtered out`,
    t.skipped && `${t.skipped} skipped`,
    t.unrouted && `${t.unrouted} without scenario`,
    t.launcherErrors && `${t.launcherErrors} launcher${t.launcherErrors > 1 ? 's' : ''} in error`,
  ].filter(Boolean);
  return `Summary: ${main}${extra.length ? ` (${extra.join(', ')})` : ''}`;
}

/** Exit status of `run --once`: 0 all went well, 1 something needs a person. */
export function exitCodeOf(t: RunTotals): number {
  return t.failed + t.putAside + t.unrouted + t.launcherErrors > 0 ? 1 : 0;
}

/** A plain text table (no secrets ever reach it: callers pass descriptions). */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

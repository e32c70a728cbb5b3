/**
 * What the IMAP source remembers between runs (in the launcher state, `ctx.state`), by
 * message identity (see identity.ts), never by UID:
 * - `handled`: messages acknowledged, so one that comes back unseen (flags lost when the
 *   mailbox was rebuilt, a person marking it unread) is not filed twice;
 * - `failures`: runs in a row a message failed, to move it to `failedFolder` in the end;
 * - `rejected`: messages that can never be taken, left in place when there is no
 *   `failedFolder`, so they are not downloaded again every run.
 * Entries not seen for MEMORY_DAYS are forgotten; `handled` keeps MAX_HANDLED at most.
 */
export const MEMORY_DAYS = 90;
export const MAX_HANDLED = 10_000;
const DAY_MS = 86_400_000;

export interface Failure {
  count: number;
  at: string;
  lastError?: string;
}

export interface Rejection {
  at: string;
  reason: string;
}

export interface ImapMemory {
  uidValidity?: string;
  handled: Record<string, string>;
  failures: Record<string, Failure>;
  rejected: Record<string, Rejection>;
}

/** The memory inside the source state, created and pruned in place. */
export function imapMemory(state: Record<string, unknown>, now: Date): ImapMemory {
  const m = state as Partial<ImapMemory>;
  m.handled ??= {};
  m.failures ??= {};
  m.rejected ??= {};
  const oldest = now.getTime() - MEMORY_DAYS * DAY_MS;
  const stale = (iso: string) => !(Date.parse(iso) >= oldest);
  for (const [k, at] of Object.entries(m.handled)) if (stale(at)) delete m.handled[k];
  for (const [k, f] of Object.entries(m.failures)) if (stale(f.at)) delete m.failures[k];
  for (const [k, r] of Object.entries(m.rejected)) if (stale(r.at)) delete m.rejected[k];
  const handled = Object.entries(m.handled);
  if (handled.length > MAX_HANDLED) {
    handled.sort((a, b) => a[1].localeCompare(b[1]));
    for (const [k] of handled.slice(0, handled.length - MAX_HANDLED)) delete m.handled[k];
  }
  return m as ImapMemory;
}

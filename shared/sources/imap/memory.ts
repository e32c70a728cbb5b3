import { forgetOlderThan, keepNewest } from '../../util/boundedMemory';

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
  forgetOlderThan(m.handled, (at) => at, oldest);
  forgetOlderThan(m.failures, (f) => f.at, oldest);
  forgetOlderThan(m.rejected, (r) => r.at, oldest);
  keepNewest(m.handled, (at) => at, MAX_HANDLED);
  return m as ImapMemory;
}

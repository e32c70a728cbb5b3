import { forgetOlderThan, keepNewest } from '../../util/boundedMemory';
import { sha256Hex } from '../../util/hash';
import type { Rejection } from '../imap/memory';

/**
 * What the O365 source remembers between runs besides its delta cursor (in the launcher
 * state, `ctx.state`), as the IMAP source does (see ../imap/memory.ts):
 * - `handled`: messages acknowledged (their documents are staged, and may be delivered
 *   and archived long since), so one that comes back into the folder is not filed twice:
 *   a full resynchronisation after HTTP 410, a person moving it out and back, or marking
 *   it unread again (afterSuccess "read");
 * - `rejected`: messages put aside and left in place (no `failedFolder`), so a full
 *   resynchronisation does not offer them again.
 * Keyed by a short hash of mailbox + immutable message id (ids are ~150 characters: the
 * state stays small). Entries not seen for O365_MEMORY_DAYS are forgotten; each record
 * keeps O365_MAX_REMEMBERED entries at most, the most recently seen.
 */
export const O365_MEMORY_DAYS = 90;
export const O365_MAX_REMEMBERED = 10_000;
/** Hex digits of the short key (80 bits). */
const MEMORY_KEY_LENGTH = 20;
/** Longest reason kept for a message put aside. */
const MAX_REASON_LENGTH = 300;
const DAY_MS = 86_400_000;

export interface O365Memory {
  /** Memory key → ISO time the message was acknowledged, or last seen again since. */
  handled: Record<string, string>;
  rejected: Record<string, Rejection>;
}

/** The key of a message in the memory. */
export function memoryKey(mailbox: string, messageId: string): string {
  return sha256Hex(`${mailbox}|${messageId}`).slice(0, MEMORY_KEY_LENGTH);
}

/** The memory inside the source state, created and pruned in place. */
export function o365Memory(state: Record<string, unknown>, now: Date): O365Memory {
  const m = state as Partial<O365Memory>;
  m.handled ??= {};
  m.rejected ??= {};
  const oldest = now.getTime() - O365_MEMORY_DAYS * DAY_MS;
  forgetOlderThan(m.handled, (at) => at, oldest);
  forgetOlderThan(m.rejected, (r) => r.at, oldest);
  keepNewest(m.handled, (at) => at, O365_MAX_REMEMBERED);
  keepNewest(m.rejected, (r) => r.at, O365_MAX_REMEMBERED);
  return m as O365Memory;
}

/** Records why a message left in place was put aside. */
export function rejection(reason: string, now: Date): Rejection {
  return { at: now.toISOString(), reason: reason.slice(0, MAX_REASON_LENGTH) };
}

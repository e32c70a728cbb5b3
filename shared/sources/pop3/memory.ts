import { describeError } from '../../errors';

/**
 * What the POP3 source remembers between runs (in the launcher state, `ctx.state`), by
 * UIDL. POP3 has no flags and no folders, so this memory is what keeps a message from
 * being filed twice:
 * - `filed`: messages whose documents are all durably staged. With `keep` they stay on
 *   the server and are skipped; with `delete` they are deleted, and an entry lives on
 *   only when the deletion was not committed (connection lost before QUIT): the next run
 *   then deletes the message without filing it again;
 * - `setAside`: messages that can never be taken (malformed...), left on the server;
 * - `failures`: runs in a row a message failed, to set it aside in the end.
 * Entries of messages no longer on the server are dropped after each listing, so the
 * memory follows the mailbox. It belongs to one account: another server or user starts
 * afresh (UIDLs are only unique per mailbox).
 */
export interface Pop3Memory {
  account: string;
  filed: Record<string, string>;
  setAside: Record<string, SetAside>;
  failures: Record<string, Failure>;
}

export interface SetAside {
  at: string;
  reason: string;
}

export interface Failure {
  count: number;
  at: string;
  lastError?: string;
}

/** Longest reason or error text kept per message. */
export const MAX_REASON_LENGTH = 300;

/** The memory inside the source state, created in place; reset (with `reset: true`) when the account changed. */
export function pop3Memory(state: Record<string, unknown>, account: string): { memory: Pop3Memory; reset: boolean } {
  const m = state as Partial<Pop3Memory>;
  const reset = m.account !== undefined && m.account !== account;
  if (reset || m.account === undefined) {
    m.account = account;
    m.filed = {};
    m.setAside = {};
    m.failures = {};
  }
  m.filed ??= {};
  m.setAside ??= {};
  m.failures ??= {};
  return { memory: m as Pop3Memory, reset };
}

/** Forgets the messages that are no longer on the server (after a full UIDL listing). */
export function forgetGone(memory: Pop3Memory, onServer: ReadonlySet<string>): void {
  for (const record of [memory.filed, memory.setAside, memory.failures] as Record<string, unknown>[]) {
    for (const uidl of Object.keys(record)) if (!onServer.has(uidl)) delete record[uidl];
  }
}

/** Counts one more failed run of a message (`count: false` only records the error). */
export function recordFailure(memory: Pop3Memory, uidl: string, now: Date, err?: unknown, count = true): Failure {
  const f = (memory.failures[uidl] ??= { count: 0, at: now.toISOString() });
  if (count) f.count++;
  f.at = now.toISOString();
  if (err !== undefined) f.lastError = describeError(err).slice(0, MAX_REASON_LENGTH);
  return f;
}

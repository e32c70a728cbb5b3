import assert from 'node:assert/strict';
import { startEzgedDouble } from '../fakes/ezgedDouble';
import { generateMails, type GeneratedMail } from './mailMessages';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { EzgedDouble } from '../fakes/ezgedDouble';
import type { BlobStore } from '../../shared/staging/blobStore';

/** What the EzGED double holds, compared with the documents that had to arrive. */
export interface DeliveryCheck {
  /** Files in the double's wait folders. */
  delivered: number;
  /** Documents (by content) found under more than one name: filed twice. */
  duplicates: number;
  /** Documents that never arrived. */
  losses: number;
  /** Files that match no expected document (or whose bytes on disk differ from what was sent). */
  strangers: number;
  /** Files whose bytes on disk differ from the double's record of the upload. */
  corrupt: number;
  /** Files written more than once under their name (an upload sent again). */
  rewritten: number;
  /** Extra writes in all (sum of writes − 1). */
  extraWrites: number;
  /** Files for which more than one success answer reached the sender (delivered again after a success). */
  repeats: number;
  /** Files that never got a success answer through to the sender. */
  unanswered: number;
}

/**
 * Compares the double's files with the expected SHA-256s: each expected document must be
 * there exactly once by content, byte-identical on disk (re-hashed here).
 */
export async function checkDeliveries(double: EzgedDouble, expected: string[]): Promise<DeliveryCheck> {
  const want = new Set(expected);
  const byHash = new Map<string, number>();
  const c: DeliveryCheck = { delivered: 0, duplicates: 0, losses: 0, strangers: 0, corrupt: 0, rewritten: 0, extraWrites: 0, repeats: 0, unanswered: 0 };
  for (const f of double.files.values()) {
    c.delivered++;
    const onDisk = await hashFile(double.localPath(f.waitdir, f.name));
    if (onDisk !== f.sha256) c.corrupt++;
    if (!want.has(onDisk)) c.strangers++;
    byHash.set(onDisk, (byHash.get(onDisk) ?? 0) + 1);
    if (f.writes > 1) c.rewritten++;
    c.extraWrites += f.writes - 1;
    if (f.successAnswers > 1) c.repeats++;
    if (f.successAnswers === 0) c.unanswered++;
  }
  c.duplicates = [...byHash.values()].filter((n) => n > 1).length;
  c.losses = expected.filter((h) => !byHash.has(h)).length;
  return c;
}

/**
 * Asserts that each of the `count` expected documents is in the double once, intact, and
 * that every file got its success answer through; with `oneAnswer`, exactly one.
 */
export function assertExactlyOnce(v: DeliveryCheck, count: number, opts: { oneAnswer?: boolean; message?: string } = {}): void {
  const answers = opts.oneAnswer ? { repeats: v.repeats } : {};
  assert.deepEqual(
    { delivered: v.delivered, duplicates: v.duplicates, losses: v.losses, strangers: v.strangers, corrupt: v.corrupt, ...answers, unanswered: v.unanswered },
    { delivered: count, duplicates: 0, losses: 0, strangers: 0, corrupt: 0, ...(opts.oneAnswer ? { repeats: 0 } : {}), unanswered: 0 },
    opts.message,
  );
}

/** How many times each Message-ID occurs among these messages. */
export function countByMessageId(messages: { messageId: string }[]): Map<string, number> {
  const ids = new Map<string, number>();
  for (const m of messages) ids.set(m.messageId, (ids.get(m.messageId) ?? 0) + 1);
  return ids;
}

/** Blobs in a container of the product. */
export async function countBlobs(store: BlobStore, role: 'staging' | 'archive' | 'failed'): Promise<number> {
  let n = 0;
  for await (const _ of store.list(role)) n++;
  return n;
}

function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

/** `key=value` pairs for the `# faults ...` lines. */
export function counts(values: Record<string, number | string>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** The EzGED account every fault suite's launchers.json logs in with. */
export const FAULT_EZGED_LOGIN = 'cold';
export const FAULT_EZGED_PASSWORD = 'fault-ezged-pw';

/** An EzGED double for a fault suite: one account, the given wait folders, sessions that outlive the suite. */
export function startFaultEzged(waitdirs: string[]): Promise<EzgedDouble> {
  return startEzgedDouble({ accounts: [{ login: FAULT_EZGED_LOGIN, password: FAULT_EZGED_PASSWORD }], waitdirs, sessionIdleMs: 600_000, maxSessions: 1000 });
}

/** The mails of the IMAP and POP3 fault suites: 1 to 3 PDFs each, of varied small sizes. */
export function faultMails(count: number, tag: string, seed: number): GeneratedMail[] {
  return generateMails({ count, tag, seed, attachmentsPer: (i) => 1 + (i % 3), size: (i, j) => 1500 + ((i * 7 + j * 13) % 11) * 700 });
}

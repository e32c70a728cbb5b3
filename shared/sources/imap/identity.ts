import { createHash } from 'node:crypto';

/** Longest Message-ID kept in an item key (keys go into blob metadata). */
const MAX_MESSAGE_ID_IN_KEY = 200;
/** Hex digits of the short identity kept in the source state (80 bits). */
const SHORT_ID_LENGTH = 20;

export interface MessageIdentity {
  /** The item key: folder + Message-ID + hash of the header block + size. */
  key: string;
  /** A short hash of the same, for the source's memory (handled, failures...). */
  id: string;
}

/**
 * The identity of a message that survives a UIDVALIDITY change: the folder, its
 * Message-ID, the SHA-256 of its raw header block (Received lines with their queue ids
 * and times, Date, Message-ID...) and its size. UIDs are not in it: after a mailbox is
 * rebuilt or migrated, the same message has a new UID but the same identity, so neither
 * the pipeline's in-flight record nor this source's memory of handled mail is lost; a new
 * message has new headers, so it is never mistaken for an old one. Two copies of the very
 * same message in one folder share an identity and are filed once.
 */
export function messageIdentity(folder: string, rawHeaders: Buffer, size: number, messageId: string | undefined): MessageIdentity {
  const headerHash = createHash('sha256').update(rawHeaders).digest('hex');
  const mid = (messageId ?? '').trim().slice(0, MAX_MESSAGE_ID_IN_KEY) || '-';
  const key = `${folder}|${mid}|${headerHash.slice(0, 32)}|${size}`;
  return { key, id: createHash('sha256').update(key).digest('hex').slice(0, SHORT_ID_LENGTH) };
}

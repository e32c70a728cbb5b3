import { SourceError } from '../../errors';
import { Pop3ServerError, type Pop3Connection } from './pop3Connection';

export interface MailboxEntry {
  /** Message number in this session (1-based, in the maildrop's order: oldest first). */
  number: number;
  /** The server's unique id of the message (RFC 1939 UIDL: 1 to 70 printable characters). */
  uidl: string;
  /** Size in octets as LIST announced it (as transmitted, with CRLF line ends). */
  size: number;
}

export interface MailboxListing {
  entries: MailboxEntry[];
  /** Message numbers whose UIDL was already used by an earlier message of the listing. */
  duplicates: MailboxEntry[];
}

const UIDL_CHARS = /^[\x21-\x7e]{1,70}$/;

/**
 * The messages of the maildrop, oldest first: UIDL (the identity that survives between
 * sessions) joined with LIST (the sizes) by message number. A server without UIDL cannot
 * be used: nothing would tell a message taken last run from a new one.
 */
export async function listMailbox(conn: Pop3Connection): Promise<MailboxListing> {
  let uidlLines: string[];
  try {
    uidlLines = await conn.listing('UIDL');
  } catch (err) {
    if (err instanceof Pop3ServerError) {
      throw new SourceError('POP3_NO_UIDL', `the server does not support UIDL (-ERR ${err.text}): without it a message taken once cannot be told from a new one, so this server cannot be used`, { cause: err });
    }
    throw err;
  }
  const sizes = new Map(parsePairs(await conn.listing('LIST'), 'LIST').map(([n, v]) => [n, Number(v)]));
  const seen = new Set<string>();
  const entries: MailboxEntry[] = [];
  const duplicates: MailboxEntry[] = [];
  for (const [number, uidl] of parsePairs(uidlLines, 'UIDL').sort((a, b) => a[0] - b[0])) {
    if (!UIDL_CHARS.test(uidl)) throw new SourceError('POP3_PROTOCOL', `message ${number} has an invalid UIDL`);
    const entry = { number, uidl, size: sizes.get(number) ?? 0 };
    if (seen.has(uidl)) duplicates.push(entry);
    else {
      seen.add(uidl);
      entries.push(entry);
    }
  }
  return { entries, duplicates };
}

/** `n value` lines of a UIDL or LIST answer. */
export function parsePairs(lines: string[], command: string): [number, string][] {
  return lines.map((line) => {
    const m = /^\s*(\d+)\s+(\S+)/.exec(line);
    if (!m) throw new SourceError('POP3_PROTOCOL', `unexpected line in the answer to ${command}: ${line.slice(0, 80)}`);
    return [Number(m[1]), m[2]!];
  });
}

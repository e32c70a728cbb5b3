import type { ImapFlow, SearchObject } from 'imapflow';
import { SourceError } from '../../errors';
import { mailboxPath } from './mailboxPath';

/**
 * What happens to a message once all its documents are safe, chosen by name (Paperless-ngx's
 * mail actions): each action also says which messages are still to take, so handled mail
 * is not fetched again (`seen` looks at unseen mail only, `flag` at unflagged mail...).
 */
export interface MailAction {
  readonly description: string;
  /** IMAP SEARCH criteria of the messages still to take. */
  readonly criteria: SearchObject;
  /** Folders the action writes to (created when missing). */
  readonly folders: readonly string[];
  /** Applies the action to these messages in one command (see ackBatch.ts). */
  apply(client: ImapFlow, uids: number[]): Promise<void>;
}

const ACTIONS = new Map<string, (arg: string) => MailAction>([
  ['seen', () => ({ description: 'marked as read', criteria: { seen: false, deleted: false }, folders: [], apply: (c, uids) => addFlag(c, uids, '\\Seen') })],
  ['flag', () => ({ description: 'flagged', criteria: { flagged: false, deleted: false }, folders: [], apply: (c, uids) => addFlag(c, uids, '\\Flagged') })],
  ['delete', () => ({ description: 'deleted', criteria: { deleted: false }, folders: [], apply: deleteMessage })],
  ['move', (folder) => ({ description: `moved to ${folder}`, criteria: { deleted: false }, folders: [folder], apply: (c, uids) => moveMessage(c, uids, folder) })],
]);

export function mailActionFor(afterSuccess: string): MailAction {
  const [name, ...rest] = afterSuccess.split(':');
  const make = ACTIONS.get(name);
  if (!make) throw new SourceError('IMAP_UNKNOWN_ACTION', `unknown afterSuccess "${afterSuccess}" (seen, flag, delete or move:<folder>)`);
  return make(rest.join(':'));
}

const uidSet = (uids: number[]) => uids.join(',');
const named = (uids: number[]) => `${uids.length > 1 ? 'UIDs' : 'UID'} ${uidSet(uids)}`;

async function addFlag(client: ImapFlow, uids: number[], flag: string): Promise<void> {
  // .SILENT: the server need not echo every message's new flags, nothing reads them.
  if (!(await client.messageFlagsAdd(uidSet(uids), [flag], { uid: true, silent: true }))) {
    throw new SourceError('IMAP_ACTION_FAILED', `the server refused to set ${flag} on ${named(uids)}`);
  }
}

async function deleteMessage(client: ImapFlow, uids: number[]): Promise<void> {
  if (!(await client.messageDelete(uidSet(uids), { uid: true }))) {
    throw new SourceError('IMAP_ACTION_FAILED', `the server refused to delete ${named(uids)}`);
  }
}

/**
 * Moves messages to `folder`. Several at once: a server may refuse the whole command when
 * one of them was expunged meanwhile (Dovecot: `NO [EXPUNGEISSUED]`, which imapflow reports
 * as success), so the moved ones are checked (COPYUID, else a UID SEARCH of the source) and
 * those still in the source are moved one by one.
 */
export async function moveMessage(client: ImapFlow, uids: number[], folder: string): Promise<void> {
  const res = await client.messageMove(uidSet(uids), mailboxPath(folder), { uid: true });
  if (!res) throw new SourceError('IMAP_ACTION_FAILED', `the server refused to move ${named(uids)} to ${folder}`);
  if (uids.length < 2) return;
  const moved = res.uidMap;
  const unsure = moved ? uids.filter((uid) => !moved.has(uid)) : uids;
  if (unsure.length === 0) return;
  const found = await client.search({ uid: unsure.join(',') }, { uid: true });
  if (!Array.isArray(found)) throw new SourceError('IMAP_ACTION_FAILED', `could not check that ${named(unsure)} left for ${folder}`);
  for (const uid of found.filter((u) => unsure.includes(u))) await moveMessage(client, [uid], folder);
}

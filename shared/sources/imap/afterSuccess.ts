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
  apply(client: ImapFlow, uid: number): Promise<void>;
}

const ACTIONS = new Map<string, (arg: string) => MailAction>([
  ['seen', () => ({ description: 'marked as read', criteria: { seen: false, deleted: false }, folders: [], apply: (c, uid) => addFlag(c, uid, '\\Seen') })],
  ['flag', () => ({ description: 'flagged', criteria: { flagged: false, deleted: false }, folders: [], apply: (c, uid) => addFlag(c, uid, '\\Flagged') })],
  ['delete', () => ({ description: 'deleted', criteria: { deleted: false }, folders: [], apply: deleteMessage })],
  ['move', (folder) => ({ description: `moved to ${folder}`, criteria: { deleted: false }, folders: [folder], apply: (c, uid) => moveMessage(c, uid, folder) })],
]);

export function mailActionFor(afterSuccess: string): MailAction {
  const [name, ...rest] = afterSuccess.split(':');
  const make = ACTIONS.get(name);
  if (!make) throw new SourceError('IMAP_UNKNOWN_ACTION', `unknown afterSuccess "${afterSuccess}" (seen, flag, delete or move:<folder>)`);
  return make(rest.join(':'));
}

async function addFlag(client: ImapFlow, uid: number, flag: string): Promise<void> {
  if (!(await client.messageFlagsAdd(String(uid), [flag], { uid: true }))) {
    throw new SourceError('IMAP_ACTION_FAILED', `the server refused to set ${flag} on UID ${uid}`);
  }
}

async function deleteMessage(client: ImapFlow, uid: number): Promise<void> {
  if (!(await client.messageDelete(String(uid), { uid: true }))) {
    throw new SourceError('IMAP_ACTION_FAILED', `the server refused to delete UID ${uid}`);
  }
}

export async function moveMessage(client: ImapFlow, uid: number, folder: string): Promise<void> {
  const res = await client.messageMove(String(uid), mailboxPath(folder), { uid: true });
  if (!res) throw new SourceError('IMAP_ACTION_FAILED', `the server refused to move UID ${uid} to ${folder}`);
}

import { SourceError } from '../../errors';
import type { GraphClient } from './graphClient';
import { GraphRequestError } from './errors';

/**
 * Graph's well-known folder names, usable in place of an id in any mailFolders path
 * (`/mailFolders/inbox`), whatever the mailbox's language.
 */
export const WELL_KNOWN_FOLDERS: ReadonlySet<string> = new Set([
  'archive', 'clutter', 'conflicts', 'conversationhistory', 'deleteditems', 'drafts', 'inbox', 'junkemail',
  'localfailures', 'msgfolderroot', 'outbox', 'recoverableitemsdeletions', 'scheduled', 'searchfolders',
  'sentitems', 'serverfailures', 'syncissues',
]);
const CHILD_PAGE_SIZE = 100;

export interface MailboxSource {
  /** Another user's or a shared mailbox; undefined = the signed-in user (`/me`). */
  address?: string;
  /** Folder path, `/`-separated: `inbox`, `Inbox/Factures`. */
  folderPath: string;
}

/** Reads `inbox`, `Inbox/Factures`, `ged-facture@contoso.fr:inbox`. */
export function parseMailboxSource(source: string): MailboxSource {
  const m = /^([^:\s/\\]+@[^:\s/\\]+):(.*)$/.exec(source.trim());
  if (m) return { address: m[1]!, folderPath: m[2]!.trim() || 'inbox' };
  return { folderPath: source.trim() || 'inbox' };
}

/** The Graph path of a mailbox: `/users/{address}` or `/me`. */
export function mailboxPath(address: string | undefined): string {
  return address ? `/users/${encodeURIComponent(address)}` : '/me';
}

export interface ResolvedFolder {
  id: string;
  /** As a person would write it: `Inbox/Factures`. */
  path: string;
}

interface FolderEntry {
  id: string;
  displayName: string;
}

/**
 * Finds a folder by path: the first segment is a well-known name or a top-level folder's
 * display name, each next one a child folder's display name (case-insensitive).
 */
export async function resolveFolder(graph: GraphClient, mailbox: string, folderPath: string, what = 'folder'): Promise<ResolvedFolder> {
  const segments = folderPath.split(/[/\\]/).map((s) => s.trim()).filter(Boolean);
  if (segments.length === 0) segments.push('inbox');
  const [first, ...rest] = segments;
  let current: FolderEntry;
  if (WELL_KNOWN_FOLDERS.has(first!.toLowerCase())) {
    try {
      current = await graph.getJson<FolderEntry>(`${mailbox}/mailFolders/${first!.toLowerCase()}?$select=id,displayName`);
    } catch (err) {
      if (err instanceof GraphRequestError && err.status === 404) {
        throw new SourceError('FOLDER_NOT_FOUND', `${what} "${first}" does not exist in ${describeMailbox(mailbox)}`, { cause: err });
      }
      throw err;
    }
  } else {
    current = await child(graph, `${mailbox}/mailFolders`, first!, 'the top of', mailbox, what);
  }
  const names = [current.displayName];
  for (const name of rest) {
    current = await child(graph, `${mailbox}/mailFolders/${encodeURIComponent(current.id)}/childFolders`, name, `"${names.join('/')}" of`, mailbox, what);
    names.push(current.displayName);
  }
  return { id: current.id, path: names.join('/') };
}

async function child(graph: GraphClient, listPath: string, name: string, under: string, mailbox: string, what: string): Promise<FolderEntry> {
  const seen: string[] = [];
  let url: string | undefined = `${listPath}?$select=id,displayName&$top=${CHILD_PAGE_SIZE}`;
  while (url) {
    const page: { value: FolderEntry[]; '@odata.nextLink'?: string } = await graph.getJson(url);
    const hit = page.value.find((f) => f.displayName.localeCompare(name, undefined, { sensitivity: 'accent' }) === 0);
    if (hit) return hit;
    seen.push(...page.value.map((f) => f.displayName));
    url = page['@odata.nextLink'];
  }
  throw new SourceError(
    'FOLDER_NOT_FOUND',
    `${what} "${name}" not found under ${under} ${describeMailbox(mailbox)}${seen.length ? ` (there: ${seen.slice(0, 20).join(', ')})` : ''}`,
  );
}

function describeMailbox(mailbox: string): string {
  return mailbox === '/me' ? 'the linked mailbox' : `mailbox ${decodeURIComponent(mailbox.slice('/users/'.length))}`;
}

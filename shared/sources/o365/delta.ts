import type { GraphClient } from './graphClient';

/** Messages asked per delta page (`Prefer: odata.maxpagesize`); Graph may send fewer. */
export const DELTA_PAGE_SIZE = 50;
/**
 * Message properties read during a scan: enough to decide, never the body. Not
 * `hasAttachments`: Graph leaves inline attachments out of it, so a mail whose only
 * document is an inline PDF says `false`; what a message holds is decided by listing its
 * attachments (documents.ts).
 */
export const MESSAGE_FIELDS = ['id', 'subject', 'receivedDateTime', 'isRead', 'isDraft', 'parentFolderId'];

export interface MessageSummary {
  id: string;
  subject?: string | null;
  receivedDateTime?: string;
  isRead?: boolean;
  isDraft?: boolean;
  parentFolderId?: string;
  '@removed'?: { reason: string };
}

export interface DeltaPage {
  messages: MessageSummary[];
  /** More pages in this round. */
  nextLink?: string;
  /** The round is over: the link to ask for the next changes. */
  deltaLink?: string;
}

/**
 * The first request of a full synchronisation of one folder. `changeType=created`: later
 * rounds report only messages that arrived (or were moved in), not our own changes to
 * messages already taken (marking them read, say), so nothing is offered twice.
 */
export function initialDeltaUrl(mailbox: string, folderId: string): string {
  return `${mailbox}/mailFolders/${encodeURIComponent(folderId)}/messages/delta?changeType=created&$select=${MESSAGE_FIELDS.join(',')}`;
}

/** One page of a delta round (the next link or delta link carries every query option). */
export async function fetchDeltaPage(graph: GraphClient, url: string, pageSize = DELTA_PAGE_SIZE): Promise<DeltaPage> {
  const page = await graph.getJson<{ value?: MessageSummary[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string }>(url, [
    `odata.maxpagesize=${pageSize}`,
  ]);
  return { messages: page.value ?? [], nextLink: page['@odata.nextLink'], deltaLink: page['@odata.deltaLink'] };
}

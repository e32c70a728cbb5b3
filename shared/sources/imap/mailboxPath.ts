/**
 * A folder as the launcher names it (`Scans/Factures`) as imapflow wants it: split on `/`
 * so imapflow joins the parts with the server's own separator (`Scans.Factures` on a
 * server that uses dots). A name without `/` is passed as it is (`INBOX.Scans`).
 */
export function mailboxPath(folder: string): string | string[] {
  const parts = folder.split('/').filter((p) => p !== '');
  return parts.length > 1 ? parts : folder;
}

import type { Readable } from 'node:stream';
import { readUploadAnswer } from './answers';
import type { EzgedConnection } from './connection';
import { exchange } from './exchange';
import { multipartBody, multipartFrame } from './multipart';
import type { LiveSession } from './session';

export interface ColdUpload {
  /** Safe, unique name (checked by the caller). */
  name: string;
  waitdir: string;
  body: Readable;
  size: number;
  sha256?: string;
}

/**
 * `POST {url}/data/pupload.php?token=…&sessionid=…&mode=cold&waitdir=…&name=…` with one
 * multipart part `file`, streamed from `doc.body` with an exact Content-Length. Success
 * only on `{"success": true}`; returns EzGED's `filePath` (or the wait-folder path when
 * the answer has none).
 */
export async function uploadToCold(conn: EzgedConnection, session: LiveSession, doc: ColdUpload): Promise<{ filePath: string }> {
  const url = new URL('pupload.php', conn.dataUrl);
  url.search = new URLSearchParams({ token: conn.uploadToken, sessionid: session.id, mode: 'cold', waitdir: doc.waitdir, name: doc.name }).toString();
  const frame = multipartFrame(doc.name);
  const headers: Record<string, string | number> = {
    'Content-Type': frame.contentType,
    'Content-Length': frame.contentLength(doc.size),
    Accept: 'application/json',
  };
  if (session.cookie) headers.Cookie = session.cookie;
  const what = `uploading "${doc.name}" into the wait folder "${doc.waitdir}"`;
  const answer = await exchange({
    method: 'POST',
    url,
    headers,
    body: () => multipartBody(frame, doc.body, doc.size, doc.sha256),
    timeoutMs: conn.timeoutMs,
    agent: conn.agent,
    what,
  });
  const { filePath } = readUploadAnswer(answer, what, conn.scrub);
  return { filePath: filePath ?? `ocr/wait/${doc.waitdir}/${doc.name}` };
}

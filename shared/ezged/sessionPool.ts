import type { Logger } from '../util/log';
import type { EzgedConnection } from './connection';
import { EzgedSession, type SessionOptions } from './session';

/**
 * Sessions kept for the life of the process, one per EzGED address and account (keyed by a
 * hash of the settings). In Azure each blob-trigger invocation creates its own target; they
 * all share this session, so a worker logs in once rather than once per document (and
 * does not pile up sessions towards EzGED's -18 limit). Idle expiry is handled on use.
 */
const POOL = new Map<string, EzgedSession>();

export function pooledSession(conn: EzgedConnection, opts: SessionOptions): EzgedSession {
  let s = POOL.get(conn.key);
  if (!s) {
    s = new EzgedSession(conn, opts);
    POOL.set(conn.key, s);
  } else conn.agent.destroy(); // the pooled session keeps its own agent
  return s;
}

/** Logs out every pooled session (worker shutdown, tests). */
export async function closePooledSessions(log?: Logger): Promise<void> {
  const sessions = [...POOL.values()];
  POOL.clear();
  await Promise.all(sessions.map((s) => s.close(log)));
}

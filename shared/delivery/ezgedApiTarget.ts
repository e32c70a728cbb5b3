import { describeError } from '../errors';
import { createConnection, type EzgedApiConfig } from '../ezged/connection';
import { EzgedError, isRetryableNow } from '../ezged/errors';
import { safeUrl } from '../ezged/exchange';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from '../ezged/retry';
import { EzgedSession } from '../ezged/session';
import { pooledSession } from '../ezged/sessionPool';
import { uploadToCold } from '../ezged/upload';
import { unsafeSegmentReason } from '../routing/safeName';
import { silentLogger, type Logger } from '../util/log';
import type { Delivery, DeliveryTarget } from './target';

/**
 * - `target`: the target owns its session and logs out on `close()` (the CLI: one target
 *   per run).
 * - `process`: the session is shared by every target of the process with the same
 *   settings and survives `close()` (the Functions worker: one target per invocation).
 */
export type SessionScope = 'target' | 'process';

export interface EzgedApiTargetOptions {
  logger?: Logger;
  sessionScope?: SessionScope;
  /** The short in-attempt retry (-18, 429, 5xx, refused connections). */
  retry?: RetryPolicy;
  /** EzGED's idle expiry of a session (tests shorten it). */
  sessionIdleMs?: number;
  authFailureHoldMs?: number;
  outageHoldMs?: number;
}

/** Functions workers set FUNCTIONS_WORKER_RUNTIME; elsewhere (the CLI) sessions end with the run. */
export function defaultSessionScope(env: NodeJS.ProcessEnv = process.env): SessionScope {
  return env.FUNCTIONS_WORKER_RUNTIME ? 'process' : 'target';
}

/**
 * Delivery through EzGED's web API: `sec/authenticate`, then `pupload.php?mode=cold` per
 * document, streamed. Refuses unsafe names and wait folders before any request.
 */
export function createEzgedApiTarget(config: EzgedApiConfig, opts: EzgedApiTargetOptions = {}): DeliveryTarget {
  const conn = createConnection(config);
  const log = (opts.logger ?? silentLogger).child({ target: 'ezged-api' });
  const retry = opts.retry ?? DEFAULT_RETRY;
  const scope = opts.sessionScope ?? defaultSessionScope();
  const sessionOptions = { idleMs: opts.sessionIdleMs, retry, authFailureHoldMs: opts.authFailureHoldMs, outageHoldMs: opts.outageHoldMs, logger: log };
  const session = scope === 'process' ? pooledSession(conn, sessionOptions) : new EzgedSession(conn, sessionOptions);
  const where = safeUrl(conn.dataUrl);

  function checkSegment(kind: 'name' | 'waitdir', value: string): void {
    const why = unsafeSegmentReason(value);
    if (!why) return;
    throw kind === 'name'
      ? new EzgedError('UNSAFE_NAME', `file name "${value}" ${why}: not sent to EzGED`, false)
      : new EzgedError('UNSAFE_WAITDIR', `waitdir "${value}" ${why}: not sent to EzGED`, false);
  }

  return {
    description: `EzGED API ${where} as "${conn.login}" (wait folders cannot be checked without uploading)`,

    async deliver(doc: Delivery) {
      checkSegment('waitdir', doc.waitdir);
      checkSegment('name', doc.name);
      const { filePath } = await withRetry(
        () => session.run((s) => uploadToCold(session.conn, s, doc), log),
        retry,
        isRetryableNow,
        (err, attempt, delay) => log.warn(`${describeError(err)}: trying again in ${(delay / 1000).toFixed(1)} s (${attempt} of ${retry.tries})`),
      );
      return { location: filePath };
    },

    /**
     * `cold-launcher check`: logs in and out. Whether a wait folder exists cannot be asked
     * through the API without uploading a document, so only their names are checked.
     */
    async probe(waitdirs: string[]) {
      for (const w of new Set(waitdirs)) checkSegment('waitdir', w);
      await session.login(log);
      await session.logout(log);
      log.info(
        `logged in to ${where} as "${conn.login}" and out again; the wait folders (${[...new Set(waitdirs)].join(', ') || 'none'}) ` +
          'cannot be checked through the API without uploading: a missing one shows as a refused upload',
      );
    },

    async close() {
      if (scope === 'target') await session.close(log);
    },
  };
}

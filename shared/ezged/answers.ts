import { EzgedError, NO_VALID_SESSION, TOO_MANY_SESSIONS, errorForStatus } from './errors';
import type { ExchangeAnswer } from './exchange';

/** `service.php` answers: `{"errorcode": 0, "errormsg": "Ok", "rows": ..., "count": ...}`. */
export interface ServiceAnswer {
  errorcode: number;
  errormsg: string;
  rows?: unknown;
  count?: number;
}

/** `pupload.php` answers: `{"success": true, "filePath": "..."}` or `{"success": false, ...}`. */
export interface UploadAnswer {
  success: boolean;
  filePath?: string;
  message?: string;
}

/** Removes secret values a server might echo (its own messages are shown to people). */
export type Scrub = (text: string) => string;

function parseObject(answer: ExchangeAnswer, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(answer.text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new EzgedError('EZGED_BAD_ANSWER', `${what}: the answer is not EzGED's JSON (HTTP ${answer.status}, ${answer.text.length} characters)`, false, {
    httpStatus: answer.status,
  });
}

function retryAfterMs(answer: ExchangeAnswer): number | undefined {
  const v = answer.headers['retry-after'];
  if (typeof v !== 'string') return undefined;
  const seconds = Number(v);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** Checks the HTTP status; throws the classified error unless it is 2xx. */
export function checkStatus(answer: ExchangeAnswer, what: string): void {
  if (answer.status >= 200 && answer.status < 300) return;
  throw errorForStatus(answer.status, what, { retryAfterMs: retryAfterMs(answer) });
}

/**
 * Reads a service.php answer. `errorcode` 0 is success; -18 (too many sessions) is
 * transient; 401 is the lost session; any other code is returned to the caller, which
 * knows what it means for its call.
 */
export function readServiceAnswer(answer: ExchangeAnswer, what: string, scrub: Scrub): ServiceAnswer {
  if (answer.status !== NO_VALID_SESSION) checkStatus(answer, what);
  const o = answer.status === NO_VALID_SESSION ? { errorcode: NO_VALID_SESSION, errormsg: 'no valid session' } : parseObject(answer, what);
  const errorcode = Number(o.errorcode);
  if (!Number.isInteger(errorcode)) throw new EzgedError('EZGED_BAD_ANSWER', `${what}: the answer has no errorcode`, false, { httpStatus: answer.status });
  const errormsg = scrub(String(o.errormsg ?? ''));
  if (errorcode === TOO_MANY_SESSIONS) {
    throw new EzgedError('EZGED_TOO_MANY_SESSIONS', `${what}: EzGED has reached its maximum number of sessions (-18: ${errormsg})`, true, {
      ezgedCode: errorcode,
      replayable: true,
    });
  }
  if (errorcode === NO_VALID_SESSION) {
    throw new EzgedError('EZGED_SESSION_EXPIRED', `${what}: EzGED has no valid session (401)`, true, { ezgedCode: errorcode, httpStatus: answer.status, replayable: true });
  }
  return { errorcode, errormsg, rows: o.rows, count: typeof o.count === 'number' ? o.count : undefined };
}

/**
 * Reads a pupload.php answer: success only with `"success": true`. An `errorcode` of 401
 * (no valid session) or -18 (too many sessions), with any status, is transient like the
 * same codes from service.php. Any other `"success": false` is permanent (an unknown
 * waitdir, a refused name or token); an unreadable 2xx answer is permanent too, and says
 * the document may have been written.
 */
export function readUploadAnswer(answer: ExchangeAnswer, what: string, scrub: Scrub): { filePath?: string } {
  const o = tryParse(answer);
  if (!(answer.status >= 200 && answer.status < 300)) {
    const reason = o && (o.message ?? o.errormsg);
    throw errorForStatus(answer.status, what, { retryAfterMs: retryAfterMs(answer) }, reason === undefined ? undefined : scrub(String(reason)));
  }
  if (!o) {
    throw new EzgedError(
      'EZGED_BAD_ANSWER',
      `${what}: the answer is not EzGED's JSON (HTTP ${answer.status}); the document may have been written: check the wait folder before retrying`,
      false,
      { httpStatus: answer.status },
    );
  }
  if (o.success === true) return { filePath: typeof o.filePath === 'string' && o.filePath ? o.filePath : undefined };
  // EzGED's known codes may come in a 2xx answer too, as service.php gives them: the
  // session is gone, or too many sessions. Neither wrote the file; both are transient.
  const code = Number(o.errorcode);
  if (code === NO_VALID_SESSION) {
    throw new EzgedError('EZGED_SESSION_EXPIRED', `${what}: EzGED has no valid session (errorcode 401)`, true, { ezgedCode: code, httpStatus: answer.status });
  }
  if (code === TOO_MANY_SESSIONS) {
    throw new EzgedError('EZGED_TOO_MANY_SESSIONS', `${what}: EzGED has reached its maximum number of sessions (-18)`, true, { ezgedCode: code, httpStatus: answer.status });
  }
  const why = scrub(String(o.message ?? o.errormsg ?? o.error ?? 'no reason given'));
  throw new EzgedError('EZGED_UPLOAD_REFUSED', `${what}: EzGED refused the document (${why})`, false, { httpStatus: answer.status });
}

function tryParse(answer: ExchangeAnswer): Record<string, unknown> | undefined {
  try {
    return parseObject(answer, '');
  } catch {
    return undefined;
  }
}

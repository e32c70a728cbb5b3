import { DeliveryError } from '../errors';

/** Details of a failed exchange with EzGED. */
export interface EzgedErrorDetails {
  /** HTTP status of the answer, when there was one. */
  httpStatus?: number;
  /** `errorcode` of a service.php answer, when there was one. */
  ezgedCode?: number;
  /**
   * True when no byte of the document was read yet, so the same request can be sent again
   * in this attempt. False once the body started streaming (the stream cannot be rewound).
   */
  replayable?: boolean;
  /** EzGED as a whole is unreachable (login impossible), not this document's fault. */
  targetDown?: boolean;
  /** Milliseconds the server asked to wait (Retry-After). */
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * A failed exchange with EzGED's web API. `transient` (from DeliveryError) tells whether a
 * later attempt may succeed; messages never contain the password, its MD5, the upload
 * token, the session id or a query string.
 */
export class EzgedError extends DeliveryError {
  readonly httpStatus?: number;
  readonly ezgedCode?: number;
  readonly replayable: boolean;
  readonly retryAfterMs?: number;

  constructor(code: string, message: string, transient: boolean, details: EzgedErrorDetails = {}) {
    super(code, message, transient, { cause: details.cause, targetDown: details.targetDown });
    this.httpStatus = details.httpStatus;
    this.ezgedCode = details.ezgedCode;
    this.replayable = details.replayable ?? false;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** `errorcode` EzGED gives when the maximum number of sessions is reached. */
export const TOO_MANY_SESSIONS = -18;
/** Status / `errorcode` EzGED gives when the session is missing or dead. */
export const NO_VALID_SESSION = 401;

/** The session is gone (401): log in again. */
export function isSessionLost(err: unknown): err is EzgedError {
  return err instanceof EzgedError && err.code === 'EZGED_SESSION_EXPIRED';
}

/** A failure that may be tried again right away, within the same delivery attempt. */
export function isRetryableNow(err: unknown): err is EzgedError {
  return err instanceof EzgedError && err.transient && err.replayable;
}

/**
 * Classifies an HTTP status that is not a success. 401 is the lost session; 429 and 5xx
 * are transient; a redirect or any other 4xx is permanent (a wrong `ezged.url`, a proxy
 * refusing...), so it is not retried in a loop.
 */
export function errorForStatus(status: number, what: string, details: EzgedErrorDetails = {}, reason?: string): EzgedError {
  const err = classifyStatus(status, what, { ...details, httpStatus: status });
  if (reason) err.message += ` (${reason})`;
  return err;
}

function classifyStatus(status: number, what: string, d: EzgedErrorDetails): EzgedError {
  if (status === NO_VALID_SESSION) return new EzgedError('EZGED_SESSION_EXPIRED', `${what}: EzGED answered 401 (no valid session)`, true, d);
  if (status === 429) return new EzgedError('EZGED_THROTTLED', `${what}: EzGED answered 429 (too many requests)`, true, d);
  if (status >= 500) return new EzgedError('EZGED_SERVER_ERROR', `${what}: EzGED answered HTTP ${status}`, true, d);
  if (status === 404) {
    return new EzgedError('EZGED_NOT_FOUND', `${what}: HTTP 404; ezged.url must be the EzGED base address (e.g. https://ged.example.fr/ezged3)`, false, d);
  }
  if (status >= 300 && status < 400) {
    return new EzgedError('EZGED_REDIRECTED', `${what}: EzGED answered a redirect (HTTP ${status}); set ezged.url to the final address`, false, d);
  }
  return new EzgedError(`EZGED_HTTP_${status}`, `${what}: EzGED answered HTTP ${status}`, false, d);
}

/** Certificate problems: fixing them needs an administrator (tls.ca, a renewed certificate). */
const TLS_CODES = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH|ERR_SSL_)/;

/**
 * Classifies a failure below HTTP (connection refused or reset, DNS, timeout, TLS).
 * Everything is transient except certificate verification failures, which only a change
 * of configuration or certificate fixes.
 */
export function errorForNetwork(err: unknown, what: string, replayable: boolean): EzgedError {
  if (err instanceof EzgedError) return err;
  const code = (err as NodeJS.ErrnoException)?.code ?? 'EUNKNOWN';
  const message = (err as Error)?.message ?? String(err);
  if (TLS_CODES.test(code)) {
    return new EzgedError(
      'EZGED_TLS',
      `${what}: the server certificate was refused (${code}); trust its CA with ezged.tls.ca, or fix the certificate`,
      false,
      { cause: err, replayable },
    );
  }
  return new EzgedError('EZGED_CONNECTION', `${what}: ${code}: ${message}`, true, { cause: err, replayable });
}

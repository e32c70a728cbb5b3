import { SourceError } from '../../errors';

/**
 * Microsoft Graph answered with an error (after the retries the status allows). Like the
 * Graph SDK's GraphError: the HTTP status, Graph's own error code and the request id,
 * never the bearer token. `code` is one of the GRAPH_* codes below.
 */
export class GraphRequestError extends SourceError {
  readonly status: number;
  readonly graphCode?: string;
  readonly requestId?: string;
  constructor(status: number, message: string, opts: { graphCode?: string; requestId?: string; cause?: unknown } = {}) {
    super(graphErrorCode(status), message, { cause: opts.cause });
    this.status = status;
    this.graphCode = opts.graphCode;
    this.requestId = opts.requestId;
  }
}

export function graphErrorCode(status: number): string {
  if (status === 401) return 'GRAPH_UNAUTHORIZED';
  if (status === 403) return 'GRAPH_FORBIDDEN';
  if (status === 404) return 'GRAPH_NOT_FOUND';
  if (status === 410) return 'GRAPH_SYNC_RESET';
  if (status === 429 || status === 503) return 'GRAPH_THROTTLED';
  return 'GRAPH_FAILED';
}

/** Getting a token failed: the link expired or was revoked, the secret is wrong, the key is missing... */
export class O365AuthError extends SourceError {}

export { NothingToFileError } from '../../mail/errors';

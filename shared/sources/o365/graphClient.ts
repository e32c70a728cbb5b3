import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { setTimeout as sleepMs } from 'node:timers/promises';
import { ColdError, SourceError } from '../../errors';
import { lengthCheck } from '../../util/lengthCheck';
import type { Logger } from '../../util/log';
import { GraphRequestError } from './errors';
import { DEFAULT_RETRY_OPTIONS, parseRetryAfter, retryDecision, type RetryOptions } from './retryPolicy';
import { readBody, type Transport } from './transport';

/** Graph API version every path is under. */
export const GRAPH_VERSION = 'v1.0';
/** Ids that survive moves between folders (Graph's `Prefer: IdType="ImmutableId"`). */
export const IMMUTABLE_ID_PREFERENCE = 'IdType="ImmutableId"';

export interface TokenProvider {
  /** A bearer token for Graph; `forceRefresh` after Graph refused the previous one. */
  getToken(forceRefresh?: boolean): Promise<string>;
}

export interface GraphClientOptions {
  graphEndpoint: string;
  transport: Transport;
  tokens: TokenProvider;
  logger: Logger;
  retry?: RetryOptions;
  /** Injected in tests to observe the waits; defaults to a real timer. */
  sleep?: (ms: number) => Promise<void>;
}

interface RequestOptions {
  body?: unknown;
  prefer?: string[];
  stream?: boolean;
}

/**
 * A small Microsoft Graph client over HTTPS: bearer token on every request (and only to
 * the Graph endpoint: a next/delta link pointing elsewhere is refused), immutable ids,
 * throttling honoured (Retry-After, bounded retries), one token refresh on 401, streamed
 * downloads for `$value`. Errors are GraphRequestError with Graph's code and request id.
 */
export class GraphClient {
  private readonly origin: string;
  private readonly base: string;
  private readonly retry: RetryOptions;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: GraphClientOptions) {
    this.origin = new URL(opts.graphEndpoint).origin;
    this.base = `${opts.graphEndpoint.replace(/\/+$/, '')}/${GRAPH_VERSION}`;
    this.retry = opts.retry ?? DEFAULT_RETRY_OPTIONS;
    this.sleep = opts.sleep ?? ((ms) => sleepMs(ms));
  }

  async getJson<T>(pathOrUrl: string, prefer: string[] = []): Promise<T> {
    return (await this.call<T>('GET', pathOrUrl, { prefer }))!;
  }

  /** The raw content of `$value`, streamed; fails if fewer bytes arrive than announced. */
  async getStream(path: string): Promise<Readable> {
    const res = (await this.call<IncomingMessage>('GET', path, { stream: true }))!;
    return verifiedLength(res, path);
  }

  async send<T>(method: 'PATCH' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T | undefined> {
    return this.call<T>(method, path, { body });
  }

  private resolve(pathOrUrl: string): URL {
    const url = /^https?:\/\//i.test(pathOrUrl) ? new URL(pathOrUrl) : new URL(this.base + pathOrUrl);
    if (url.origin !== this.origin) {
      throw new SourceError('GRAPH_FOREIGN_LINK', `Graph gave a link to ${url.origin}, not ${this.origin}: refused (the token is only sent to the Graph endpoint)`);
    }
    return url;
  }

  private async call<T>(method: string, pathOrUrl: string, ro: RequestOptions): Promise<T | undefined> {
    const url = this.resolve(pathOrUrl);
    const where = `${method} ${url.pathname}`;
    const body = ro.body === undefined ? undefined : JSON.stringify(ro.body);
    let refreshed = false;
    let forceRefresh = false;
    for (let attempt = 0; ; attempt++) {
      const token = await this.opts.tokens.getToken(forceRefresh);
      forceRefresh = false;
      const headers: Record<string, string> = {
        authorization: `Bearer ${token}`,
        accept: ro.stream ? '*/*' : 'application/json',
        prefer: [IMMUTABLE_ID_PREFERENCE, ...(ro.prefer ?? [])].join(', '),
        'client-request-id': randomUUID(),
      };
      if (body !== undefined) headers['content-type'] = 'application/json';
      let res: IncomingMessage;
      try {
        res = await this.opts.transport.send(method, url.href, headers, body);
      } catch (err) {
        // A request that never got an answer is tried again only when repeating it is harmless.
        if (method !== 'GET' || attempt >= this.retry.maxRetries || !(err instanceof ColdError)) throw err;
        const delayMs = this.retry.backoffMs * 2 ** attempt;
        this.opts.logger.warn(`${where}: ${err.message}; trying again in ${delayMs / 1000} s`);
        await this.sleep(delayMs);
        continue;
      }
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        if (ro.stream) return res as T;
        const text = (await readBody(res)).toString('utf8');
        return text ? (JSON.parse(text) as T) : undefined;
      }
      const text = (await readBody(res).catch(() => Buffer.alloc(0))).toString('utf8');
      if (status === 401 && !refreshed) {
        refreshed = forceRefresh = true;
        this.opts.logger.debug(`${where}: token refused (401), getting a fresh one`);
        continue;
      }
      const decision = retryDecision(status, parseRetryAfter(res.headers['retry-after']), attempt, this.retry);
      if (decision.retry) {
        this.opts.logger.warn(`${where}: HTTP ${status}${status === 429 || status === 503 ? ' (throttled)' : ''}, trying again in ${decision.delayMs / 1000} s${res.headers['retry-after'] !== undefined ? ' as Retry-After asks' : ''}`, { status, attempt: attempt + 1 });
        await this.sleep(decision.delayMs);
        continue;
      }
      throw graphError(status, where, text, res, status === 429 || status === 503 ? decision.reason : undefined);
    }
  }
}

function graphError(status: number, where: string, text: string, res: IncomingMessage, extra?: string): GraphRequestError {
  let graphCode: string | undefined;
  let message = '';
  let requestId = header(res, 'request-id');
  try {
    const e = (JSON.parse(text) as { error?: { code?: string; message?: string; innerError?: Record<string, string> } }).error;
    graphCode = e?.code;
    message = e?.message ?? '';
    requestId ??= e?.innerError?.['request-id'];
  } catch {
    message = text.slice(0, 200);
  }
  const parts = [`${where}: HTTP ${status}`, graphCode, message, extra].filter(Boolean).join(': ');
  return new GraphRequestError(status, requestId ? `${parts} (request-id ${requestId})` : parts, { graphCode, requestId });
}

function header(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Passes the stream through and fails it if it ends before Content-Length bytes. */
function verifiedLength(res: IncomingMessage, path: string): Readable {
  const announced = res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : undefined;
  const check = lengthCheck(announced, (seen) => new SourceError('TRUNCATED', `${path}: ${seen} bytes received of ${announced}`));
  res.on('error', (err) => check.destroy(err));
  res.on('aborted', () => check.destroy(new SourceError('TRUNCATED', `${path}: connection closed before the end`)));
  check.on('close', () => {
    if (!res.complete) res.destroy();
  });
  return res.pipe(check);
}

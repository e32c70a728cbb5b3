import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EzgedError, errorForNetwork } from './errors';

/** EzGED's answers are small JSON objects; anything longer is cut (and then unreadable). */
export const MAX_ANSWER_BYTES = 64 * 1024;

export interface ExchangeRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers: OutgoingHttpHeaders;
  /** The request body, pulled only once the connection is up (see `replayable`). */
  body?: () => AsyncIterable<Buffer>;
  /** Longest time without any progress (connecting, sending, waiting, receiving). */
  timeoutMs: number;
  agent: http.Agent;
  /** What is being done, for messages ("logging in to EzGED"); never a URL with its query. */
  what: string;
}

export interface ExchangeAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/**
 * One HTTP exchange with Node's own http/https. The body is streamed with backpressure
 * and only started once the socket is connected, so a refused connection, a DNS failure
 * or a failed TLS handshake leaves the document stream untouched (`replayable`).
 * Failures become EzgedError; the URL's query string never appears in them.
 */
export function exchange(req: ExchangeRequest): Promise<ExchangeAnswer> {
  return new Promise<ExchangeAnswer>((resolve, reject) => {
    const lib = req.url.protocol === 'https:' ? https : http;
    let bodyStarted = false;
    let settled = false;
    let source: Readable | undefined;
    const client = lib.request(req.url, { method: req.method, headers: req.headers, agent: req.agent });

    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      source?.destroy();
      client.destroy();
      reject(errorForNetwork(err, req.what, !bodyStarted));
    };

    client.setTimeout(req.timeoutMs, () => {
      fail(
        new EzgedError('EZGED_TIMEOUT', `${req.what}: no progress for ${Math.round(req.timeoutMs / 1000)} s (ezged.timeoutSeconds)`, true, {
          replayable: !bodyStarted,
        }),
      );
    });
    client.on('error', fail);
    client.on('response', (res) => {
      const chunks: Buffer[] = [];
      let length = 0;
      res.on('data', (chunk: Buffer) => {
        if (length < MAX_ANSWER_BYTES) chunks.push(chunk.subarray(0, MAX_ANSWER_BYTES - length));
        length += chunk.length;
      });
      res.on('error', fail);
      res.on('aborted', () => fail(Object.assign(new Error('the answer was cut off'), { code: 'ECONNRESET' })));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        // An answer before the whole body was sent (an early 401/503): stop sending.
        if (source && !source.readableEnded) {
          source.destroy();
          client.destroy();
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
      });
    });

    if (!req.body) {
      client.end();
      return;
    }
    const produce = req.body;
    const start = () => {
      if (settled || bodyStarted) return;
      bodyStarted = true;
      source = Readable.from(produce(), { objectMode: false });
      pipeline(source, client).catch(fail);
    };
    client.on('socket', (socket) => {
      // A kept-alive socket is ready; a new one is not until connected (and TLS done).
      if (!(socket as { connecting?: boolean }).connecting) start();
      else socket.once(req.url.protocol === 'https:' ? 'secureConnect' : 'connect', start);
    });
  });
}

/** The address without its query string or fragment: the only form that may be logged. */
export function safeUrl(url: URL | string): string {
  const u = typeof url === 'string' ? new URL(url) : url;
  return `${u.origin}${u.pathname}`;
}

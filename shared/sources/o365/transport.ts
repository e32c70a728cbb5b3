import { readCa } from '../../util/readCa';
import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { SourceError } from '../../errors';

/** TLS settings of a launcher (`tls` block): a private CA to trust, verification on by default. */
export interface TlsSettings {
  rejectUnauthorized: boolean;
  ca?: string;
  servername?: string;
}

export interface Transport {
  /** Sends one HTTPS request; resolves with the response as soon as its headers arrive (body not read). */
  send(method: string, url: string, headers: Record<string, string>, body?: string | Buffer): Promise<IncomingMessage>;
  close(): void;
}

/**
 * HTTPS through node:https, one keep-alive agent per launcher run. Plain http is refused:
 * a bearer token or a client secret never travels in clear. `timeoutMs` is an idle
 * timeout (no byte for that long), so a large download is never cut while it flows.
 */
export function createTransport(tls: TlsSettings, timeoutMs: number): Transport {
  const agent = new Agent({ keepAlive: true, maxSockets: 8, ca: readCa(tls.ca, (message, cause) => new SourceError('TLS_CA_UNREADABLE', message, { cause })), rejectUnauthorized: tls.rejectUnauthorized, servername: tls.servername });
  return {
    send(method, url, headers, body) {
      const u = new URL(url);
      if (u.protocol !== 'https:') return Promise.reject(new SourceError('INSECURE_URL', `refusing ${u.protocol}// for ${u.host}: only https is used`));
      return new Promise<IncomingMessage>((resolve, reject) => {
        const req = httpsRequest(u, { method, agent, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
          res.setTimeout(timeoutMs, () => res.destroy(new SourceError('TIMEOUT', `no data from ${u.host} for ${timeoutMs / 1000} s`)));
          resolve(res);
        });
        req.setTimeout(timeoutMs, () => req.destroy(new SourceError('TIMEOUT', `no answer from ${u.host} within ${timeoutMs / 1000} s`)));
        req.on('error', (err) => reject(new SourceError('NETWORK', `${method} ${u.origin}${u.pathname}: ${(err as Error).message}`, { cause: err })));
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}

/** Reads a whole (small) response body. */
export async function readBody(res: IncomingMessage, limit = 16 * 1024 * 1024): Promise<Buffer> {
  const body = await readAtMost(res, limit);
  if (body === undefined) throw new SourceError('RESPONSE_TOO_LARGE', `answer larger than ${limit} bytes where a small JSON was expected`);
  return body;
}

/** A stream's whole content, or undefined (the stream destroyed) once it passes `limit` bytes. */
export async function readAtMost(stream: Readable, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      stream.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

import { Socket, connect as netConnect } from 'node:net';
import { Readable } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { SourceError } from '../../errors';
import { DotDecoder } from './dotDecoder';

/** Longest status line accepted (RFC 2449 allows 512 octets; some servers say more). */
export const MAX_STATUS_LINE_BYTES = 8 * 1024;
/** Largest UIDL or LIST answer kept in memory (about a million messages). */
export const MAX_LISTING_BYTES = 64 * 1024 * 1024;
/** Bytes of a message body buffered before the socket is paused (back-pressure). */
export const BODY_HIGH_WATER_MARK = 1024 * 1024;

export type Pop3Security = 'tls' | 'starttls' | 'none';

export interface Pop3ConnectionOptions {
  host: string;
  port: number;
  security: Pop3Security;
  /** Node TLS options (ca, rejectUnauthorized, servername...), for `tls` and `starttls`. */
  tls: ConnectionOptions;
  /** No byte in either direction for this long: the connection is given up. */
  timeoutMs: number;
}

/** The server said -ERR: `text` is what followed, `responseCode` the RFC 2449 code in brackets ([AUTH], [IN-USE], [SYS/PERM]...). */
export class Pop3ServerError extends SourceError {
  readonly responseCode?: string;
  constructor(
    readonly command: string,
    readonly text: string,
  ) {
    super('POP3_SERVER_ERROR', `the server refused ${command}: -ERR ${text}`.trim());
    this.responseCode = /^\[([^\]]+)\]/.exec(text)?.[1]?.toUpperCase();
  }
}

type Sink = (chunk: Buffer) => Buffer | undefined;

/**
 * One POP3 connection (RFC 1939), with implicit TLS (RFC 8314), STLS (RFC 2595) or clear
 * text. Commands run one after the other; a multi-line answer is decoded as it arrives
 * (DotDecoder) and a message body is handed out as a stream with back-pressure: the
 * socket is paused while the reader is behind, so a message of any size goes through
 * in bounded memory. Any socket failure fails the command in progress and every later one.
 */
export class Pop3Connection {
  private socket!: Socket | TLSSocket;
  /** Bytes received that no command has consumed yet. */
  private pending: Buffer = Buffer.alloc(0);
  private sink: Sink | undefined;
  private onFailure: ((err: Error) => void) | undefined;
  private failure: Error | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private quitting = false;
  /** A command is in progress (its answer may come in several parts). */
  private busy = false;
  /** Connecting: the greeting may arrive before anyone reads it. */
  private opening = true;

  private constructor(private readonly opts: Pop3ConnectionOptions) {}

  /** Connects, upgrades with STLS when asked, and reads the greeting (returned). */
  static async open(opts: Pop3ConnectionOptions): Promise<{ connection: Pop3Connection; greeting: string }> {
    const c = new Pop3Connection(opts);
    const raw = opts.security === 'tls' ? tlsConnect({ ...opts.tls, host: opts.host, port: opts.port }) : netConnect({ host: opts.host, port: opts.port });
    c.attach(raw);
    try {
      await c.established(raw, opts.security === 'tls' ? 'secureConnect' : 'connect');
      const greeting = await c.status('(greeting)');
      if (opts.security === 'starttls') await c.startTls();
      c.opening = false;
      return { connection: c, greeting };
    } catch (err) {
      c.destroy();
      throw err;
    }
  }

  /** A command with a one-line answer; resolves with the text after +OK, rejects on -ERR. */
  command(line: string, shown = line): Promise<string> {
    return this.serial(async () => {
      this.write(line);
      return this.status(shown);
    });
  }

  /** A command with a multi-line answer kept whole (UIDL, LIST, CAPA): its lines. */
  listing(line: string): Promise<string[]> {
    return this.serial(async () => {
      this.write(line);
      await this.status(line);
      const parts: Buffer[] = [];
      let size = 0;
      await this.readBody((chunk) => {
        size += chunk.length;
        if (size > MAX_LISTING_BYTES) throw new SourceError('POP3_PROTOCOL', `the answer to ${line} is larger than ${MAX_LISTING_BYTES} bytes`);
        parts.push(chunk);
      });
      return Buffer.concat(parts).toString('latin1').split(/\r?\n/).filter((l) => l.trim() !== '');
    });
  }

  /**
   * A command whose multi-line answer is a message (RETR): resolves once the server said
   * +OK, with the decoded body as a stream. The next command waits until the body has
   * arrived whole (read, or dropped if the stream was destroyed early).
   */
  body(line: string): Promise<Readable> {
    return new Promise<Readable>((resolveStream, rejectStream) => {
      this.serial(async () => {
        this.write(line);
        await this.status(line);
        const stream = new Readable({ highWaterMark: BODY_HIGH_WATER_MARK, read: () => this.socket.resume() });
        // The reader attaches its own handlers; this one only keeps an early failure from being unhandled.
        stream.on('error', () => undefined);
        // A reader that gives up (disk full...): the rest of the message is read and dropped,
        // so the connection stays in step for the next command.
        let abandoned = false;
        stream.once('close', () => {
          abandoned = true;
          this.socket.resume();
        });
        resolveStream(stream);
        try {
          await this.readBody((chunk) => {
            if (!abandoned && !stream.push(chunk)) this.socket.pause();
          });
          stream.push(null);
        } catch (err) {
          stream.destroy(err as Error);
          throw err;
        } finally {
          this.socket.resume();
        }
      }).catch(rejectStream);
    });
  }

  /** QUIT: the server commits the deletions only when it answers +OK to this. */
  async quit(): Promise<string> {
    this.quitting = true;
    try {
      return await this.command('QUIT');
    } finally {
      this.socket.end();
    }
  }

  destroy(err?: Error): void {
    this.quitting = true;
    this.fail(err ?? new SourceError('POP3_CLOSED', 'the connection was closed'));
    this.socket.destroy();
  }

  get closed(): boolean {
    return this.failure !== undefined || this.socket.destroyed;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      if (this.failure) throw this.failure;
      this.busy = true;
      try {
        return await fn();
      } finally {
        this.busy = false;
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private write(line: string): void {
    if (/[\r\n]/.test(line)) throw new SourceError('POP3_PROTOCOL', 'a command may not contain a line break');
    this.socket.write(`${line}\r\n`, 'latin1');
  }

  private attach(socket: Socket | TLSSocket): void {
    this.socket = socket;
    socket.setTimeout(this.opts.timeoutMs, () =>
      this.destroy(new SourceError('POP3_TIMEOUT', `no answer from ${this.opts.host}:${this.opts.port} within ${this.opts.timeoutMs / 1000} s`)),
    );
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new SourceError('POP3_CLOSED', this.quitting ? 'the connection was closed' : 'the server closed the connection')));
  }

  private detach(socket: Socket | TLSSocket): void {
    socket.setTimeout(0);
    socket.removeAllListeners('data');
    socket.removeAllListeners('error');
    socket.removeAllListeners('close');
  }

  private established(socket: Socket | TLSSocket, event: 'connect' | 'secureConnect'): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.onFailure = reject;
      socket.once(event, () => {
        this.onFailure = undefined;
        resolve();
      });
    });
  }

  private async startTls(): Promise<void> {
    await this.command('STLS');
    if (this.pending.length > 0) {
      // Bytes sent before the handshake would be read as if they came over TLS (RFC 2595 §3 / CVE-2011-0411).
      throw new SourceError('POP3_PROTOCOL', 'the server sent data after accepting STLS, before the TLS handshake');
    }
    const plain = this.socket;
    this.detach(plain);
    plain.on('error', () => undefined); // reported through the TLS socket
    const secure = tlsConnect({ ...this.opts.tls, socket: plain, host: this.opts.host });
    this.attach(secure);
    await this.established(secure, 'secureConnect');
  }

  private receive(chunk: Buffer): void {
    let data: Buffer | undefined = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    try {
      while (data && data.length > 0 && this.sink) data = this.sink(data);
    } catch (err) {
      this.destroy(err as Error);
      return;
    }
    if (data && data.length > 0) {
      // Between a status line and the body that follows it, the body waits here (at most
      // one chunk: the next reader takes it at once). Outside a command, nothing should come.
      if (!this.busy && !this.opening && data.length > MAX_STATUS_LINE_BYTES) {
        return this.destroy(new SourceError('POP3_PROTOCOL', 'the server sent data nobody asked for'));
      }
      this.pending = data;
    }
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const notify = this.onFailure;
    this.onFailure = undefined;
    this.sink = undefined;
    notify?.(err);
  }

  /** Reads one status line; resolves with its text after "+OK", rejects on "-ERR". */
  private status(command: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      let line = Buffer.alloc(0);
      this.onFailure = reject;
      this.sink = (chunk) => {
        const lf = chunk.indexOf(0x0a);
        line = Buffer.concat([line, lf === -1 ? chunk : chunk.subarray(0, lf + 1)]);
        if (lf === -1) {
          if (line.length > MAX_STATUS_LINE_BYTES) throw new SourceError('POP3_PROTOCOL', `the answer to ${command} is not a POP3 status line`);
          return undefined;
        }
        this.sink = undefined;
        this.onFailure = undefined;
        const text = line.toString('utf8').replace(/\r?\n$/, '');
        if (text.startsWith('+OK')) resolve(text.slice(3).trim());
        else if (text.startsWith('-ERR')) reject(new Pop3ServerError(command, text.slice(4).trim()));
        else reject(new SourceError('POP3_PROTOCOL', `unexpected answer to ${command}: ${text.slice(0, 80)}`));
        return chunk.subarray(lf + 1);
      };
      if (this.pending.length) this.receive(Buffer.alloc(0));
    });
  }

  /** Feeds the body of a multi-line answer to `take` until its terminating line. */
  private readBody(take: (chunk: Buffer) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      const decoder = new DotDecoder();
      this.onFailure = reject;
      this.sink = (chunk) => {
        const { data, rest } = decoder.push(chunk);
        for (const d of data) take(d);
        if (!decoder.done) return undefined;
        this.sink = undefined;
        this.onFailure = undefined;
        resolve();
        return rest;
      };
      if (this.pending.length) this.receive(Buffer.alloc(0));
    });
  }
}

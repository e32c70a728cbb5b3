/**
 * A test double of EzGED's web API, following /work/shared/docs/ezged-api.md to the letter
 * (EzGED itself is proprietary and cannot run here):
 *
 * - `GET {base}/data/service.php?service=sec/authenticate&login=…&pwd=<md5 hex>` (with
 *   `&domain=…` the password is sent in clear). Success:
 *   `{"errorcode":0,"errormsg":"You're authenticated !","rows":{"sessionid":"…"},"count":1}`
 *   and a `Set-Cookie` session cookie. Too many sessions: errorcode -18.
 * - `service=secses/keepalive&sessionid=…` and `service=secses/delete&sessionid=…&secsesid=…`
 *   need the sessionid AND the cookie; a session dies after `sessionIdleMs` without a call.
 *   No valid session: HTTP 401 with `{"errorcode":401,…}` (the docs name the code 401;
 *   whether EzGED also sets the HTTP status is not documented: the double does both).
 * - `POST {base}/data/pupload.php?token=…&sessionid=…&mode=cold&waitdir=…&name=…` with a
 *   multipart/form-data part `file`. Like PHP, the body is received first, then the token,
 *   session, mode, waitdir (must exist) and name (no `/`, `\`, `..`, control characters,
 *   drive letter) are checked. Answers `{"success":true,"filePath":"…"}` or
 *   `{"success":false,"message":"…"}`. The body is parsed as a stream: hashed and written
 *   to disk (or only hashed), never held in memory. A Content-Length is required (PHP
 *   behind FastCGI does not take chunked uploads).
 *
 * The error codes for a bad login (-1) and the HTTP statuses of a refused token (403) are
 * not documented publicly; the client under test must not depend on their exact values.
 *
 * Fault modes (`inject`): HTTP status bursts, dropped connections (on arrival, or after the
 * file was written: the answer is lost), slow answers, expired sessions, -18 on login.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, stat, unlink } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const FACTORY_TOKEN = 'c3e335143464469a1ca542c21147f913';
const SESSION_COOKIE = 'PHPSESSID';

export type Endpoint = 'login' | 'keepalive' | 'logout' | 'upload' | 'any';

export type Fault =
  /** Answer this HTTP status (an upload's body is read first, as a proxy or PHP would). */
  | { kind: 'status'; on: Endpoint; status: number; times?: number; retryAfterSeconds?: number }
  /** Close the connection without an answer: as the request arrives, or after the upload was written. */
  | { kind: 'drop'; on: Endpoint; stage: 'on-arrival' | 'after-write'; times?: number }
  /** Wait before answering, after the work is done (uploads: only a written one); a client that gave up loses the answer. */
  | { kind: 'slow'; on: Endpoint; delayMs: number; times?: number }
  /** Every session dies just before this request is checked (EzGED restarted, idle purge). */
  | { kind: 'expire-sessions'; on: Endpoint; times?: number }
  /** The next logins answer -18 (maximum number of sessions reached). */
  | { kind: 'too-many-sessions'; times?: number };

export interface Account {
  login: string;
  password: string;
  /** LDAP/domain account: the password is then sent in clear with `domain`. */
  domain?: string;
}

export interface EzgedDoubleOptions {
  accounts?: Account[];
  token?: string;
  /** Path of EzGED under the host (`/ezged3`; older installs `/ezged`). */
  basePath?: string;
  waitdirs?: string[];
  sessionIdleMs?: number;
  maxSessions?: number;
  /** Write uploaded files under `root/<waitdir>/<name>` (false: only count and hash them). */
  storeFiles?: boolean;
  root?: string;
  /** HTTPS with this key and certificate (PEM); plain HTTP without. */
  tls?: { key: string; cert: string };
  /** The server-side spool folder reported in `filePath`. */
  serverSpool?: string;
  /**
   * How an upload without a live session is answered. The docs name the code 401, not the
   * form: `status` (default) answers HTTP 401; `errorcode` answers HTTP 200 with
   * `{"success":false,"errorcode":401,…}`, the way service.php gives its codes.
   */
  uploadSessionLoss?: 'status' | 'errorcode';
}

export interface FileRecord {
  waitdir: string;
  name: string;
  size: number;
  sha256: string;
  /** Times the file was written into the wait folder. */
  writes: number;
  /** Times a `{"success":true}` answer reached the client for it. */
  successAnswers: number;
}

interface Session {
  id: string;
  cookie: string;
  login: string;
  lastSeen: number;
}

export interface EzgedDouble {
  url: string;
  port: number;
  root: string;
  stats: {
    /** Login requests received, faulted ones included. */
    loginAttempts: number;
    sessionsOpened: number;
    logouts: number;
    keepalives: number;
    uploadRequests: number;
    /** Uploads written whose answer never reached the client. */
    lostAnswers: number;
    /** Uploads cut off by the client before their end. */
    abortedUploads: number;
    /** 401 answers (no valid session). */
    unauthorized: number;
  };
  /** Things a correct client never does (missing cookie, unsafe name, chunked upload...). */
  violations: string[];
  /** Every request line as received (path and query): for leak checks by tests only. */
  requests: string[];
  /** What the double did out of the ordinary (faults applied, answers lost), in order. */
  events: string[];
  files: Map<string, FileRecord>;
  file(waitdir: string, name: string): FileRecord | undefined;
  localPath(waitdir: string, name: string): string;
  addWaitdir(name: string): Promise<void>;
  activeSessions(): number;
  expireSessions(): void;
  inject(...faults: Fault[]): void;
  pendingFaults(): number;
  clearFaults(): void;
  /** Waits until every request received so far is fully handled (slow answers included). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

const UNSAFE = (s: string) => s === '' || /[/\\]/.test(s) || s.includes('..') || /[\u0000-\u001f\u007f]/.test(s) || /^[A-Za-z]:/.test(s);
const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

export async function startEzgedDouble(opts: EzgedDoubleOptions = {}): Promise<EzgedDouble> {
  const accounts = opts.accounts ?? [{ login: 'cold', password: 'secret' }];
  const token = opts.token ?? FACTORY_TOKEN;
  const basePath = (opts.basePath ?? '/ezged3').replace(/\/+$/, '');
  const idleMs = opts.sessionIdleMs ?? 60_000;
  const maxSessions = opts.maxSessions ?? 20;
  const storeFiles = opts.storeFiles ?? true;
  const spool = opts.serverSpool ?? 'C:\\nchp\\var\\spool\\ezged\\instance';
  const ownRoot = !opts.root;
  const root = opts.root ?? (await mkdtemp(join(tmpdir(), 'ezged-double-')));
  const incoming = join(root, '.incoming');
  await mkdir(incoming, { recursive: true });
  const sessions = new Map<string, Session>();
  const faults: (Fault & { left: number })[] = [];
  const stats = { loginAttempts: 0, sessionsOpened: 0, logouts: 0, keepalives: 0, uploadRequests: 0, lostAnswers: 0, abortedUploads: 0, unauthorized: 0 };
  const violations: string[] = [];
  const requests: string[] = [];
  const events: string[] = [];
  const inFlight = new Set<Promise<void>>();
  const files = new Map<string, FileRecord>();
  const waitdirs = new Set<string>();

  async function addWaitdir(name: string): Promise<void> {
    if (UNSAFE(name)) throw new Error(`unsafe waitdir ${name}`);
    await mkdir(join(root, name), { recursive: true });
    waitdirs.add(name);
  }
  for (const w of opts.waitdirs ?? []) await addWaitdir(w);

  /** Takes the first pending fault for this endpoint (of one of `kinds`). */
  function takeFault<K extends Fault['kind']>(endpoint: Endpoint, ...kinds: K[]): Extract<Fault, { kind: K }> | undefined {
    const i = faults.findIndex((f) => kinds.includes(f.kind as K) && ('on' in f ? f.on === endpoint || f.on === 'any' : endpoint === 'login'));
    if (i < 0) return undefined;
    const f = faults[i]!;
    if (--f.left <= 0) faults.splice(i, 1);
    events.push(`${endpoint}: fault ${JSON.stringify({ ...f, left: undefined })}`);
    return f as unknown as Extract<Fault, { kind: K }>;
  }

  function liveSession(id: string | null, cookieHeader: string | undefined, what: string): Session | undefined {
    const now = Date.now();
    for (const [k, s] of sessions) if (now - s.lastSeen > idleMs) sessions.delete(k);
    if (!id) return undefined;
    const s = sessions.get(id);
    if (!s) return undefined;
    const cookies = new Map((cookieHeader ?? '').split(';').map((c) => c.trim().split('=') as [string, string]));
    if (cookies.get(SESSION_COOKIE) !== s.cookie) {
      violations.push(`${what}: sessionid without its session cookie`);
      return undefined;
    }
    s.lastSeen = now;
    return s;
  }

  function json(res: ServerResponse, status: number, body: unknown, contentType = 'application/json; charset=utf-8', headers: Record<string, string> = {}): Promise<boolean> {
    return new Promise((resolve) => {
      // The client may have given up meanwhile (timeout): then the answer is lost.
      if (res.destroyed || !res.socket || res.socket.destroyed) return resolve(false);
      const text = JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), ...headers });
      res.once('finish', () => resolve(true));
      res.once('close', () => resolve(res.writableFinished));
      res.end(text);
    });
  }

  function html(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
    const text = `<html><body><h1>${status} ${http.STATUS_CODES[status] ?? ''}</h1></body></html>`;
    res.writeHead(status, { 'Content-Type': 'text/html; charset=iso-8859-1', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  async function drain(req: IncomingMessage): Promise<void> {
    try {
      for await (const _ of req) void _;
    } catch {
      // the client went away
    }
  }

  /** Applies the arrival-time faults; true when the request was handled by a fault. */
  async function arrivalFault(endpoint: Endpoint, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (takeFault(endpoint, 'expire-sessions')) sessions.clear();
    const drop = faults.find((f) => f.kind === 'drop' && f.stage === 'on-arrival' && (f.on === endpoint || f.on === 'any'));
    if (drop) {
      if (--drop.left <= 0) faults.splice(faults.indexOf(drop), 1);
      events.push(`${endpoint}: dropped on arrival`);
      req.socket.destroy();
      return true;
    }
    const status = takeFault(endpoint, 'status');
    if (status) {
      await drain(req);
      html(res, status.status, status.retryAfterSeconds !== undefined ? { 'Retry-After': String(status.retryAfterSeconds) } : {});
      return true;
    }
    return false;
  }

  function afterWriteDrop(endpoint: Endpoint): boolean {
    const drop = faults.find((f) => f.kind === 'drop' && f.stage === 'after-write' && (f.on === endpoint || f.on === 'any'));
    if (!drop) return false;
    if (--drop.left <= 0) faults.splice(faults.indexOf(drop), 1);
    events.push(`${endpoint}: dropped after the work was done`);
    return true;
  }

  async function service(req: IncomingMessage, res: ServerResponse, q: URLSearchParams): Promise<void> {
    const name = q.get('service');
    if (req.method !== 'GET' && req.method !== 'POST') return html(res, 405);
    const endpoint: Endpoint = name === 'sec/authenticate' ? 'login' : name === 'secses/keepalive' ? 'keepalive' : name === 'secses/delete' ? 'logout' : 'any';
    if (endpoint === 'login') stats.loginAttempts++;
    if (endpoint === 'keepalive') stats.keepalives++;
    if (await arrivalFault(endpoint, req, res)) return;
    await drain(req);
    const slow = takeFault(endpoint, 'slow');
    const answer = async (status: number, body: unknown, headers: Record<string, string> = {}) => {
      if (slow) await sleep(slow.delayMs);
      if (afterWriteDrop(endpoint)) return void req.socket.destroy();
      await json(res, status, body, undefined, headers);
    };
    const noSession = () => {
      stats.unauthorized++;
      return answer(401, { errorcode: 401, errormsg: 'No valid session', rows: [], count: 0 });
    };

    if (name === 'sec/authenticate') {
      if (takeFault('login', 'too-many-sessions') || activeCount() >= maxSessions) {
        return answer(200, { errorcode: -18, errormsg: 'Maximum number of sessions reached', rows: [], count: 0 });
      }
      const login = q.get('login') ?? '';
      const pwd = q.get('pwd') ?? '';
      const domain = q.get('domain');
      const account = accounts.find((a) => a.login === login);
      const ok = account && (domain ? account.domain === domain && pwd === account.password : !account.domain && pwd === md5(account.password));
      if (!account || !ok) return answer(200, { errorcode: -1, errormsg: 'Bad login or password', rows: [], count: 0 });
      const s: Session = { id: String(100_000_000 + Math.floor(Math.random() * 899_999_999)), cookie: randomBytes(13).toString('hex'), login, lastSeen: Date.now() };
      sessions.set(s.id, s);
      stats.sessionsOpened++;
      const secure = opts.tls ? '; secure' : '';
      return answer(200, { errorcode: 0, errormsg: "You're authenticated !", rows: { sessionid: s.id }, count: 1 }, {
        'Set-Cookie': `${SESSION_COOKIE}=${s.cookie}; path=${basePath}/; HttpOnly${secure}`,
      });
    }
    if (name === 'secses/keepalive') {
      if (!liveSession(q.get('sessionid'), req.headers.cookie, 'keepalive')) return noSession();
      return answer(200, { errorcode: 0, errormsg: 'Ok', rows: [], count: 0 });
    }
    if (name === 'secses/delete') {
      const id = q.get('sessionid');
      if (!liveSession(id, req.headers.cookie, 'logout')) return noSession();
      if (q.get('secsesid') !== id) violations.push('logout: secsesid differs from sessionid');
      sessions.delete(id!);
      stats.logouts++;
      return answer(200, { errorcode: 0, errormsg: 'Ok', rows: [], count: 0 });
    }
    return answer(200, { errorcode: -2, errormsg: `Unknown service ${name ?? ''}`, rows: [], count: 0 });
  }

  function activeCount(): number {
    const now = Date.now();
    for (const [k, s] of sessions) if (now - s.lastSeen > idleMs) sessions.delete(k);
    return sessions.size;
  }

  async function upload(req: IncomingMessage, res: ServerResponse, q: URLSearchParams): Promise<void> {
    stats.uploadRequests++;
    if (req.method !== 'POST') return html(res, 405);
    if (await arrivalFault('upload', req, res)) return;
    if (req.headers['content-length'] === undefined) {
      violations.push('upload without Content-Length');
      req.socket.destroy();
      return;
    }
    const boundary = /^multipart\/form-data;.*\bboundary=(?:"([^"]+)"|([^;\s]+))/i.exec(req.headers['content-type'] ?? '');
    const part = { found: 0, size: 0, sha256: '', temp: undefined as string | undefined, out: undefined as WriteStream | undefined };
    let complete = false;
    try {
      if (!boundary) {
        violations.push('upload is not multipart/form-data with a boundary');
        await drain(req);
      } else {
        const reader = new MultipartReader(boundary[1] ?? boundary[2]!, (headers) => {
          if (headers.name !== 'file' || headers.filename === undefined) return undefined;
          part.found++;
          return fileSink(part);
        });
        for await (const chunk of req) await reader.push(chunk as Buffer);
        complete = reader.done;
        if (!complete) violations.push('multipart body without its closing boundary');
      }
    } catch {
      stats.abortedUploads++;
      events.push('upload: cut off by the client');
      part.out?.destroy();
      if (part.temp) await unlink(part.temp).catch(() => undefined);
      return;
    }
    const unwritten = async (status: number, body: Record<string, unknown>, unauthorized = status === 401) => {
      if (part.temp) await unlink(part.temp).catch(() => undefined);
      if (unauthorized) stats.unauthorized++;
      await json(res, status, body, 'text/html; charset=UTF-8');
    };
    const refuse = (status: number, message: string) => unwritten(status, { success: false, message });
    if (q.get('token') !== token) return refuse(403, 'Invalid token');
    if (!liveSession(q.get('sessionid'), req.headers.cookie, 'upload')) {
      if (opts.uploadSessionLoss !== 'errorcode') return refuse(401, 'No valid session');
      return unwritten(200, { success: false, errorcode: 401, errormsg: 'No valid session' }, true);
    }
    if (q.get('mode') !== 'cold') return refuse(200, 'mode must be cold');
    const waitdir = q.get('waitdir') ?? '';
    const name = q.get('name') ?? '';
    if (UNSAFE(waitdir)) {
      violations.push(`unsafe waitdir ${JSON.stringify(waitdir)}`);
      return refuse(200, 'Invalid waitdir');
    }
    if (UNSAFE(name)) {
      violations.push(`unsafe name ${JSON.stringify(name)}`);
      return refuse(200, 'Invalid file name');
    }
    if (!waitdirs.has(waitdir) || !(await stat(join(root, waitdir)).catch(() => undefined))?.isDirectory()) {
      return refuse(200, `Wait directory ${waitdir} does not exist`);
    }
    if (part.found !== 1 || !complete) return refuse(200, 'No file uploaded');

    if (part.temp) await rename(part.temp, join(root, waitdir, name));
    const key = `${waitdir}/${name}`;
    const rec = files.get(key) ?? { waitdir, name, size: 0, sha256: '', writes: 0, successAnswers: 0 };
    Object.assign(rec, { size: part.size, sha256: part.sha256, writes: rec.writes + 1 });
    files.set(key, rec);

    // One fault per written upload: a slow answer, or a dropped one.
    const slow = takeFault('upload', 'slow');
    if (slow) await sleep(slow.delayMs);
    else if (afterWriteDrop('upload')) {
      stats.lostAnswers++;
      req.socket.destroy();
      return;
    }
    const filePath = `${spool}\\ocr\\wait\\${waitdir}\\${name}`;
    if (await json(res, 200, { success: true, filePath }, 'text/html; charset=UTF-8')) rec.successAnswers++;
    else {
      stats.lostAnswers++;
      events.push(`upload: ${key} written, the client was gone before the answer`);
    }
  }

  function fileSink(part: { size: number; sha256: string; temp?: string; out?: WriteStream }): PartSink {
    const hash = createHash('sha256');
    let out: WriteStream | undefined;
    if (storeFiles) {
      part.temp = join(incoming, randomUUID());
      out = part.out = createWriteStream(part.temp);
    }
    return {
      async write(buf) {
        part.size += buf.length;
        hash.update(buf);
        if (out && !out.write(buf)) await new Promise<void>((r) => out!.once('drain', () => r()));
      },
      async end() {
        part.sha256 = hash.digest('hex');
        if (out) await new Promise<void>((resolve, reject) => out!.end((err?: Error | null) => (err ? reject(err) : resolve())));
      },
    };
  }

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://double');
    requests.push(`${req.method} ${req.url}`);
    const handle =
      url.pathname === `${basePath}/data/service.php`
        ? service(req, res, url.searchParams)
        : url.pathname === `${basePath}/data/pupload.php`
          ? upload(req, res, url.searchParams)
          : Promise.resolve(html(res, 404));
    const tracked = handle.catch((err) => {
      violations.push(`double failed: ${(err as Error).message}`);
      if (!res.headersSent) html(res, 500);
    });
    inFlight.add(tracked);
    void tracked.finally(() => inFlight.delete(tracked));
  };
  const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const host = opts.tls ? 'localhost' : '127.0.0.1';

  return {
    url: `${opts.tls ? 'https' : 'http'}://${host}:${port}${basePath}`,
    port,
    root,
    stats,
    violations,
    requests,
    events,
    files,
    file: (w, n) => files.get(`${w}/${n}`),
    localPath: (w, n) => join(root, w, n),
    addWaitdir,
    activeSessions: activeCount,
    expireSessions: () => sessions.clear(),
    inject: (...fs) => faults.push(...fs.map((f) => ({ ...f, left: f.times ?? 1 }))),
    pendingFaults: () => faults.length,
    clearFaults: () => void faults.splice(0),
    async settled() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownRoot) await rm(root, { recursive: true, force: true });
    },
  };
}

interface PartSink {
  write(buf: Buffer): Promise<void>;
  end(): Promise<void>;
}

interface PartHeaders {
  name?: string;
  filename?: string;
}

/** A streaming multipart/form-data reader: parts go to sinks as they arrive. */
class MultipartReader {
  private buf: Buffer = Buffer.alloc(0);
  private state: 'preamble' | 'headers' | 'body' | 'done' = 'preamble';
  private sink: PartSink | undefined;
  private readonly first: Buffer;
  private readonly delim: Buffer;

  constructor(
    boundary: string,
    private readonly onPart: (h: PartHeaders) => PartSink | undefined,
  ) {
    this.first = Buffer.from(`--${boundary}`);
    this.delim = Buffer.from(`\r\n--${boundary}`);
  }

  get done(): boolean {
    return this.state === 'done';
  }

  async push(chunk: Buffer): Promise<void> {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (this.state === 'done') {
        this.buf = Buffer.alloc(0);
        return;
      }
      if (this.state === 'preamble') {
        const i = this.buf.indexOf(this.first);
        if (i < 0 || this.buf.length < i + this.first.length + 2) return;
        const after = this.buf.subarray(i + this.first.length, i + this.first.length + 2).toString('latin1');
        this.buf = this.buf.subarray(i + this.first.length + 2);
        this.state = after === '--' ? 'done' : 'headers';
        continue;
      }
      if (this.state === 'headers') {
        const i = this.buf.indexOf('\r\n\r\n');
        if (i < 0) {
          if (this.buf.length > 16_384) throw new Error('part headers too long');
          return;
        }
        const headers = parseHeaders(this.buf.subarray(0, i).toString('utf8'));
        this.buf = this.buf.subarray(i + 4);
        this.sink = this.onPart(headers);
        this.state = 'body';
        continue;
      }
      // body
      const i = this.buf.indexOf(this.delim);
      if (i < 0 || this.buf.length < i + this.delim.length + 2) {
        const keep = this.delim.length + 2;
        if (this.buf.length > keep) {
          const cut = i >= 0 ? i : this.buf.length - keep;
          await this.sink?.write(this.buf.subarray(0, cut));
          this.buf = Buffer.from(this.buf.subarray(cut));
        }
        return;
      }
      await this.sink?.write(this.buf.subarray(0, i));
      await this.sink?.end();
      this.sink = undefined;
      const after = this.buf.subarray(i + this.delim.length, i + this.delim.length + 2).toString('latin1');
      this.buf = this.buf.subarray(i + this.delim.length + 2);
      this.state = after === '--' ? 'done' : 'headers';
    }
  }
}

function parseHeaders(text: string): PartHeaders {
  const out: PartHeaders = {};
  for (const line of text.split('\r\n')) {
    const m = /^content-disposition:\s*form-data(.*)$/i.exec(line);
    if (!m) continue;
    for (const p of m[1]!.matchAll(/;\s*([a-z*]+)="((?:[^"\\]|\\.)*)"/gi)) {
      if (p[1]!.toLowerCase() === 'name') out.name = p[2];
      if (p[1]!.toLowerCase() === 'filename') out.filename = p[2];
    }
  }
  return out;
}

/** A self-signed certificate for localhost / 127.0.0.1 (openssl), for the HTTPS double. */
export function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ezged-cert-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

import { describeError } from '../errors';
import { silentLogger, type Logger } from '../util/log';
import { readServiceAnswer, type ServiceAnswer } from './answers';
import { DEFAULT_SESSION_IDLE_MS, type EzgedConnection } from './connection';
import { EzgedError, isSessionLost } from './errors';
import { exchange, safeUrl } from './exchange';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from './retry';

/** A refused login is remembered this long: no new login with the same settings meanwhile. */
export const DEFAULT_AUTH_FAILURE_HOLD_MS = 5 * 60_000;
/**
 * After a login failed for a transient reason with every short retry used (EzGED down,
 * -18 for long), other deliveries fail at once for this long instead of each waiting
 * through the same retries: their attempt is recorded and retried later with backoff.
 */
export const DEFAULT_OUTAGE_HOLD_MS = 30_000;
/** A session idle for this share of EzGED's idle time is refreshed (keep-alive) before use. */
const KEEPALIVE_SHARE = 0.5;
/** Past this share it is taken as dead: log in again without trying it. */
const DEAD_SHARE = 0.9;

export interface SessionOptions {
  /** EzGED's idle expiry of a session. */
  idleMs?: number;
  retry?: RetryPolicy;
  authFailureHoldMs?: number;
  outageHoldMs?: number;
  logger?: Logger;
  now?: () => number;
}

/** A live session as requests use it. Never logged: the id and cookie give access. */
export interface LiveSession {
  readonly id: string;
  readonly cookie: string;
  lastUsed: number;
}

/**
 * One EzGED session (sec/authenticate), shared by concurrent uploads: logged in once
 * (concurrent callers wait for the same login), kept alive while uploads run and refreshed
 * or replaced after idle time, logged in again once after a 401, backed off on -18.
 * A refused login is not repeated for `authFailureHoldMs` (no lockout of the account).
 */
export class EzgedSession {
  readonly conn: EzgedConnection;
  private readonly idleMs: number;
  private readonly retry: RetryPolicy;
  private readonly holdMs: number;
  private readonly outageHoldMs: number;
  private readonly log: Logger;
  private readonly now: () => number;
  private current?: LiveSession;
  private opening?: Promise<LiveSession>;
  private refreshing?: Promise<void>;
  private refused?: { error: EzgedError; until: number };
  private unreachable?: { error: EzgedError; until: number };
  private inFlight = 0;
  private timer?: NodeJS.Timeout;

  constructor(conn: EzgedConnection, opts: SessionOptions = {}) {
    this.conn = conn;
    this.idleMs = opts.idleMs ?? DEFAULT_SESSION_IDLE_MS;
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.holdMs = opts.authFailureHoldMs ?? DEFAULT_AUTH_FAILURE_HOLD_MS;
    this.outageHoldMs = opts.outageHoldMs ?? DEFAULT_OUTAGE_HOLD_MS;
    this.log = (opts.logger ?? silentLogger).child({ ezged: safeUrl(conn.dataUrl) });
    this.now = opts.now ?? Date.now;
  }

  get isOpen(): boolean {
    return this.current !== undefined;
  }

  /**
   * Runs `fn` with a live session. After a 401, logs in again once and runs `fn` again if
   * its request can be replayed (nothing of the document was read yet); otherwise the
   * error goes up (transient) and the next attempt finds the new session.
   */
  async run<T>(fn: (s: LiveSession) => Promise<T>, log: Logger = this.log): Promise<T> {
    for (let relogged = false; ; relogged = true) {
      const s = await this.ensure(log);
      this.begin();
      try {
        s.lastUsed = this.now();
        return await fn(s);
      } catch (err) {
        if (!isSessionLost(err)) throw err;
        this.invalidate(s);
        log.info('EzGED session expired (401): logging in again');
        if (relogged || !err.replayable) throw err;
      } finally {
        this.end();
      }
    }
  }

  /** A live session: the current one (refreshed if idle for long), or a new login. */
  async ensure(log: Logger = this.log): Promise<LiveSession> {
    const s = this.current;
    if (s) {
      const idle = this.now() - s.lastUsed;
      if (idle < this.idleMs * KEEPALIVE_SHARE) return s;
      if (idle < this.idleMs * DEAD_SHARE) {
        // A keep-alive that fails for another reason (a 503...) leaves the session in use.
        await this.refresh(s, log).catch((err) => log.debug(`keep-alive failed, using the session as it is: ${describeError(err)}`));
        if (this.current === s) return s;
      } else {
        log.debug(`EzGED session idle for ${Math.round(idle / 1000)} s: logging in again`);
        this.invalidate(s);
      }
    }
    return this.login(log);
  }

  /** Logs in (or joins the login in progress). */
  login(log: Logger = this.log): Promise<LiveSession> {
    if (this.current) return Promise.resolve(this.current);
    for (const held of [this.refused, this.unreachable]) {
      if (!held || this.now() >= held.until) continue;
      const e = held.error;
      return Promise.reject(new EzgedError(e.code, e.message, e.transient, { ezgedCode: e.ezgedCode, httpStatus: e.httpStatus, targetDown: e.transient }));
    }
    this.opening ??= withRetry(
      () => this.authenticate(),
      this.retry,
      (err) => err instanceof EzgedError && err.transient,
      (err, attempt, delay) => log.warn(`logging in to EzGED failed (${describeError(err)}): trying again in ${(delay / 1000).toFixed(1)} s (${attempt} of ${this.retry.tries})`),
    )
      .then((s) => {
        this.current = s;
        this.unreachable = undefined;
        log.info(`EzGED session opened for "${this.conn.login}"`);
        return s;
      })
      .catch((err: unknown) => {
        if (err instanceof EzgedError && err.code === 'EZGED_AUTH_FAILED') this.refused = { error: err, until: this.now() + this.holdMs };
        else if (err instanceof EzgedError && err.transient) {
          this.unreachable = { error: err, until: this.now() + this.outageHoldMs };
          // No session at all: EzGED is down for every document, none is at fault.
          throw new EzgedError(err.code, err.message, true, { cause: err.cause, ezgedCode: err.ezgedCode, httpStatus: err.httpStatus, targetDown: true });
        }
        throw err;
      })
      .finally(() => {
        this.opening = undefined;
      });
    return this.opening;
  }

  /** Forgets `s` if it is still the current session (another caller may have replaced it). */
  invalidate(s: LiveSession): void {
    if (this.current === s) this.current = undefined;
  }

  /** Logs out (secses/delete); best effort: a dead session needs nothing. */
  async logout(log: Logger = this.log): Promise<void> {
    const s = this.current;
    this.current = undefined;
    this.stopTimer();
    if (!s) return;
    try {
      await this.call('secses/delete', { sessionid: s.id, secsesid: s.id }, s, 'logging out of EzGED');
      log.info('EzGED session closed');
    } catch (err) {
      log.debug(`logging out of EzGED failed (the session will expire by itself): ${describeError(err)}`);
    }
  }

  /** Logs out and releases the connections. */
  async close(log: Logger = this.log): Promise<void> {
    await this.logout(log);
    this.conn.agent.destroy();
  }

  private async refresh(s: LiveSession, log: Logger): Promise<void> {
    this.refreshing ??= this.keepAlive(s, log).finally(() => {
      this.refreshing = undefined;
    });
    await this.refreshing;
  }

  /** secses/keepalive; a session EzGED no longer knows is forgotten. */
  private async keepAlive(s: LiveSession, log: Logger): Promise<void> {
    s.lastUsed = this.now();
    try {
      const answer = await this.call('secses/keepalive', { sessionid: s.id }, s, 'keeping the EzGED session alive');
      if (answer.errorcode !== 0) {
        log.debug(`EzGED refused the keep-alive (errorcode ${answer.errorcode}): logging in again`);
        this.invalidate(s);
      }
    } catch (err) {
      if (isSessionLost(err)) {
        log.debug('EzGED session expired: logging in again');
        this.invalidate(s);
        return;
      }
      throw err;
    }
  }

  private async authenticate(): Promise<LiveSession> {
    const what = `logging in to EzGED as "${this.conn.login}"`;
    const params: Record<string, string> = { login: this.conn.login, pwd: this.conn.pwd };
    if (this.conn.domain) params.domain = this.conn.domain;
    const url = this.serviceUrl('sec/authenticate', params);
    const answer = await exchange({ method: 'GET', url, headers: { Accept: 'application/json' }, timeoutMs: this.conn.timeoutMs, agent: this.conn.agent, what });
    let parsed: ServiceAnswer;
    try {
      parsed = readServiceAnswer(answer, what, this.conn.scrub);
    } catch (err) {
      if (isSessionLost(err) || (err instanceof EzgedError && err.httpStatus === 403)) throw refusedLogin(this.conn.login, this.conn.domain, `HTTP ${answer.status}`);
      throw err;
    }
    if (parsed.errorcode !== 0) throw refusedLogin(this.conn.login, this.conn.domain, `errorcode ${parsed.errorcode}: ${parsed.errormsg}`, parsed.errorcode);
    const rows = (Array.isArray(parsed.rows) ? parsed.rows[0] : parsed.rows) as { sessionid?: unknown } | undefined;
    const id = rows?.sessionid;
    if ((typeof id !== 'string' && typeof id !== 'number') || String(id) === '') {
      throw new EzgedError('EZGED_BAD_ANSWER', `${what}: the answer carries no sessionid`, false);
    }
    return { id: String(id), cookie: cookieOf(answer.headers['set-cookie']), lastUsed: this.now() };
  }

  /** One service.php call on session `s` (with its cookie). */
  private async call(service: string, params: Record<string, string>, s: LiveSession, what: string): Promise<ServiceAnswer> {
    const url = this.serviceUrl(service, params);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (s.cookie) headers.Cookie = s.cookie;
    const answer = await exchange({ method: 'GET', url, headers, timeoutMs: this.conn.timeoutMs, agent: this.conn.agent, what });
    return readServiceAnswer(answer, what, this.conn.scrub);
  }

  private serviceUrl(service: string, params: Record<string, string>): URL {
    const url = new URL('service.php', this.conn.dataUrl);
    url.search = `service=${service}&${new URLSearchParams(params).toString()}`;
    return url;
  }

  /** While uploads run, keep the session alive: EzGED may count a long upload as idle time. */
  private begin(): void {
    this.inFlight++;
    if (this.timer) return;
    this.timer = setInterval(() => {
      const s = this.current;
      if (!s || this.now() - s.lastUsed < this.idleMs * KEEPALIVE_SHARE) return;
      this.refresh(s, this.log).catch((err) => this.log.debug(`keep-alive failed: ${describeError(err)}`));
    }, Math.max(50, Math.round(this.idleMs * KEEPALIVE_SHARE * 0.5)));
    this.timer.unref();
  }

  private end(): void {
    if (--this.inFlight === 0) this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function refusedLogin(login: string, domain: string, detail: string, ezgedCode?: number): EzgedError {
  const fields = domain ? 'ezged.login, ezged.password and ezged.domain' : 'ezged.login and ezged.password';
  return new EzgedError(
    'EZGED_AUTH_FAILED',
    `EzGED refused the login of "${login}" (${detail}): not retried; check ${fields}, then put the dead letters back with \`cold-launcher retry --all\``,
    false,
    { ezgedCode },
  );
}

/** `Set-Cookie` lines → one `Cookie` header value (name=value pairs only). */
export function cookieOf(setCookie: string[] | undefined): string {
  const pairs = new Map<string, string>();
  for (const line of setCookie ?? []) {
    const first = line.split(';', 1)[0]?.trim() ?? '';
    const eq = first.indexOf('=');
    if (eq > 0) pairs.set(first.slice(0, eq), first.slice(eq + 1));
  }
  return [...pairs].map(([k, v]) => `${k}=${v}`).join('; ');
}

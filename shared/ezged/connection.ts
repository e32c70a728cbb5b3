import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { FACTORY_UPLOAD_TOKEN, DEFAULT_EZGED_TIMEOUT_SECONDS, type EzgedTarget } from '../config/schema';
import { registerSecret } from '../util/secrets';
import { readCa } from '../util/readCa';
import { EzgedError } from './errors';
import type { Scrub } from './answers';

/** How long EzGED keeps a session without any call (its documented ~60 s). */
export const DEFAULT_SESSION_IDLE_MS = 60_000;

/** What the client needs to reach EzGED; built once from the `ezged` block. */
export interface EzgedConnection {
  /** `{url}/data/`, where service.php and pupload.php live. */
  dataUrl: URL;
  login: string;
  domain: string;
  /** What `pwd` carries: the MD5 hex of the password, or the password itself with a domain. */
  pwd: string;
  uploadToken: string;
  timeoutMs: number;
  agent: http.Agent;
  /** Replaces the password, its MD5 and the token in a text coming from the server. */
  scrub: Scrub;
  /** Identity of this connection's settings (a hash: no secret in clear), for the session cache. */
  key: string;
}

export type EzgedApiConfig = Pick<EzgedTarget, 'url' | 'login' | 'password' | 'domain' | 'uploadToken' | 'timeoutSeconds' | 'allowInsecureHttp' | 'tls'>;

/** `https://host/ezged3` (or `.../ezged3/data`) → `https://host/ezged3/data/`. */
export function dataUrlOf(base: string): URL {
  const u = new URL(base);
  u.search = '';
  u.hash = '';
  const path = u.pathname.replace(/\/+$/, '');
  u.pathname = /\/data$/i.test(path) ? `${path}/` : `${path}/data/`;
  return u;
}

export function md5Hex(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

export function createConnection(config: EzgedApiConfig): EzgedConnection {
  if (!config.url || !config.login || !config.password) {
    throw new EzgedError('EZGED_CONFIG', 'ezged.url, ezged.login and ezged.password are required for delivery through the EzGED web API', false);
  }
  const dataUrl = dataUrlOf(config.url);
  if (dataUrl.protocol !== 'https:' && dataUrl.protocol !== 'http:') {
    throw new EzgedError('EZGED_CONFIG', `ezged.url must be an https:// address (got ${dataUrl.protocol})`, false);
  }
  if (dataUrl.protocol === 'http:' && !config.allowInsecureHttp) {
    throw new EzgedError('EZGED_CONFIG', 'ezged.url is http://: the password hash would travel in clear; use https:// or set "allowInsecureHttp": true', false);
  }
  const domain = config.domain ?? '';
  const passwordMd5 = md5Hex(config.password);
  const pwd = domain ? config.password : passwordMd5;
  const uploadToken = config.uploadToken ?? FACTORY_UPLOAD_TOKEN;
  const secrets = [config.password, passwordMd5, uploadToken].filter((s) => s.length >= 4);
  for (const s of secrets) registerSecret(s);
  const tls = config.tls ?? { rejectUnauthorized: true };
  const agent =
    dataUrl.protocol === 'https:'
      ? new https.Agent({ keepAlive: true, ca: readCa(tls.ca, (message, cause) => new EzgedError('EZGED_TLS_CA', `ezged.${message}`, false, { cause })), rejectUnauthorized: tls.rejectUnauthorized !== false, servername: tls.servername })
      : new http.Agent({ keepAlive: true });
  const key = createHash('sha256')
    .update(JSON.stringify([dataUrl.href, config.login, domain, config.password, uploadToken, tls, config.timeoutSeconds]))
    .digest('hex');
  return {
    dataUrl,
    login: config.login,
    domain,
    pwd,
    uploadToken,
    timeoutMs: (config.timeoutSeconds ?? DEFAULT_EZGED_TIMEOUT_SECONDS) * 1000,
    agent,
    scrub: (text) => secrets.reduce((t, s) => t.split(s).join('***'), text),
    key,
  };
}

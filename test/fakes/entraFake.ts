import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID, verify, X509Certificate, constants as cryptoConstants } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { closeServer, listenHttps } from './httpsListener';

/**
 * A local HTTPS fake of Microsoft Entra ID's v2.0 endpoints, strict about what the public
 * contract says: OpenID discovery, token endpoint (client_credentials with a secret or a
 * certificate-signed client assertion, device_code with authorization_pending, refresh_token
 * with rotation and invalid_grant once revoked) and the devicecode endpoint. Answers and
 * errors have the shapes of the identity platform's documentation.
 */

export interface TestCertificate {
  certPem: string;
  keyPem: string;
  certPath: string;
  keyPath: string;
}

export function opensslAvailable(): boolean {
  return spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
}

/** A self-signed certificate made by openssl now (CN=localhost, SAN localhost and 127.0.0.1). */
export async function makeTestCertificate(dir: string, name = 'server'): Promise<TestCertificate> {
  const keyPath = join(dir, `${name}-key.pem`);
  const certPath = join(dir, `${name}-cert.pem`);
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  return { certPem: await readFile(certPath, 'utf8'), keyPem: await readFile(keyPath, 'utf8'), certPath, keyPath };
}

export interface EntraApp {
  clientId: string;
  /** Confidential client with a secret. */
  secret?: string;
  /** Confidential client with a certificate (public part, PEM). */
  certificatePem?: string;
  /** Application permissions granted (admin consent), e.g. Mail.ReadWrite. */
  roles?: string[];
  /** "Allow public client flows" (device code). */
  publicClient?: boolean;
}

export interface EntraUser {
  username: string;
  name: string;
  oid: string;
}

export interface IssuedToken {
  kind: 'app' | 'user';
  clientId: string;
  tenantId: string;
  /** Resource the token is for (`https://graph.microsoft.com`). */
  resource: string;
  roles: string[];
  scopes: string[];
  username?: string;
  expiresAt: number;
}

interface RefreshGrant {
  clientId: string;
  username: string;
  scopes: string[];
  resource: string;
}

interface DeviceGrant {
  clientId: string;
  userCode: string;
  scopes: string[];
  resource: string;
  expiresAt: number;
  approvedBy?: string;
  polls: number;
  redeemed?: boolean;
}

export interface EntraFakeOptions {
  cert: TestCertificate;
  tenantId: string;
  apps: EntraApp[];
  users: EntraUser[];
  /** Lifetime of issued access tokens. MSAL renews within 5 minutes of expiry: a short one forces refreshes. */
  accessTokenSeconds?: number;
  deviceCodeInterval?: number;
  /** Approve each device code as this user once it has been polled this many times (the person signing in). */
  autoApprove?: { username: string; afterPolls: number };
}

const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);

export class EntraFake {
  readonly requests: { path: string; grantType?: string; status: number }[] = [];
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly refreshTokens = new Map<string, RefreshGrant>();
  private readonly deviceCodes = new Map<string, DeviceGrant>();
  private readonly revokedUsers = new Set<string>();
  private server!: Server;
  url = '';

  private constructor(private readonly opts: EntraFakeOptions) {}

  static async start(opts: EntraFakeOptions): Promise<EntraFake> {
    const fake = new EntraFake(opts);
    ({ server: fake.server, url: fake.url } = await listenHttps(opts.cert, (req, res) => {
      fake.handle(req, res).catch((err) => send(res, 500, { error: 'server_error', error_description: String(err) }));
    }));
    return fake;
  }

  async stop(): Promise<void> {
    await closeServer(this.server);
  }

  /** What Graph would learn from validating a bearer token; undefined when unknown or expired. */
  validate(token: string): IssuedToken | 'expired' | undefined {
    const t = this.tokens.get(token);
    if (!t) return undefined;
    return t.expiresAt <= Date.now() ? 'expired' : t;
  }

  /** The administrator (or the user) revokes every session of a user: refresh tokens stop working. */
  revokeSessions(username: string): void {
    this.revokedUsers.add(username.toLowerCase());
    for (const [rt, g] of this.refreshTokens) if (g.username.toLowerCase() === username.toLowerCase()) this.refreshTokens.delete(rt);
  }

  /** The person opens the link and signs in with the code. */
  approve(userCode: string, username: string): void {
    for (const g of this.deviceCodes.values()) if (g.userCode === userCode) g.approvedBy = username;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const [tenant, ...rest] = url.pathname.split('/').filter(Boolean);
    const route = rest.join('/');
    const body = req.method === 'POST' ? new URLSearchParams(await readText(req)) : new URLSearchParams();
    const log = (status: number) => this.requests.push({ path: url.pathname, grantType: body.get('grant_type') ?? undefined, status });

    if (tenant !== this.opts.tenantId) {
      log(400);
      aadError(res, 400, 'invalid_request', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
      return;
    }
    if (req.method === 'GET' && route === 'v2.0/.well-known/openid-configuration') {
      log(200);
      send(res, 200, this.openIdConfiguration());
      return;
    }
    if (req.method === 'POST' && route === 'oauth2/v2.0/devicecode') {
      log(this.deviceCode(body, res));
      return;
    }
    if (req.method === 'POST' && route === 'oauth2/v2.0/token') {
      log(this.token(body, res));
      return;
    }
    log(404);
    send(res, 404, { error: 'not_found' });
  }

  private openIdConfiguration(): Record<string, unknown> {
    const base = `${this.url}/${this.opts.tenantId}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${this.url}/oidc/userinfo`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
    };
  }

  private app(clientId: string | null): EntraApp | undefined {
    return this.opts.apps.find((a) => a.clientId === clientId);
  }

  private deviceCode(body: URLSearchParams, res: ServerResponse): number {
    const app = this.app(body.get('client_id'));
    if (!app) return aadError(res, 400, 'unauthorized_client', 700016, `Application with identifier '${body.get('client_id')}' was not found in the directory.`);
    if (!app.publicClient) return aadError(res, 400, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    const parsed = parseScopes(body.get('scope'));
    if ('error' in parsed) return aadError(res, 400, 'invalid_scope', 70011, parsed.error);
    const deviceCode = randomBytes(24).toString('base64url');
    const userCode = randomBytes(5).toString('hex').toUpperCase().slice(0, 9);
    const interval = this.opts.deviceCodeInterval ?? 1;
    this.deviceCodes.set(deviceCode, { clientId: app.clientId, userCode, scopes: parsed.scopes, resource: parsed.resource, expiresAt: Date.now() + 900_000, polls: 0 });
    return send(res, 200, {
      user_code: userCode,
      device_code: deviceCode,
      verification_uri: 'https://microsoft.com/devicelogin',
      expires_in: 900,
      interval,
      message: `To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code ${userCode} to authenticate.`,
    });
  }

  private token(body: URLSearchParams, res: ServerResponse): number {
    const grant = body.get('grant_type');
    const app = this.app(body.get('client_id'));
    if (!app) return aadError(res, 400, 'unauthorized_client', 700016, `Application with identifier '${body.get('client_id')}' was not found in the directory.`);
    if (grant === 'client_credentials') return this.clientCredentials(app, body, res);
    // RFC 8628's URN, or the short form MSAL sends (both accepted by the v2.0 endpoint).
    if (grant === 'urn:ietf:params:oauth:grant-type:device_code' || grant === 'device_code') return this.deviceCodeGrant(app, body, res);
    if (grant === 'refresh_token') return this.refreshGrant(app, body, res);
    return aadError(res, 400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant}'.`);
  }

  private clientCredentials(app: EntraApp, body: URLSearchParams, res: ServerResponse): number {
    const authError = this.authenticateClient(app, body);
    if (authError) return aadError(res, 401, 'invalid_client', authError.code, authError.message);
    const scope = body.get('scope') ?? '';
    if (!/^\S+\/\.default$/.test(scope.trim())) {
      return aadError(res, 400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
    }
    const resource = scope.trim().slice(0, -'/.default'.length);
    const accessToken = this.issue({ kind: 'app', clientId: app.clientId, tenantId: this.opts.tenantId, resource, roles: app.roles ?? [], scopes: [] });
    return send(res, 200, { token_type: 'Bearer', expires_in: this.lifetime(), ext_expires_in: this.lifetime(), access_token: accessToken });
  }

  /** client_secret, or a client assertion (RFC 7523) signed with the registered certificate. */
  private authenticateClient(app: EntraApp, body: URLSearchParams): { code: number; message: string } | undefined {
    const secret = body.get('client_secret');
    const assertion = body.get('client_assertion');
    if (secret !== null) {
      if (!app.secret || secret !== app.secret) return { code: 7000215, message: 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.' };
      return undefined;
    }
    if (assertion !== null) {
      if (body.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return { code: 700027, message: 'Client assertion type is invalid.' };
      if (!app.certificatePem) return { code: 700027, message: 'Client assertion contains an invalid signature. [Reason - The key was not found.]' };
      const why = checkAssertion(assertion, app, `${this.url}/${this.opts.tenantId}/oauth2/v2.0/token`);
      return why ? { code: 700027, message: `Client assertion failed signature validation. [Reason - ${why}]` } : undefined;
    }
    return { code: 7000218, message: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'." };
  }

  private deviceCodeGrant(app: EntraApp, body: URLSearchParams, res: ServerResponse): number {
    const grant = this.deviceCodes.get(body.get('device_code') ?? '');
    if (!grant || grant.clientId !== app.clientId || grant.redeemed) return aadError(res, 400, 'invalid_grant', 70000, 'The provided value for the input parameter device_code is not valid.');
    if (grant.expiresAt < Date.now()) return aadError(res, 400, 'expired_token', 70020, 'The provided value for the input parameter device_code is expired.');
    grant.polls++;
    const auto = this.opts.autoApprove;
    if (!grant.approvedBy && auto && grant.polls > auto.afterPolls) grant.approvedBy = auto.username;
    if (!grant.approvedBy) return aadError(res, 400, 'authorization_pending', 70016, 'OAuth 2.0 device flow error. Authorization is pending. Continue polling.');
    grant.redeemed = true;
    return this.userTokens(res, app, grant.approvedBy, grant.scopes, grant.resource);
  }

  private refreshGrant(app: EntraApp, body: URLSearchParams, res: ServerResponse): number {
    const rt = body.get('refresh_token') ?? '';
    const grant = this.refreshTokens.get(rt);
    if (!grant || grant.clientId !== app.clientId) {
      return aadError(res, 400, 'invalid_grant', 50173, "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.", 'bad_token');
    }
    if (this.revokedUsers.has(grant.username.toLowerCase())) {
      return aadError(res, 400, 'invalid_grant', 50173, 'The provided grant has expired due to it being revoked, a fresh auth token is needed.', 'bad_token');
    }
    const parsed = parseScopes(body.get('scope'));
    if ('error' in parsed) return aadError(res, 400, 'invalid_scope', 70011, parsed.error);
    const missing = parsed.scopes.filter((s) => !grant.scopes.includes(s));
    if (missing.length || parsed.resource !== grant.resource) {
      return aadError(res, 400, 'invalid_grant', 65001, `The user or administrator has not consented to use the application with ID '${app.clientId}'. Send an interactive authorization request for this user and resource.`, 'consent_required');
    }
    this.refreshTokens.delete(rt); // rotation: the old refresh token is spent
    return this.userTokens(res, app, grant.username, grant.scopes, grant.resource);
  }

  private userTokens(res: ServerResponse, app: EntraApp, username: string, scopes: string[], resource: string): number {
    const user = this.opts.users.find((u) => u.username.toLowerCase() === username.toLowerCase());
    if (!user) return aadError(res, 400, 'invalid_grant', 50034, `The user account ${username} does not exist in the directory.`);
    const accessToken = this.issue({ kind: 'user', clientId: app.clientId, tenantId: this.opts.tenantId, resource, roles: [], scopes, username: user.username });
    const refreshToken = `rt.${randomBytes(32).toString('base64url')}`;
    this.refreshTokens.set(refreshToken, { clientId: app.clientId, username: user.username, scopes, resource });
    const now = Math.floor(Date.now() / 1000);
    const idToken = [
      b64url({ typ: 'JWT', alg: 'RS256', kid: 'test-key' }),
      b64url({
        aud: app.clientId, iss: `${this.url}/${this.opts.tenantId}/v2.0`, iat: now, nbf: now, exp: now + 3600,
        name: user.name, oid: user.oid, preferred_username: user.username, sub: createHash('sha256').update(user.oid + app.clientId).digest('base64url'),
        tid: this.opts.tenantId, ver: '2.0',
      }),
      randomBytes(32).toString('base64url'),
    ].join('.');
    return send(res, 200, {
      token_type: 'Bearer',
      scope: [...scopes.map((s) => `${resource}/${s}`), 'openid', 'profile'].join(' '),
      expires_in: this.lifetime(),
      ext_expires_in: this.lifetime(),
      access_token: accessToken,
      refresh_token: refreshToken,
      id_token: idToken,
      client_info: b64url({ uid: user.oid, utid: this.opts.tenantId }),
    });
  }

  private lifetime(): number {
    return this.opts.accessTokenSeconds ?? 3599;
  }

  private issue(t: Omit<IssuedToken, 'expiresAt'>): string {
    const token = `eyJ0eXAiOiJKV1QifQ.${randomBytes(32).toString('base64url')}.${randomUUID()}`;
    this.tokens.set(token, { ...t, expiresAt: Date.now() + this.lifetime() * 1000 });
    return token;
  }
}

function parseScopes(scope: string | null): { scopes: string[]; resource: string } | { error: string } {
  const names: string[] = [];
  let resource: string | undefined;
  for (const s of (scope ?? '').split(/\s+/).filter(Boolean)) {
    if (OIDC_SCOPES.has(s)) continue;
    const cut = s.lastIndexOf('/');
    if (cut <= 'https://'.length) return { error: `The provided value '${s}' for scope is not valid: a resource is expected.` };
    const r = s.slice(0, cut);
    if (resource && r !== resource) return { error: 'AADSTS28000: Provided value for the input parameter scope is not valid because it contains more than one resource.' };
    resource = r;
    names.push(s.slice(cut + 1));
  }
  if (!resource) return { error: 'The provided value for the input parameter scope is not valid: no resource.' };
  return { scopes: names, resource };
}

function checkAssertion(jwt: string, app: EntraApp, tokenEndpoint: string): string | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3) return 'not a JWT';
  const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString()) as Record<string, string>;
  const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString()) as Record<string, unknown>;
  const cert = new X509Certificate(app.certificatePem!);
  const sha256 = createHash('sha256').update(cert.raw).digest('base64url');
  const sha1 = createHash('sha1').update(cert.raw).digest('base64url');
  if (header['x5t#S256'] !== sha256 && header.x5t !== sha1) return 'the thumbprint does not match a registered certificate';
  const data = Buffer.from(`${parts[0]}.${parts[1]}`);
  const signature = Buffer.from(parts[2]!, 'base64url');
  const ok =
    header.alg === 'PS256'
      ? verify('sha256', data, { key: cert.publicKey, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: cryptoConstants.RSA_PSS_SALTLEN_DIGEST }, signature)
      : header.alg === 'RS256'
        ? verify('sha256', data, cert.publicKey, signature)
        : false;
  if (!ok) return 'signature does not verify';
  if (claims.iss !== app.clientId || claims.sub !== app.clientId) return 'iss and sub must be the client id';
  if (claims.aud !== tokenEndpoint) return `aud must be ${tokenEndpoint}`;
  if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) return 'expired';
  return undefined;
}

function aadError(res: ServerResponse, status: number, error: string, code: number, description: string, suberror?: string): number {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return send(res, status, {
    error,
    error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    ...(suberror ? { suberror } : {}),
  });
}

function send(res: ServerResponse, status: number, body: unknown): number {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store, no-cache', 'content-length': Buffer.byteLength(text) });
  res.end(text);
  return status;
}

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

function b64url(v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString('base64url');
}

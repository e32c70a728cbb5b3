import { z } from 'zod';
import { compileFilenameFilter } from '../routing/filenameFilter';
import { normalizeGroup } from '../routing/scenarios';
import { unsafeSegmentReason } from '../routing/safeName';
import { ALWAYS, parseSchedule } from '../schedule/ezgedSchedule';

/** Seconds a file must stay unchanged before it is taken (EzGED's "temporisation"). */
export const DEFAULT_DELAY_SECONDS = 30;
/** Items one launcher takes in one run at most; the rest wait for the next run. */
export const DEFAULT_MAX_ITEMS_PER_RUN = 500;
/** Time zone the schedule rows are read in (EzGED admins think in local time). */
export const DEFAULT_TIMEZONE = 'Europe/Paris';
/** Delivery attempts before a document is dead-lettered. */
export const DEFAULT_MAX_ATTEMPTS = 8;
export const DEFAULT_EZGED_TIMEOUT_SECONDS = 120;
/** EzGED's factory upload token (server setting `upload_token`). */
export const FACTORY_UPLOAD_TOKEN = 'c3e335143464469a1ca542c21147f913';

const PROTOCOLS = ['folder', 'imap', 'pop3', 'o365', 'adullact'] as const;
const DEFAULT_TLS_PORTS = new Set([993, 995]);

const safeSegment = (what: string) =>
  z.string().superRefine((v, ctx) => {
    const why = unsafeSegmentReason(v);
    if (why) ctx.addIssue({ code: 'custom', message: `${what} ${why}` });
  });

const scenarioSchema = z.strictObject({
  group: z.string().min(1).optional(),
  job: z.union([z.string(), z.number()]).transform(String).optional(),
  waitdir: safeSegment('waitdir'),
  description: z.string().optional(),
});

const scenariosSchema = z
  .array(scenarioSchema)
  .min(1, 'at least one scenario is needed (a row without group is the default)')
  .superRefine((rows, ctx) => {
    const seen = new Map<string, number>();
    let defaults = 0;
    rows.forEach((s, i) => {
      if (s.group === undefined) {
        if (++defaults > 1) ctx.addIssue({ code: 'custom', path: [i], message: 'more than one default scenario (row without group)' });
        return;
      }
      const g = normalizeGroup(s.group);
      const first = seen.get(g);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'group'], message: `group "${s.group}" is already used by scenarios[${first}]` });
      else seen.set(g, i);
    });
  });

const EPOCH = new Date(0);

const scheduleSchema = z
  .array(z.string())
  .min(1)
  .default([ALWAYS])
  .superRefine((rows, ctx) => {
    rows.forEach((row, i) => {
      try {
        // A row that can match no date at all (30 February) would silently never run. A row
        // whose dates are all past (a year gone by) is not refused here, or a definition valid
        // today would stop every launcher one New Year: `check` and the run say so instead.
        if (!parseSchedule([row]).next(EPOCH)) ctx.addIssue({ code: 'custom', path: [i], message: `never fires: "${row}" matches no date` });
      } catch (err) {
        const field = (err as { field?: string }).field;
        ctx.addIssue({ code: 'custom', path: [i], message: `${field ? field + ' ' : ''}${(err as Error).message} in "${row}"` });
      }
    });
  });

const filterSchema = z.string().superRefine((v, ctx) => {
  try {
    compileFilenameFilter(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

const tlsSchema = z.strictObject({
  /** Verify the server certificate (default). false only for a test server you trust. */
  rejectUnauthorized: z.boolean().default(true),
  /** PEM of a private CA to trust, or a path to it. */
  ca: z.string().optional(),
  servername: z.string().optional(),
});

const common = {
  id: z.union([z.string().trim().min(1), z.number().int()], { error: 'required: a non-empty text or a whole number' }).transform(String),
  description: z.string().default(''),
  enabled: z.boolean().default(true),
  delaySeconds: z.number().int().min(0).max(86_400).default(DEFAULT_DELAY_SECONDS),
  filenameFilter: filterSchema.optional(),
  scenarios: scenariosSchema,
  schedule: scheduleSchema,
  maxItemsPerRun: z.number().int().min(1).max(100_000).default(DEFAULT_MAX_ITEMS_PER_RUN),
};

const mailServer = {
  server: z.string().min(1),
  port: z.number().int().min(1).max(65_535).optional(),
  user: z.string().min(1),
  password: z.string().min(1).optional(),
  /** tls = implicit TLS, starttls = upgrade, none = clear text (needs allowInsecure). */
  security: z.enum(['tls', 'starttls', 'none']).optional(),
  allowInsecure: z.boolean().default(false),
  tls: tlsSchema.default({ rejectUnauthorized: true }),
  timeoutSeconds: z.number().int().min(1).max(3_600).default(60),
};

const mailDocuments = {
  includeInline: z.boolean().default(false),
  withoutAttachments: z.enum(['skip', 'eml', 'body']).default('skip'),
  wholeMessage: z.boolean().default(false),
  unpackAttachedMessages: z.boolean().default(false),
};

const moveOr = (...words: string[]) =>
  z.string().regex(new RegExp(`^(${words.join('|')}|move:.+)$`), `must be ${words.map((w) => `"${w}"`).join(', ')} or "move:<folder>"`);

const folderSchema = z.strictObject({
  ...common,
  protocol: z.literal('folder'),
  source: z.string().min(1, 'the folder to scan is required'),
  afterSuccess: moveOr('delete').default('delete'),
  recursive: z.boolean().default(false),
  includeHidden: z.boolean().default(false),
  includeTemporary: z.boolean().default(false),
  /** Where files that cannot be taken are moved, with a `.error.txt` beside them. */
  failedFolder: z.string().min(1).optional(),
});

/** IMAP: runs in a row in which a message failed before it goes to `failedFolder`. */
export const DEFAULT_IMAP_MAX_FAILURES = 5;

const imapOauth2Schema = z.strictObject({
  type: z.literal('oauth2'),
  /**
   * Where the XOAUTH2 access token comes from: `static` (`accessToken`, refreshed by
   * someone else), `google` / `microsoft` / `refresh-token` (OAuth2 refresh-token grant
   * with `clientId`, `clientSecret`, `refreshToken`; `tokenUrl` for `refresh-token`,
   * `tenantId` for `microsoft`), or a provider registered in code.
   */
  provider: z.string().min(1).default('static'),
  accessToken: z.string().min(1).optional(),
  clientId: z.string().min(1).optional(),
  clientSecret: z.string().min(1).optional(),
  refreshToken: z.string().min(1).optional(),
  tenantId: z.string().min(1).optional(),
  tokenUrl: z.url().optional(),
  scope: z.string().min(1).optional(),
});

const imapSchema = z
  .strictObject({
    ...common,
    ...mailServer,
    ...mailDocuments,
    protocol: z.literal('imap'),
    /** The folder to watch; nested folders as `Parent/Child` (or with the server's own separator). */
    source: z.string().min(1).default('INBOX'),
    afterSuccess: z
      .string()
      .regex(/^(seen|delete|flag|move:.+)$/, 'must be "seen", "delete", "flag" or "move:<folder>"')
      .default('seen'),
    failedFolder: z.string().min(1).optional(),
    /** Runs in a row a message may fail before it is moved to `failedFolder`. */
    maxFailures: z.number().int().min(1).max(1_000).default(DEFAULT_IMAP_MAX_FAILURES),
    /** Messages taken per run at most (oldest first); overrides `maxItemsPerRun`. */
    maxMessagesPerRun: z.number().int().min(1).max(100_000).optional(),
    auth: imapOauth2Schema.optional(),
  })
  .superRefine((l, ctx) => {
    if (!l.password === !l.auth) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'give exactly one of "password" (e.g. a Gmail app password) or "auth" (OAuth2)' });
    }
    if (l.auth?.provider === 'static' && !l.auth.accessToken) {
      ctx.addIssue({ code: 'custom', path: ['auth', 'accessToken'], message: 'required with the "static" provider' });
    }
    if (l.failedFolder && l.failedFolder === l.source) {
      ctx.addIssue({ code: 'custom', path: ['failedFolder'], message: 'must differ from the watched folder' });
    }
    if (l.afterSuccess === `move:${l.source}`) {
      ctx.addIssue({ code: 'custom', path: ['afterSuccess'], message: 'cannot move messages into the watched folder itself' });
    }
  });

const pop3Schema = z.strictObject({
  ...common,
  ...mailServer,
  ...mailDocuments,
  protocol: z.literal('pop3'),
  password: z.string({ error: 'required: the mailbox password (for Gmail an app password), e.g. "%POP3_PASSWORD%"' }).min(1),
  source: z.undefined({ error: 'POP3 has a single mailbox per account: remove "source" (folders exist only with IMAP)' }).optional(),
  /** `delete`: DELE once every document is staged, committed by QUIT; `keep`: left on the server, its UIDL remembered. */
  afterSuccess: z.enum(['delete', 'keep'], { error: 'must be "delete" or "keep"' }).default('delete'),
  /** Runs in a row a message may fail before it is set aside (left on the server, skipped from then on). */
  maxFailures: z.number().int().min(1).max(1_000).default(DEFAULT_IMAP_MAX_FAILURES),
});

/** Microsoft Entra ID (global cloud); national clouds set `authorityHost` (e.g. https://login.microsoftonline.us). */
export const DEFAULT_O365_AUTHORITY_HOST = 'https://login.microsoftonline.com';
/** Microsoft Graph (global cloud); national clouds set `graphEndpoint` (e.g. https://graph.microsoft.us). */
export const DEFAULT_O365_GRAPH_ENDPOINT = 'https://graph.microsoft.com';
const httpsUrl = z.url().refine((u) => u.startsWith('https://'), 'must be an https:// URL').transform((u) => u.replace(/\/+$/, ''));
const hexThumbprint = z
  .string()
  .transform((v) => v.replace(/[\s:]/g, '').toLowerCase())
  .refine((v) => /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(v), 'must be the hex SHA-1 (40 digits) or SHA-256 (64 digits) thumbprint of the certificate');

const o365Schema = z
  .strictObject({
    ...common,
    ...mailDocuments,
    protocol: z.literal('o365'),
    /** `inbox` (or another well-known folder), a path `Inbox/Factures`, or `address:folder` (another or shared mailbox). */
    source: z.string().trim().min(1).default('inbox'),
    /** `delegated`: linked once with `cold-launcher o365 link <id>` (device code), as EzGED does. `app-only`: client credentials. */
    authMode: z.enum(['delegated', 'app-only']).default('delegated'),
    tenantId: z.string().trim().min(1),
    clientId: z.string().trim().min(1),
    clientSecret: z.string().min(1).optional(),
    certificate: z
      .strictObject({ thumbprint: hexThumbprint, privateKey: z.string().min(1), x5c: z.string().min(1).optional() })
      .optional(),
    authorityHost: httpsUrl.default(DEFAULT_O365_AUTHORITY_HOST),
    graphEndpoint: httpsUrl.default(DEFAULT_O365_GRAPH_ENDPOINT),
    afterSuccess: moveOr('read', 'delete').default('read'),
    /** Messages that can never be taken are moved there (same mailbox); otherwise left in place and reported. */
    failedFolder: z.string().min(1).optional(),
    /** First synchronisation of a folder (and after Graph asks for a full resync): only unread messages, or all. */
    initialSync: z.enum(['unread', 'all']).default('unread'),
    timeoutSeconds: z.number().int().min(1).max(3_600).default(60),
    /** A private CA to trust (TLS-inspecting proxy); `rejectUnauthorized: false` only for a test server. */
    tls: tlsSchema.default({ rejectUnauthorized: true }),
  })
  .superRefine((l, ctx) => {
    if (l.unpackAttachedMessages) {
      ctx.addIssue({ code: 'custom', path: ['unpackAttachedMessages'], message: 'not available with o365: attached mails are staged as .eml' });
    }
    if (l.authMode === 'app-only') {
      if (!l.clientSecret === !l.certificate) {
        ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: 'app-only needs exactly one of "clientSecret" or "certificate"' });
      }
      if (!/^[^:/\s]+@[^:/\s]+:/.test(l.source)) {
        ctx.addIssue({ code: 'custom', path: ['source'], message: 'app-only has no signed-in user: name the mailbox as "address:folder" (e.g. "ged-facture@contoso.fr:inbox")' });
      }
      if (/^(common|organizations|consumers)$/i.test(l.tenantId)) {
        ctx.addIssue({ code: 'custom', path: ['tenantId'], message: 'app-only needs your tenant id or domain, not a multi-tenant alias' });
      }
    } else if (l.clientSecret || l.certificate) {
      ctx.addIssue({ code: 'custom', path: [l.clientSecret ? 'clientSecret' : 'certificate'], message: 'delegated access uses a public client (device code): remove it, or set "authMode": "app-only"' });
    }
  });

const adullactSchema = z.strictObject({
  ...common,
  protocol: z.literal('adullact'),
  source: z.string().min(1),
  afterSuccess: moveOr('delete').default('delete'),
  /** Pastell's end marker, written last in a folder envelope (`depot_nom_fichier_termine`). */
  endMarker: safeSegment('endMarker').default('fichier_termine.txt'),
  /** Where envelopes that cannot be taken go, with `<name>.error.txt` (default: hidden folder inside the source). */
  quarantineFolder: z.string().min(1).optional(),
  /** Name of the metadata file without extension (`.xml`, `.json` or `.txt` YAML). */
  metadataFile: safeSegment('metadataFile').default('metadata'),
  /** Take a folder envelope only once its end marker is there, never on `delaySeconds` alone (zips have no marker). */
  requireEndMarker: z.boolean().default(false),
});

export const launcherSchema = z
  .discriminatedUnion('protocol', [folderSchema, imapSchema, pop3Schema, o365Schema, adullactSchema], {
    error: (issue) =>
      issue.code === 'invalid_union' ? `protocol must be one of ${PROTOCOLS.join(', ')}` : undefined,
  })
  .superRefine((l, ctx) => {
    if ('security' in l && l.security === 'none' && !l.allowInsecure) {
      ctx.addIssue({ code: 'custom', path: ['security'], message: '"none" sends the password in clear: set "allowInsecure": true to accept it' });
    }
  })
  .transform((l) => {
    if (!('server' in l)) return l;
    const port = l.port ?? defaultPort(l.protocol, l.security);
    const security = l.security ?? (DEFAULT_TLS_PORTS.has(port) ? 'tls' : 'starttls');
    return { ...l, port, security };
  });

function defaultPort(protocol: 'imap' | 'pop3', security: string | undefined): number {
  const tls = security === undefined || security === 'tls';
  if (protocol === 'imap') return tls ? 993 : 143;
  return tls ? 995 : 110;
}

export const ezgedSchema = z
  .strictObject({
    /** Delivery by writing into the wait folders of a share / mount / local disk. */
    dropFolder: z.string().min(1).optional(),
    /** Create a missing `<dropFolder>/<waitdir>` instead of failing (demo and tests). */
    createWaitdirs: z.boolean().default(false),
    /** Delivery through EzGED's web API (`pupload.php`). */
    url: z.url().optional(),
    login: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    domain: z.string().default(''),
    uploadToken: z.string().min(1).default(FACTORY_UPLOAD_TOKEN),
    timeoutSeconds: z.number().int().min(1).max(3_600).default(DEFAULT_EZGED_TIMEOUT_SECONDS),
    maxAttempts: z.number().int().min(1).max(100).default(DEFAULT_MAX_ATTEMPTS),
    allowInsecureHttp: z.boolean().default(false),
    tls: tlsSchema.default({ rejectUnauthorized: true }),
  })
  .superRefine((e, ctx) => {
    if (!e.dropFolder === !e.url) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of "url" (EzGED web API) or "dropFolder" (wait folders on a share)' });
    }
    if (e.url) {
      if (!e.login) ctx.addIssue({ code: 'custom', path: ['login'], message: 'required with "url"' });
      if (!e.password) ctx.addIssue({ code: 'custom', path: ['password'], message: 'required with "url"' });
      if (e.url.startsWith('http://') && !e.allowInsecureHttp) {
        ctx.addIssue({ code: 'custom', path: ['url'], message: 'http:// sends the password hash in clear: use https:// or set "allowInsecureHttp": true' });
      }
    }
  });

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  timezone: z
    .string()
    .default(DEFAULT_TIMEZONE)
    .superRefine((tz, ctx) => {
      if (!isTimeZone(tz)) ctx.addIssue({ code: 'custom', message: `unknown time zone "${tz}" (an IANA name such as "Europe/Paris")` });
    }),
  ezged: ezgedSchema,
  launchers: z.array(launcherSchema),
});

export type ColdConfig = z.output<typeof configSchema>;
export type EzgedTarget = ColdConfig['ezged'];
export type LauncherDefinition = ColdConfig['launchers'][number];
export type Protocol = LauncherDefinition['protocol'];
export type LauncherOf<P extends Protocol> = Extract<LauncherDefinition, { protocol: P }>;
export const ALL_PROTOCOLS: readonly Protocol[] = PROTOCOLS;

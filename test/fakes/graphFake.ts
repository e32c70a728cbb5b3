import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EntraFake, makeTestCertificate, type EntraFakeOptions, type IssuedToken, type TestCertificate } from './entraFake';
import { closeServer, listenHttps } from './httpsListener';

/**
 * A local HTTPS fake of the Microsoft Graph v1.0 mail endpoints the O365 launcher uses,
 * answering with the shapes of Graph's public reference (message, fileAttachment,
 * itemAttachment, referenceAttachment, mailFolder, error bodies) and strict about the
 * contract: a valid bearer token for this Graph resource on every request, app-only vs
 * delegated rules (/me, application access policy, shared mailbox permissions), delta
 * rounds with @odata.nextLink / @odata.deltaLink, 410 for expired sync state, throttling
 * with Retry-After (a retry that comes too early is throttled again and recorded), and
 * `$value` streams, including generated content of any size that is never held in memory.
 * Contract details the client must not get wrong, as Graph documents or does them:
 * - a message's `hasAttachments` leaves inline attachments out (false for a message whose
 *   only attachment is an inline PDF);
 * - an attachment's `size` counts its properties too, not only the file (an empty file is
 *   announced at a few hundred bytes; microsoftgraph/microsoft-graph-docs#9796);
 * - an itemAttachment's `contentType` is null; its item (`@odata.type` message, eventMessage,
 *   event or contact) only with `$expand=microsoft.graph.itemAttachment/item`, and its
 *   `$value` is MIME, iCal or vCard accordingly (attachment-get reference);
 * - DELETE on a message does not put it in Deleted Items: it leaves the folders a person
 *   sees, for Recoverable Items (`recoverableitemsdeletions`); Outlook's delete is a move
 *   to `deleteditems`.
 */

export type FakeAttachment =
  | { kind: 'file'; name: string; contentType: string; content: Buffer; isInline?: boolean }
  | { kind: 'file'; name: string; contentType: string; generatedSize: number }
  | { kind: 'item'; name: string; mime: string; itemType?: FakeItemType }
  | { kind: 'reference'; name: string };

/** Type of an attached Outlook item; its `mime` is MIME, iCal or vCard accordingly. Default `message`. */
export type FakeItemType = 'message' | 'eventMessage' | 'event' | 'contact';

export interface FakeMessageSpec {
  subject: string;
  from?: string;
  receivedDateTime?: string;
  isRead?: boolean;
  isDraft?: boolean;
  body?: { contentType: 'html' | 'text'; content: string };
  attachments?: FakeAttachment[];
}

interface Folder {
  id: string;
  displayName: string;
  parentId?: string;
  wellKnown?: string;
}

interface StoredMessage {
  id: string;
  mailbox: string;
  folderId: string;
  /** Change number when the message arrived in its current folder. */
  arrivedSeq: number;
  modifiedSeq: number;
  isRead: boolean;
  spec: FakeMessageSpec;
  created: string;
  attachments: (FakeAttachment & { id: string; sha256?: string })[];
}

interface Mailbox {
  address: string;
  displayName: string;
  folders: Map<string, Folder>;
  rootId: string;
  /** Messages that left a folder: for delta rounds without changeType. */
  departures: { id: string; folderId: string; seq: number }[];
}

export interface GraphFakeOptions {
  cert: TestCertificate;
  entra: EntraFake;
  mailboxes: { address: string; displayName?: string; folders?: string[] }[];
  /** Exchange application access policy: mailboxes each app-only client may open (absent = all). */
  appAccess?: Record<string, string[]>;
  /** Full access granted on shared mailboxes: mailbox address → users. */
  sharedAccess?: Record<string, string[]>;
  /** Default page size when the client sends no `Prefer: odata.maxpagesize`. */
  defaultPageSize?: number;
}

interface Fault {
  method?: string;
  match: RegExp;
  status: number;
  retryAfterSeconds?: number;
  remaining: number;
  until?: number;
}

const WELL_KNOWN: [string, string][] = [
  ['inbox', 'Inbox'], ['archive', 'Archive'], ['deleteditems', 'Deleted Items'], ['drafts', 'Drafts'],
  ['sentitems', 'Sent Items'], ['junkemail', 'Junk Email'], ['outbox', 'Outbox'],
];
const GENERATED_BLOCK = 64 * 1024;
/** What Graph's attachment `size` adds to the file's bytes (the attachment's own properties), before its name. */
const ATTACHMENT_PROPERTIES_BYTES = 220;
const ITEM_VALUE_TYPES: Record<FakeItemType, string> = {
  message: 'message/rfc822', eventMessage: 'message/rfc822', event: 'text/calendar', contact: 'text/vcard',
};
/** `$expand` values the attachments endpoints accept (case-insensitive, optional nested query options). */
const ITEM_EXPANSION = /^microsoft\.graph\.itemattachment\/item(\(.*\))?$/i;

export class GraphFake {
  readonly requests: { method: string; path: string; status: number; kind?: 'app' | 'user'; prefer?: string }[] = [];
  /** Breaches of the contract by the client (too-early retries, missing immutable ids...). */
  readonly violations: string[] = [];
  /** Bytes sent in `$value` answers. */
  bytesStreamed = 0;
  url = '';
  private server!: Server;
  private readonly mailboxes = new Map<string, Mailbox>();
  private readonly messages = new Map<string, StoredMessage>();
  private readonly faults: Fault[] = [];
  private readonly truncations: RegExp[] = [];
  private seq = 1;
  private syncGeneration = 0;
  private clockOffsetMs = 0;

  private constructor(private readonly opts: GraphFakeOptions) {
    for (const m of opts.mailboxes) this.addMailbox(m.address, m.displayName ?? m.address, m.folders ?? []);
  }

  static async start(opts: GraphFakeOptions): Promise<GraphFake> {
    const fake = new GraphFake(opts);
    ({ server: fake.server, url: fake.url } = await listenHttps(opts.cert, (req, res) => {
      fake.handle(req, res).catch((err) => {
        if (!res.headersSent) graphError(res, 500, 'generalException', String(err));
        else res.destroy(err as Error);
      });
    }));
    return fake;
  }

  async stop(): Promise<void> {
    await closeServer(this.server);
  }

  // ---- test controls ----------------------------------------------------------------

  /** Delivers a message into `folderPath` of a mailbox; returns its (immutable) id. */
  addMessage(address: string, folderPath: string, spec: FakeMessageSpec): string {
    const box = this.box(address);
    const folder = this.folderByPath(box, folderPath);
    const id = `AAkALg${randomBytes(18).toString('base64url')}AAA=`;
    const seq = this.seq++;
    const attachments = (spec.attachments ?? []).map((a, i) => ({
      ...a,
      id: `${id}_AAABEgAQA${i}`,
      sha256: 'generatedSize' in a ? generatedSha256(id + i, a.generatedSize) : undefined,
    }));
    this.messages.set(id, {
      id, mailbox: box.address.toLowerCase(), folderId: folder.id, arrivedSeq: seq, modifiedSeq: seq, isRead: spec.isRead ?? false,
      spec, created: spec.receivedDateTime ?? new Date(Date.now() - 60_000 + seq).toISOString(), attachments,
    });
    return id;
  }

  /** Where a message is now (folder path), whether it is read; undefined once hard-deleted. */
  message(id: string): { folder: string; isRead: boolean } | undefined {
    const m = this.messages.get(id);
    if (!m) return undefined;
    return { folder: this.pathOf(this.box(m.mailbox), m.folderId), isRead: m.isRead };
  }

  /** A person moves a message to another folder (Outlook drag and drop); its immutable id stays. */
  moveMessageTo(id: string, folderPath: string): void {
    const m = this.stored(id);
    const box = this.box(m.mailbox);
    this.moveMessage(box, m, this.folderByPath(box, folderPath));
  }

  /** A person marks a message read or unread. */
  setRead(id: string, isRead: boolean): void {
    const m = this.stored(id);
    m.isRead = isRead;
    m.modifiedSeq = this.seq++;
  }

  /** The message's `hasAttachments`, as Graph reports it. */
  hasAttachments(id: string): boolean | undefined {
    const m = this.messages.get(id);
    return m && hasAttachments(m);
  }

  /** SHA-256 (hex) of a generated attachment's content. */
  attachmentSha256(messageId: string, index: number): string | undefined {
    return this.messages.get(messageId)?.attachments[index]?.sha256;
  }

  /** Every sync state handed out so far expires: the next delta request with it gets HTTP 410. */
  expireSyncStates(): void {
    this.syncGeneration++;
  }

  /** The next `count` requests matching answer `status` (429 or 503 with Retry-After, or any error). */
  fail(opts: { match: RegExp; status: number; count?: number; method?: string; retryAfterSeconds?: number }): void {
    this.faults.push({ match: opts.match, status: opts.status, method: opts.method, retryAfterSeconds: opts.retryAfterSeconds, remaining: opts.count ?? 1 });
  }

  /** The next `$value` answer whose path matches stops half-way (the connection drops). */
  truncateNext(match: RegExp): void {
    this.truncations.push(match);
  }

  /** The fake's clock jumps ahead (for a client whose waits are simulated too). */
  advanceClock(ms: number): void {
    this.clockOffsetMs += ms;
  }

  private now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** Time passes: every injected fault, and every Retry-After still running, is over. */
  clearFaults(): void {
    this.faults.length = 0;
  }

  // ---- model ------------------------------------------------------------------------

  private addMailbox(address: string, displayName: string, paths: string[]): void {
    const folders = new Map<string, Folder>();
    const rootId = folderId();
    folders.set(rootId, { id: rootId, displayName: 'Top of Information Store', wellKnown: 'msgfolderroot' });
    for (const [wk, name] of WELL_KNOWN) {
      const id = folderId();
      folders.set(id, { id, displayName: name, parentId: rootId, wellKnown: wk });
    }
    // Outside the folders a person sees (not a child of the root): where DELETE puts messages.
    const recoverableId = folderId();
    folders.set(recoverableId, { id: recoverableId, displayName: 'Recoverable Items', wellKnown: 'recoverableitemsroot' });
    const deletionsId = folderId();
    folders.set(deletionsId, { id: deletionsId, displayName: 'Deletions', parentId: recoverableId, wellKnown: 'recoverableitemsdeletions' });
    const box: Mailbox = { address, displayName, folders, rootId, departures: [] };
    this.mailboxes.set(address.toLowerCase(), box);
    for (const p of paths) this.ensurePath(box, p);
  }

  private ensurePath(box: Mailbox, path: string): Folder {
    let parent = box.folders.get(box.rootId)!;
    for (const seg of path.split('/')) {
      let next = [...box.folders.values()].find((f) => f.parentId === parent.id && (f.displayName.toLowerCase() === seg.toLowerCase() || f.wellKnown === seg.toLowerCase()));
      if (!next) {
        next = { id: folderId(), displayName: seg, parentId: parent.id };
        box.folders.set(next.id, next);
      }
      parent = next;
    }
    return parent;
  }

  private folderByPath(box: Mailbox, path: string): Folder {
    return this.ensurePath(box, path);
  }

  private pathOf(box: Mailbox, id: string): string {
    const names: string[] = [];
    for (let f = box.folders.get(id); f && f.id !== box.rootId; f = f.parentId ? box.folders.get(f.parentId) : undefined) names.unshift(f.displayName);
    return names.join('/');
  }

  private stored(id: string): StoredMessage {
    const m = this.messages.get(id);
    if (!m) throw new Error(`no message ${id}`);
    return m;
  }

  private box(address: string): Mailbox {
    const b = this.mailboxes.get(address.toLowerCase());
    if (!b) throw new Error(`no mailbox ${address}`);
    return b;
  }

  private folderRef(box: Mailbox, ref: string): Folder | undefined {
    const r = decodeURIComponent(ref).replace(/^'(.*)'$/, '$1');
    return box.folders.get(r) ?? [...box.folders.values()].find((f) => f.wellKnown === r.toLowerCase());
  }

  // ---- HTTP -------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const prefer = String(req.headers.prefer ?? '');
    const record = (status: number, kind?: 'app' | 'user') => this.requests.push({ method, path: url.pathname, status, kind, prefer });
    const body = method === 'POST' || method === 'PATCH' ? await readJson(req) : undefined;

    // 1. Authentication: a valid, unexpired bearer token for this Graph resource.
    const auth = String(req.headers.authorization ?? '');
    if (!auth.startsWith('Bearer ')) {
      record(401);
      return void graphError(res, 401, 'InvalidAuthenticationToken', 'Access token is empty.');
    }
    const token = this.opts.entra.validate(auth.slice('Bearer '.length));
    if (token === undefined || token === 'expired' || token.resource !== this.url) {
      record(401);
      const why = token === 'expired' ? 'Lifetime validation failed, the token is expired.' : token ? 'Invalid audience.' : 'IDX14100: JWT is not well formed.';
      return void graphError(res, 401, 'InvalidAuthenticationToken', why);
    }
    if (!/IdType="ImmutableId"/.test(prefer)) this.violations.push(`${method} ${url.pathname} without Prefer: IdType="ImmutableId"`);

    // 2. Whose mailbox.
    const m = /^\/v1\.0\/(me|users\/([^/]+))(\/.*)?$/.exec(url.pathname);
    if (!m) {
      record(400, token.kind);
      return void graphError(res, 400, 'BadRequest', `Resource not found for the segment '${url.pathname.split('/')[2]}'.`);
    }
    let box: Mailbox | undefined;
    if (m[1] === 'me') {
      if (token.kind === 'app') {
        record(400, token.kind);
        return void graphError(res, 400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
      }
      box = this.mailboxes.get(token.username!.toLowerCase());
    } else {
      box = this.mailboxes.get(decodeURIComponent(m[2]!).toLowerCase());
      if (!box) {
        record(404, token.kind);
        return void graphError(res, 404, 'ErrorInvalidUser', `The requested user '${decodeURIComponent(m[2]!)}' is invalid.`);
      }
      const denied = this.denied(token, box);
      if (denied) {
        record(403, token.kind);
        return void graphError(res, 403, 'ErrorAccessDenied', denied);
      }
    }
    if (!box) {
      record(404, token.kind);
      return void graphError(res, 404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.');
    }

    // 3. Faults injected by the test (throttling honours Retry-After: an early retry is throttled again).
    const fault = this.faults.find((f) => (!f.method || f.method === method) && f.match.test(url.pathname + url.search) && (f.remaining > 0 || (f.until ?? 0) > this.now()));
    if (fault) {
      if (fault.remaining === 0) this.violations.push(`${method} ${url.pathname} retried before Retry-After elapsed`);
      else fault.remaining--;
      if (fault.retryAfterSeconds !== undefined) fault.until = this.now() + fault.retryAfterSeconds * 1000;
      record(fault.status, token.kind);
      const headers = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : undefined;
      if (fault.status === 429) return void graphError(res, 429, 'TooManyRequests', 'Application is over its MailboxConcurrency limit.', headers);
      if (fault.status === 503) return void graphError(res, 503, 'serviceNotAvailable', 'Service is unavailable.', headers);
      return void graphError(res, fault.status, 'generalException', 'An unexpected error occurred.', headers);
    }

    const status = await this.route(method, m[3] ?? '', url, box, token, body, prefer, res);
    record(status, token.kind);
  }

  /** Application access policy for app-only; Full Access on a shared mailbox for delegated. */
  private denied(token: IssuedToken, box: Mailbox): string | undefined {
    if (token.kind === 'app') {
      if (!token.roles.includes('Mail.ReadWrite')) return 'Access is denied. Check credentials and try again.';
      const allowed = this.opts.appAccess?.[token.clientId];
      if (allowed && !allowed.some((a) => a.toLowerCase() === box.address.toLowerCase())) {
        return 'Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.';
      }
      return undefined;
    }
    if (token.username!.toLowerCase() === box.address.toLowerCase()) return undefined;
    const delegates = this.opts.sharedAccess?.[box.address] ?? [];
    if (!token.scopes.includes('Mail.ReadWrite.Shared') || !delegates.some((d) => d.toLowerCase() === token.username!.toLowerCase())) {
      return 'Access is denied. Check credentials and try again.';
    }
    return undefined;
  }

  private async route(method: string, rest: string, url: URL, box: Mailbox, token: IssuedToken, body: unknown, prefer: string, res: ServerResponse): Promise<number> {
    const q = url.searchParams;
    const select = q.get('$select')?.split(',').map((s) => s.trim()).filter(Boolean);
    let m: RegExpExecArray | null;

    // Folders
    if (method === 'GET' && (m = /^\/mailFolders(?:\/([^/]+)\/childFolders)?$/.exec(rest))) {
      const parent = m[1] ? this.folderRef(box, m[1]) : box.folders.get(box.rootId);
      if (!parent) return graphError(res, 404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      const children = [...box.folders.values()].filter((f) => f.parentId === parent.id);
      const top = Number(q.get('$top') ?? 10);
      const skip = Number(q.get('$skip') ?? 0);
      const page = children.slice(skip, skip + top).map((f) => pick(this.folderJson(box, f), select));
      const next = skip + top < children.length ? withParams(url, { $skip: String(skip + top) }) : undefined;
      return sendJson(res, 200, { '@odata.context': `${this.url}/v1.0/$metadata#users('${box.address}')/mailFolders`, value: page, ...(next ? { '@odata.nextLink': next } : {}) });
    }
    if (method === 'GET' && (m = /^\/mailFolders(?:\/|\()([^/)]+)\)?$/.exec(rest))) {
      const f = this.folderRef(box, m[1]!);
      if (!f) return graphError(res, 404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      return sendJson(res, 200, pick(this.folderJson(box, f), select));
    }

    // Delta
    if (method === 'GET' && (m = /^\/mailFolders(?:\/([^/(]+)|\('([^']+)'\))\/messages\/delta$/.exec(rest))) {
      const f = this.folderRef(box, m[1] ?? m[2]!);
      if (!f) return graphError(res, 404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      return this.delta(box, f, url, prefer, res);
    }

    // Messages
    if ((m = /^\/(?:mailFolders\/[^/]+\/)?messages\/([^/]+)(\/.*)?$/.exec(rest))) {
      const msg = this.messages.get(decodeURIComponent(m[1]!));
      if (!msg || msg.mailbox !== box.address.toLowerCase()) return graphError(res, 404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      const sub = m[2] ?? '';
      if (method === 'GET' && sub === '') return sendJson(res, 200, pick(this.messageJson(box, msg), select));
      if (method === 'GET' && sub === '/$value') return this.streamMime(msg, res);
      if (method === 'PATCH' && sub === '') {
        const patch = body as { isRead?: unknown };
        if (typeof patch?.isRead === 'boolean') msg.isRead = patch.isRead;
        msg.modifiedSeq = this.seq++;
        return sendJson(res, 200, this.messageJson(box, msg));
      }
      if (method === 'DELETE' && sub === '') {
        this.moveMessage(box, msg, [...box.folders.values()].find((f) => f.wellKnown === 'recoverableitemsdeletions')!);
        res.writeHead(204).end();
        return 204;
      }
      if (method === 'POST' && sub === '/move') {
        const dest = this.folderRef(box, String((body as { destinationId?: unknown })?.destinationId ?? ''));
        if (!dest) return graphError(res, 400, 'ErrorInvalidIdMalformed', 'Id is malformed.');
        this.moveMessage(box, msg, dest);
        return sendJson(res, 201, this.messageJson(box, msg));
      }
      const expand = q.get('$expand') ?? undefined;
      if (expand !== undefined && /^\/attachments(\/|$)/.test(sub) && !ITEM_EXPANSION.test(expand)) {
        return graphError(res, 400, 'BadRequest', `Parsing OData Select and Expand failed: Could not find a property named '${expand.split('/')[0]}' on type 'microsoft.graph.attachment'.`);
      }
      const expandItem = expand !== undefined;
      if (method === 'GET' && sub === '/attachments') {
        const value = msg.attachments.map((a) => {
          const json = attachmentJson(a, !select, expandItem);
          if (!select && 'generatedSize' in a) this.violations.push('attachments listed without $select: the listing would carry every file as base64');
          return select ? pick(json, [...select, 'item']) : json;
        });
        return sendJson(res, 200, { '@odata.context': `${this.url}/v1.0/$metadata#users('${box.address}')/messages('${msg.id}')/attachments`, value });
      }
      const a = /^\/attachments\/([^/]+)(\/\$value)?$/.exec(sub);
      if (method === 'GET' && a) {
        const att = msg.attachments.find((x) => x.id === decodeURIComponent(a[1]!));
        if (!att) return graphError(res, 404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
        if (!a[2]) return sendJson(res, 200, pick(attachmentJson(att, true, expandItem), select && [...select, 'item']));
        return this.streamAttachment(msg, att, res);
      }
    }
    return graphError(res, 400, 'BadRequest', `Unsupported request: ${method} ${url.pathname}`);
  }

  private moveMessage(box: Mailbox, msg: StoredMessage, dest: Folder): void {
    box.departures.push({ id: msg.id, folderId: msg.folderId, seq: this.seq });
    msg.folderId = dest.id;
    msg.arrivedSeq = msg.modifiedSeq = this.seq++;
  }

  /**
   * A delta round: the initial request lists the folder's messages; a delta token lists
   * changes after its change number (with changeType=created: arrivals only). Tokens carry
   * the sync generation; an old generation is an expired sync state (410).
   */
  private delta(box: Mailbox, folder: Folder, url: URL, prefer: string, res: ServerResponse): number {
    const q = url.searchParams;
    const pageSize = Number(/odata\.maxpagesize=(\d+)/.exec(prefer)?.[1] ?? this.opts.defaultPageSize ?? 10);
    let state: { since: number; end: number; offset: number; changeType?: string; select?: string; gen: number };
    const token = q.get('$skiptoken') ?? q.get('$deltatoken');
    if (token) {
      try {
        state = JSON.parse(Buffer.from(token, 'base64url').toString()) as typeof state;
      } catch {
        return graphError(res, 400, 'BadRequest', 'The skip token or delta token is malformed.');
      }
      if (state.gen !== this.syncGeneration) {
        return graphError(res, 410, 'SyncStateNotFound', 'The sync state generation is not found or has expired. Restart the synchronization without a token.');
      }
      if (q.has('$deltatoken')) state = { ...state, offset: 0, end: this.seq - 1 };
    } else {
      state = { since: 0, end: this.seq - 1, offset: 0, changeType: q.get('changeType') ?? undefined, select: q.get('$select') ?? undefined, gen: this.syncGeneration };
    }
    const select = state.select?.split(',');
    const inFolder = [...this.messages.values()].filter((x) => x.mailbox === box.address.toLowerCase() && x.folderId === folder.id);
    const changes: Record<string, unknown>[] = [];
    const ct = state.changeType;
    for (const x of inFolder.sort((a, b) => a.arrivedSeq - b.arrivedSeq)) {
      const arrived = x.arrivedSeq > state.since && x.arrivedSeq <= state.end;
      const updated = state.since > 0 && !arrived && x.modifiedSeq > state.since && x.modifiedSeq <= state.end;
      if ((arrived && (!ct || ct === 'created')) || (updated && (!ct || ct === 'updated'))) changes.push(pick(this.messageJson(box, x), select));
    }
    if (state.since > 0 && (!ct || ct === 'deleted')) {
      for (const d of box.departures) {
        if (d.folderId === folder.id && d.seq > state.since && d.seq <= state.end) changes.push({ '@odata.type': '#microsoft.graph.message', id: d.id, '@removed': { reason: 'deleted' } });
      }
    }
    const page = changes.slice(state.offset, state.offset + pageSize);
    const base = `${this.url}/v1.0/users/${encodeURIComponent(box.address)}/mailFolders('${folder.id}')/messages/delta`;
    const more = state.offset + pageSize < changes.length;
    const link = more
      ? { '@odata.nextLink': `${base}?$skiptoken=${b64(JSON.stringify({ ...state, offset: state.offset + pageSize }))}` }
      : { '@odata.deltaLink': `${base}?$deltatoken=${b64(JSON.stringify({ ...state, since: state.end, offset: 0 }))}` };
    return sendJson(res, 200, { '@odata.context': `${this.url}/v1.0/$metadata#Collection(message)`, ...link, value: page });
  }

  private folderJson(box: Mailbox, f: Folder): Record<string, unknown> {
    const msgs = [...this.messages.values()].filter((x) => x.mailbox === box.address.toLowerCase() && x.folderId === f.id);
    return {
      id: f.id, displayName: f.displayName, parentFolderId: f.parentId ?? box.rootId,
      childFolderCount: [...box.folders.values()].filter((c) => c.parentId === f.id).length,
      unreadItemCount: msgs.filter((x) => !x.isRead).length, totalItemCount: msgs.length, sizeInBytes: 0, isHidden: false,
    };
  }

  private messageJson(box: Mailbox, x: StoredMessage): Record<string, unknown> {
    const from = { emailAddress: { name: x.spec.from ?? 'Fournisseur', address: x.spec.from ?? 'factures@fournisseur.example' } };
    const body = x.spec.body ?? { contentType: 'html', content: `<html><body><p>${x.spec.subject}</p></body></html>` };
    return {
      '@odata.type': '#microsoft.graph.message',
      '@odata.etag': `W/"CQAAABYAAAA${x.modifiedSeq}"`,
      id: x.id,
      createdDateTime: x.created, lastModifiedDateTime: x.created, changeKey: `CQAAABYAAAA${x.modifiedSeq}`, categories: [],
      receivedDateTime: x.created, sentDateTime: x.created,
      hasAttachments: hasAttachments(x),
      internetMessageId: `<${x.id.slice(6, 20)}@fournisseur.example>`, subject: x.spec.subject, bodyPreview: x.spec.subject.slice(0, 255),
      importance: 'normal', parentFolderId: x.folderId, conversationId: `AAQk${x.id.slice(6, 18)}`, isDeliveryReceiptRequested: false,
      isReadReceiptRequested: false, isRead: x.isRead, isDraft: x.spec.isDraft ?? false,
      webLink: `https://outlook.office365.com/owa/?ItemID=${encodeURIComponent(x.id)}&exvsurl=1&viewmodel=ReadMessageItem`,
      inferenceClassification: 'focused', body, sender: from, from,
      toRecipients: [{ emailAddress: { name: box.displayName, address: box.address } }], ccRecipients: [], bccRecipients: [], replyTo: [],
      flag: { flagStatus: 'notFlagged' },
    };
  }

  private async streamAttachment(msg: StoredMessage, att: StoredMessage['attachments'][number], res: ServerResponse): Promise<number> {
    if (att.kind === 'reference') {
      return graphError(res, 405, 'ErrorInvalidRequest', 'The request is not supported for reference attachments.');
    }
    if (att.kind === 'item') return this.sendBytes(res, ITEM_VALUE_TYPES[att.itemType ?? 'message'], Buffer.from(att.mime));
    if ('content' in att) return this.sendBytes(res, att.contentType, att.content);
    res.writeHead(200, { 'content-type': att.contentType, 'content-length': String(att.generatedSize) });
    await pipeline(Readable.from(generated(msg.id + msg.attachments.indexOf(att), att.generatedSize, (n) => (this.bytesStreamed += n))), res);
    return 200;
  }

  private streamMime(msg: StoredMessage, res: ServerResponse): number {
    const boundary = `b_${msg.id.slice(6, 22)}`;
    const lines = [
      `From: ${msg.spec.from ?? 'factures@fournisseur.example'}`, `Subject: ${msg.spec.subject}`, `Message-ID: <${msg.id.slice(6, 20)}@fournisseur.example>`,
      `Date: ${new Date(msg.created).toUTCString()}`, 'MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${boundary}"`, '',
      `--${boundary}`, 'Content-Type: text/html; charset=utf-8', '', msg.spec.body?.content ?? `<p>${msg.spec.subject}</p>`,
    ];
    for (const a of msg.attachments) {
      if (a.kind === 'file' && 'content' in a) {
        lines.push(`--${boundary}`, `Content-Type: ${a.contentType}; name="${a.name}"`, `Content-Disposition: attachment; filename="${a.name}"`, 'Content-Transfer-Encoding: base64', '', a.content.toString('base64'));
      } else if (a.kind === 'item') {
        lines.push(`--${boundary}`, 'Content-Type: message/rfc822', '', a.mime);
      }
    }
    lines.push(`--${boundary}--`, '');
    return this.sendBytes(res, 'message/rfc822', Buffer.from(lines.join('\r\n')));
  }

  private sendBytes(res: ServerResponse, contentType: string, data: Buffer): number {
    res.writeHead(200, { 'content-type': contentType, 'content-length': String(data.length) });
    const cut = this.truncations.findIndex((re) => re.test(res.req.url ?? ''));
    if (cut >= 0) {
      this.truncations.splice(cut, 1);
      const half = data.subarray(0, Math.floor(data.length / 2));
      this.bytesStreamed += half.length;
      res.write(half, () => res.destroy());
      return 200;
    }
    this.bytesStreamed += data.length;
    res.end(data);
    return 200;
  }
}

/** Graph's `hasAttachments`: inline attachments are not counted (an inline PDF alone: false). */
function hasAttachments(x: StoredMessage): boolean {
  return x.attachments.some((a) => !('isInline' in a && a.isInline));
}

function attachmentJson(a: FakeAttachment & { id: string }, withContent: boolean, expandItem = false): Record<string, unknown> {
  const common = { id: a.id, lastModifiedDateTime: '2026-11-20T08:00:00Z', name: a.name };
  if (a.kind === 'reference') {
    return { '@odata.type': '#microsoft.graph.referenceAttachment', ...common, contentType: null, size: 540, isInline: false };
  }
  if (a.kind === 'item') {
    // As Graph's attachment-get example: the item's id is empty, its type says what $value holds.
    const item = expandItem ? { item: { '@odata.type': `#microsoft.graph.${a.itemType ?? 'message'}`, id: '' } } : {};
    return { '@odata.type': '#microsoft.graph.itemAttachment', ...common, contentType: null, size: Buffer.byteLength(a.mime) + 2048, isInline: false, ...item };
  }
  const size = ('content' in a ? a.content.length : a.generatedSize) + ATTACHMENT_PROPERTIES_BYTES + Buffer.byteLength(a.name);
  return {
    '@odata.type': '#microsoft.graph.fileAttachment',
    '@odata.mediaContentType': a.contentType,
    ...common,
    contentType: a.contentType,
    size,
    isInline: 'content' in a ? (a.isInline ?? false) : false,
    contentId: null,
    contentLocation: null,
    ...(withContent && 'content' in a ? { contentBytes: a.content.toString('base64') } : {}),
  };
}

/** Deterministic content of `size` bytes, produced block by block (never held whole). */
function* generated(seed: string, size: number, onChunk?: (n: number) => void): Generator<Buffer> {
  const block = createHash('sha512').update(seed).digest();
  const base = Buffer.alloc(GENERATED_BLOCK);
  for (let i = 0; i < GENERATED_BLOCK; i += block.length) block.copy(base, i);
  for (let offset = 0, n = 0; offset < size; offset += GENERATED_BLOCK, n++) {
    const chunk = Buffer.from(base.subarray(0, Math.min(GENERATED_BLOCK, size - offset)));
    chunk.writeUInt32BE(n, 0);
    onChunk?.(chunk.length);
    yield chunk;
  }
}

function generatedSha256(seed: string, size: number): string {
  const h = createHash('sha256');
  for (const c of generated(seed, size)) h.update(c);
  return h.digest('hex');
}

function pick(json: Record<string, unknown>, select: string[] | undefined): Record<string, unknown> {
  if (!select) return json;
  const out: Record<string, unknown> = {};
  for (const k of ['@odata.type', '@odata.etag', 'id', ...select]) if (k in json) out[k] = json[k];
  return out;
}

function withParams(url: URL, params: Record<string, string>): string {
  const u = new URL(url.href);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.href;
}

function folderId(): string {
  return `AAMkAGI2${randomBytes(12).toString('base64url')}AAA=`;
}

function b64(s: string): string {
  return Buffer.from(s).toString('base64url');
}

function graphError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): number {
  const requestId = randomUUID();
  const text = JSON.stringify({ error: { code, message, innerError: { date: new Date().toISOString().slice(0, 19), 'request-id': requestId, 'client-request-id': requestId } } });
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': requestId, 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
  return status;
}

function sendJson(res: ServerResponse, status: number, body: unknown): number {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
  return status;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

/** Both fakes on their own HTTPS ports, with an openssl-made certificate in `dir`. */
export async function startFakeMicrosoftCloud(
  dir: string,
  opts: Omit<EntraFakeOptions, 'cert'> & Omit<GraphFakeOptions, 'cert' | 'entra'>,
): Promise<{ entra: EntraFake; graph: GraphFake; cert: TestCertificate; stop(): Promise<void> }> {
  const cert = await makeTestCertificate(dir);
  const entra = await EntraFake.start({ ...opts, cert });
  const graph = await GraphFake.start({ ...opts, cert, entra });
  return { entra, graph, cert, stop: async () => void (await Promise.all([graph.stop(), entra.stop()])) };
}

import type { Settings } from '../../config/settings';
import { ColdError, SourceError } from '../../errors';
import { storeFromSettings } from '../../runtime/storeFromSettings';
import type { BlobStore } from '../../staging/blobStore';
import type { Candidate, Source, SourceContext, SourceItem } from '../types';
import { completionFor, moveTo, type Completion } from './afterSuccess';
import { createTokenProvider, linkCommand, type O365Launcher } from './auth';
import { DELTA_PAGE_SIZE, fetchDeltaPage, initialDeltaUrl, MESSAGE_FIELDS, type MessageSummary } from './delta';
import { messageDocuments } from './documents';
import { GraphRequestError } from './errors';
import { GraphClient } from './graphClient';
import { mailboxPath, parseMailboxSource, resolveFolder, type ResolvedFolder } from './mailbox';
import { memoryKey, o365Memory, rejection } from './memory';
import { createTransport } from './transport';

/** Messages of one mailbox worked on at once (Graph allows 4 concurrent requests per mailbox and app). */
export const O365_CONCURRENCY = 2;
/** Delta pages read in one run at most; the round goes on at the next run. */
export const MAX_DELTA_PAGES_PER_RUN = 200;

export interface O365Item extends SourceItem {
  /** Immutable message id (also the key). */
  id: string;
  subject?: string | null;
  received: string;
}

/**
 * What the launcher remembers between runs (ctx.state, persisted by the pipeline); the
 * messages filed or put aside are remembered there too (memory.ts).
 */
interface O365State {
  /** Mailbox and folder the cursor belongs to; a change of source starts over. */
  folderKey?: string;
  /** Where the delta round goes on: a next link (round in progress) or the delta link. */
  cursor?: string;
  /** The round in progress is a full (re)synchronisation, where `initialSync` applies. */
  fullSync?: boolean;
  /** Messages found and not yet acknowledged or put aside: offered again until they are. */
  pending?: PendingEntry[];
}

interface PendingEntry {
  id: string;
  received: string;
  subject?: string | null;
}

/** Dependencies a test or another host may give; by default from the process settings. */
export interface O365Deps {
  settings: Settings;
  store: BlobStore;
  sleep: (ms: number) => Promise<void>;
}

/**
 * The O365 launcher's source: one folder of a Microsoft 365 mailbox (the linked user's,
 * another user's or a shared one) through Microsoft Graph. New messages are found with
 * a per-folder delta query; the delta link lives in ctx.state. Item key: the immutable
 * message id. A message seen again is never staged twice: one not yet acknowledged is
 * recognised by the pipeline's in-flight record and the staged blobs; one acknowledged
 * (whose documents may have left staging for archive since) by the source's memory of
 * filed messages (memory.ts), whether it comes back through a full resync after HTTP 410,
 * a move out and back, or being marked unread again.
 */
export async function createO365Source(ctx: SourceContext<O365Launcher>, deps: Partial<O365Deps> = {}): Promise<Source<O365Item>> {
  const { launcher } = ctx;
  const log = ctx.logger;
  const settings = deps.settings ?? ctx.settings ?? process.env;
  const store = () => deps.store ?? ctx.store ?? storeFromSettings(settings);
  const { address, folderPath } = parseMailboxSource(launcher.source);
  const mailbox = mailboxPath(address);
  const transport = createTransport(launcher.tls, launcher.timeoutSeconds * 1000);
  const tokens = createTokenProvider(launcher, address !== undefined, { transport, logger: log, settings, store });
  const graph = new GraphClient({ graphEndpoint: launcher.graphEndpoint, transport, tokens, logger: log, sleep: deps.sleep });

  let folder: ResolvedFolder;
  try {
    folder = await resolveFolder(graph, mailbox, folderPath);
  } catch (err) {
    transport.close();
    if (err instanceof ColdError && err.code.startsWith('O365_')) throw err;
    const hint = err instanceof GraphRequestError && err.status === 403 ? ` (${forbiddenHint(launcher, address)})` : '';
    throw new SourceError((err as ColdError).code ?? 'SOURCE_UNREADABLE', `launcher ${launcher.id}: ${launcher.source}: ${(err as Error).message}${hint}`, { cause: err });
  }
  const where = `${address ?? 'linked mailbox'}:${folder.path}`;
  const complete: Completion = completionFor(launcher.afterSuccess, { graph, mailbox });
  const failedMove = launcher.failedFolder ? moveTo(launcher.failedFolder, { graph, mailbox }) : undefined;

  const state = ctx.state as O365State;
  const folderKey = `${launcher.graphEndpoint}|${mailbox}|${folder.id}`;
  if (state.folderKey !== folderKey) {
    if (state.folderKey) log.info(`source changed to ${where}: starting a new synchronisation`);
    state.folderKey = folderKey;
    state.cursor = undefined;
    state.pending = [];
  }
  state.pending ??= [];
  // Kept across a change of folder: immutable ids stay the same when a message moves.
  const memory = o365Memory(ctx.state, ctx.now());
  const remembered = (id: string) => memoryKey(mailbox, id);
  const forget = (id: string) => {
    state.pending = (state.pending ?? []).filter((p) => p.id !== id);
  };
  const label = (p: { subject?: string | null; received: string }) => `${p.subject || '(no subject)'} (received ${p.received})`;

  async function* scan(limit: number): AsyncGenerator<Candidate<O365Item>> {
    const verdicts: Candidate<O365Item>[] = [];
    const carried = [...state.pending!];
    const known = new Set(carried.map((p) => p.id));

    // 1. New messages, until enough are waiting for this run or the round is over.
    let url = state.cursor ?? initialDeltaUrl(mailbox, folder.id);
    if (!state.cursor) state.fullSync = true;
    let restarted = false;
    let reappeared = 0;
    for (let pages = 0; pages < MAX_DELTA_PAGES_PER_RUN && state.pending!.length < limit; pages++) {
      let page;
      try {
        page = await fetchDeltaPage(graph, url, DELTA_PAGE_SIZE);
      } catch (err) {
        if (err instanceof GraphRequestError && err.status === 410 && !restarted) {
          // The sync state expired: synchronise the folder fully again. Messages taken
          // before are recognised by their immutable id (memory.ts, `pending`, the pipeline's
          // in-flight record): none is staged twice.
          log.warn(`Graph asks for a full resynchronisation of ${where} (HTTP 410${err.graphCode ? ' ' + err.graphCode : ''}): starting over`);
          restarted = true;
          state.fullSync = true;
          url = initialDeltaUrl(mailbox, folder.id);
          pages--;
          continue;
        }
        throw err;
      }
      for (const m of page.messages) {
        if (m['@removed']) {
          forget(m.id);
          continue;
        }
        if (known.has(m.id)) continue;
        const entry = { id: m.id, received: m.receivedDateTime ?? new Date(0).toISOString(), subject: m.subject };
        const key = remembered(m.id);
        const filedAt = memory.handled[key];
        if (filedAt) {
          memory.handled[key] = ctx.now().toISOString();
          reappeared++;
          verdicts.push({ verdict: 'skipped', label: label(entry), reason: `already filed on ${filedAt} (same immutable id): left as it is` });
          continue;
        }
        const rejected = memory.rejected[key];
        if (rejected) {
          rejected.at = ctx.now().toISOString();
          verdicts.push({ verdict: 'skipped', label: label(entry), reason: `put aside earlier: ${rejected.reason} (set "failedFolder" to move such messages out)` });
          continue;
        }
        const why = skipReason(m, launcher, !!state.fullSync);
        if (why) {
          verdicts.push({ verdict: 'skipped', label: label(entry), reason: why });
          continue;
        }
        known.add(m.id);
        state.pending!.push(entry);
      }
      // The page's messages are in `pending` before the cursor moves past them.
      if (page.deltaLink) {
        state.cursor = page.deltaLink;
        state.fullSync = false;
        break;
      }
      if (!page.nextLink) throw new SourceError('GRAPH_DELTA_INCOMPLETE', `Graph's delta page for ${where} has neither a next link nor a delta link`);
      state.cursor = url = page.nextLink;
    }

    if (reappeared > 0) {
      log.info(`${reappeared} message(s) already filed are back among the messages to take in ${where} (full resynchronisation, moved back, or marked unread again): they are not filed again`, { reappeared });
    }

    // 2. Messages carried over from earlier runs: still there, still in this folder?
    for (const p of carried) {
      try {
        const m = await graph.getJson<MessageSummary>(`${mailbox}/messages/${encodeURIComponent(p.id)}?$select=${MESSAGE_FIELDS.join(',')}`);
        if (m.parentFolderId && m.parentFolderId !== folder.id) {
          forget(p.id);
          verdicts.push({ verdict: 'skipped', label: label(p), reason: `moved out of ${folder.path} meanwhile` });
        }
      } catch (err) {
        if (!(err instanceof GraphRequestError && err.status === 404)) throw err;
        forget(p.id);
        verdicts.push({ verdict: 'skipped', label: label(p), reason: 'no longer in the mailbox' });
      }
    }

    yield* verdicts;
    const ready = [...state.pending!].sort((a, b) => a.received.localeCompare(b.received) || a.id.localeCompare(b.id));
    for (const [i, p] of ready.entries()) {
      if (i < limit) yield { verdict: 'ready', label: label(p), item: { key: p.id, id: p.id, label: label(p), subject: p.subject, received: p.received } };
      else yield { verdict: 'waiting', label: label(p), reason: `batch limit of ${limit} reached, taken by a later run` };
    }
  }

  return {
    concurrency: O365_CONCURRENCY,
    scan,
    documents: (item) => messageDocuments(graph, launcher, mailbox, item, log.child({ item: item.label })),
    async acknowledge(item) {
      await complete(item.id);
      memory.handled[remembered(item.id)] = ctx.now().toISOString();
      forget(item.id);
    },
    async putAside(item, reason) {
      if (failedMove) {
        await failedMove(item.id); // if this fails, the message stays pending and is tried again
        forget(item.id);
        log.warn(`${item.label} moved to ${launcher.failedFolder}: ${reason}`, { reason });
      } else {
        memory.rejected[remembered(item.id)] = rejection(reason, ctx.now());
        forget(item.id);
        log.warn(`${item.label} left in ${where} and not offered again (set "failedFolder" to move such messages aside): ${reason}`, { reason });
      }
    },
    close: async () => transport.close(),
  };
}

function skipReason(m: MessageSummary, launcher: O365Launcher, fullSync: boolean): string | undefined {
  if (m.isDraft) return 'draft';
  if (fullSync && launcher.initialSync === 'unread' && m.isRead) return 'already read when the folder was synchronised (initialSync "unread")';
  return undefined;
}

function forbiddenHint(launcher: O365Launcher, address: string | undefined): string {
  if (launcher.authMode === 'app-only') {
    return `the app needs the Mail.ReadWrite application permission with admin consent, and ${address} must be in the scope of its Exchange application access policy or RBAC for Applications assignment`;
  }
  return address
    ? `the linked user needs Full Access to ${address}; if the source was changed to this mailbox, link again with \`${linkCommand(launcher.id)}\``
    : 'the linked user cannot open this mailbox';
}

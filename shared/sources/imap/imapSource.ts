import type { FetchMessageObject, ImapFlow } from 'imapflow';
import type { LauncherOf } from '../../config/schema';
import { ItemRejectedError, SourceError, SourceUnavailableError, describeError } from '../../errors';
import { failedRuns, giveUpUnlessPartlyStaged } from '../../mail/failedRuns';
import { filteredOut, readMailDocuments, type MailDocuments } from '../../mail/mailDocuments';
import { Semaphore } from '../../util/concurrency';
import type { Candidate, Source, SourceContext, SourceDocument, SourceItem } from '../types';
import { AckBatcher } from './ackBatch';
import { mailActionFor, moveMessage } from './afterSuccess';
import { connectImap, connectionError } from './connect';
import { messageIdentity } from './identity';
import { mailboxPath } from './mailboxPath';
import { imapMemory, type Failure } from './memory';
import { downloadStreamed, openWithSlot, STREAMED_CONCURRENCY } from './streamedDownload';
import { WholeMessageFetcher } from './wholeFetch';

/** Messages whose headers are fetched in one command while scanning. */
export const FETCH_BATCH = 100;
/**
 * Messages worked on at once: commands queue on the one connection, while messages are
 * fetched others are parsed and staged (measured, 100 mails of 140 KB fetched whole: 4 at
 * once 435 ms, 8 at once 362 ms). Large messages are fewer at once (STREAMED_CONCURRENCY).
 */
export const IMAP_CONCURRENCY = 8;
/** Time given to LOGOUT before the socket is just closed. */
const LOGOUT_TIMEOUT_MS = 5_000;

export interface ImapItem extends SourceItem {
  uid: number;
  /** UIDVALIDITY of the folder when the message was seen: acting on a UID needs the same. */
  uidValidity: string;
  size: number;
  /** Short identity (see identity.ts), the key of the source's memory. */
  id: string;
}

type ImapLauncher = LauncherOf<'imap'>;

/**
 * The IMAP launcher's source: one folder of one mailbox, over ONE connection per run.
 * - scan: SEARCH with the criteria of the afterSuccess action (unseen, unflagged... so
 *   handled mail is not fetched again), oldest UID first, headers only;
 * - documents: a small message is fetched whole, several ahead in one FETCH, and read in
 *   memory (wholeFetch.ts); a large one is downloaded in chunks to a temp file
 *   (streamedDownload.ts); both are read by the shared MIME layer (shared/mail);
 * - acknowledge: the afterSuccess action, only while UIDVALIDITY is unchanged; those asked
 *   while another is on its way go out together (ackBatch.ts);
 * - putAside: move to `failedFolder`, or remember it and leave it in place.
 * Identity, hence exactly-once, rests on Message-ID + header hash + size, not on the
 * UID (see identity.ts and memory.ts).
 * Read-only (`ctx.readOnly`): the folder is opened with EXAMINE (no flag can change, not
 * even \Recent), missing folders are not created, nothing is acknowledged or put aside.
 */
export async function createImapSource(ctx: SourceContext<ImapLauncher>): Promise<Source<ImapItem>> {
  const { launcher } = ctx;
  const readOnly = ctx.readOnly === true;
  const log = ctx.logger.child({ server: launcher.server, folder: launcher.source });
  const action = mailActionFor(launcher.afterSuccess);
  const memory = imapMemory(ctx.state, ctx.now());
  const client = await connectImap(launcher, log);
  const open = new Map<string, MailDocuments>();
  const attempted = new Set<string>();
  const whole = new WholeMessageFetcher(client);
  const streamedSlots = new Semaphore(STREAMED_CONCURRENCY);
  const acks = new AckBatcher((uids) => action.apply(client, uids));

  try {
    if (!readOnly) for (const folder of [...action.folders, ...(launcher.failedFolder ? [launcher.failedFolder] : [])]) await ensureFolder(client, folder);
    await client.mailboxOpen(mailboxPath(launcher.source), { readOnly });
  } catch (err) {
    await logout(client);
    if (err instanceof SourceError) throw err;
    if ((err as { serverResponseCode?: string }).serverResponseCode === 'NONEXISTENT' || /doesn't exist|not exist|unknown mailbox/i.test(String((err as { responseText?: string }).responseText))) {
      throw new SourceError('IMAP_FOLDER_NOT_FOUND', `launcher ${launcher.id}: folder "${launcher.source}" does not exist on ${launcher.server} (nested folders: "Parent/Child")`, { cause: err });
    }
    throw connectionError(launcher, err);
  }

  const currentUidValidity = () => String(client.mailbox ? client.mailbox.uidValidity : '');
  /** Fails the run (not the message) once the connection is gone: nothing more can be done on it. */
  const assertConnected = (cause?: unknown) => {
    if (client.usable) return;
    throw new SourceUnavailableError('IMAP_CONNECTION_LOST', `launcher ${launcher.id}: the connection to ${launcher.server} was lost during the run; the remaining messages wait for the next run`, { cause });
  };

  async function* scan(limit: number): AsyncGenerator<Candidate<ImapItem>> {
    const max = launcher.maxMessagesPerRun ?? limit;
    const uidValidity = currentUidValidity();
    if (memory.uidValidity && memory.uidValidity !== uidValidity) {
      log.warn(
        `UIDVALIDITY of "${launcher.source}" changed from ${memory.uidValidity} to ${uidValidity} (mailbox rebuilt or migrated): ` +
          'messages are recognised by Message-ID and content, nothing is lost or filed twice',
        { previous: memory.uidValidity, uidValidity },
      );
    }
    memory.uidValidity = uidValidity;
    const found = await client.search(action.criteria, { uid: true });
    if (found === false || found === undefined) throw new SourceError('IMAP_SEARCH_FAILED', `launcher ${launcher.id}: SEARCH failed in "${launcher.source}"`);
    const uids = [...found].sort((a, b) => a - b);
    let ready = 0;
    let reappeared = 0;
    for (let i = 0; i < uids.length; i += FETCH_BATCH) {
      const batch = uids.slice(i, i + FETCH_BATCH);
      if (ready >= max) {
        for (const uid of batch) yield { verdict: 'waiting', label: `UID ${uid}`, reason: `batch limit of ${max} reached, taken by a later run` };
        continue;
      }
      // Collected first: no other command may run while a FETCH is being iterated.
      const msgs = (await client.fetchAll(batch.join(','), { uid: true, size: true, envelope: true, headers: true }, { uid: true })).sort((a, b) => a.uid - b.uid);
      for (const m of msgs) {
        const label = labelOf(m);
        if (ready >= max) {
          yield { verdict: 'waiting', label, reason: `batch limit of ${max} reached, taken by a later run` };
          continue;
        }
        const { key, id } = messageIdentity(launcher.source, m.headers ?? Buffer.alloc(0), m.size ?? 0, m.envelope?.messageId);
        const now = ctx.now().toISOString();
        if (memory.handled[id]) {
          const at = memory.handled[id];
          memory.handled[id] = now;
          reappeared++;
          yield { verdict: 'skipped', label, reason: `already filed on ${at} (same Message-ID and content): left as it is` };
          continue;
        }
        const rejected = memory.rejected[id];
        if (rejected) {
          rejected.at = now;
          yield { verdict: 'skipped', label, reason: `put aside earlier: ${rejected.reason} (set "failedFolder" to move such messages out)` };
          continue;
        }
        ready++;
        const item: ImapItem = { key, label, uid: m.uid, uidValidity, size: m.size ?? 0, id };
        whole.offer(item);
        yield { verdict: 'ready', label, item };
      }
    }
    if (reappeared > 0) {
      log.info(`${reappeared} message(s) already filed are back among the messages to take (flags lost or reset?): they are not filed again`);
    }
  }

  async function documents(item: ImapItem): Promise<SourceDocument[]> {
    const failure = memory.failures[item.id];
    if (failure && failure.count >= launcher.maxFailures) await giveUpOrWarn(item, failure);
    assertConnected();
    const inMemory = WholeMessageFetcher.fits(item);
    let mail: MailDocuments;
    try {
      assertSameUidValidity(item);
      mail = inMemory ? await readWhole(item) : await streamedSlots.use(() => downloadStreamed(client, item.uid, launcher.source, launcher));
    } catch (err) {
      whole.drop(item); // if it was fetched ahead: not kept for nothing
      assertConnected(err); // a lost connection is not this message's fault
      if (!(err instanceof ItemRejectedError)) recordFailure(item, err);
      throw err;
    }
    // Temp files are removed when the message is done (or at close); a mail in memory is
    // not kept here: it is freed with its documents, even if it is never acknowledged
    // (unrouted, failed, or only previewed).
    if (!inMemory) open.set(item.key, mail);
    if (mail.message.size !== item.size) log.debug(`UID ${item.uid}: ${mail.message.size} bytes downloaded, the server announced ${item.size}`);
    for (const note of mail.notes) log.info(`"${item.label}": ${note}`);
    if (mail.filtered.length > 0) log.info(`"${item.label}": ${filteredOut(mail.filtered, launcher.filenameFilter)}`, { uid: item.uid, filtered: mail.filtered });
    return mail.documents.map((doc) => {
      const openContent = inMemory ? doc.open : openWithSlot(streamedSlots, doc.open);
      return {
        ...doc,
        open: async () => {
          if (!attempted.has(item.key)) {
            attempted.add(item.key);
            recordFailure(item, undefined);
          }
          const stream = await openContent();
          stream.once('error', (err) => recordFailure(item, err, false));
          return stream;
        },
      };
    });
  }

  /**
   * A message that failed `maxFailures` runs in a row is moved to `failedFolder` (an
   * ItemRejectedError), unless part of it is already staged (see giveUpUnlessPartlyStaged);
   * without `failedFolder`, it is only warned about and tried again.
   */
  async function giveUpOrWarn(item: ImapItem, failure: Failure): Promise<void> {
    if (!launcher.failedFolder) {
      log.warn(`"${item.label}" ${failedRuns(failure)}; set "failedFolder" to move such messages out`, { uid: item.uid });
      return;
    }
    try {
      await giveUpUnlessPartlyStaged(ctx.store, launcher.id, item, failure, { log, kept: `not moved to ${launcher.failedFolder}`, fields: { uid: item.uid } });
    } catch (err) {
      whole.drop(item); // given up (or not known): if it was fetched ahead, not kept for nothing
      throw err;
    }
  }

  /**
   * Counts a run in which the message was started but not finished; cleared by
   * acknowledge/putAside. `count: false` only records the error of this run.
   */
  function recordFailure(item: ImapItem, err: unknown, count = true): void {
    const f = (memory.failures[item.id] ??= { count: 0, at: ctx.now().toISOString() });
    if (count) f.count++;
    f.at = ctx.now().toISOString();
    if (err !== undefined) f.lastError = describeError(err).slice(0, 300);
  }

  /** A small message, fetched whole (no strict check against RFC822.SIZE, as for a large one). */
  async function readWhole(item: ImapItem): Promise<MailDocuments> {
    const raw = await whole.take(item);
    if (!raw) throw new SourceError('IMAP_MESSAGE_GONE', `UID ${item.uid} is no longer in "${launcher.source}" (moved or deleted meanwhile)`);
    return readMailDocuments(raw, launcher);
  }

  function assertSameUidValidity(item: ImapItem): void {
    const now = currentUidValidity();
    if (now !== item.uidValidity) {
      throw new SourceError('IMAP_UIDVALIDITY_CHANGED', `UIDVALIDITY of "${launcher.source}" changed during the run (${item.uidValidity} → ${now}): UID ${item.uid} is left for the next run`);
    }
  }

  async function releaseOthers(keep?: string): Promise<void> {
    for (const [key, mail] of open) {
      if (key === keep) continue;
      open.delete(key);
      await mail.dispose();
    }
  }

  function assertWritable(item: ImapItem, what: string): void {
    if (readOnly) throw new SourceError('IMAP_READ_ONLY', `launcher ${launcher.id}: the source was opened read-only (preview): "${item.label}" cannot be ${what}`);
  }

  async function done(item: ImapItem): Promise<void> {
    delete memory.failures[item.id];
    const mail = open.get(item.key);
    open.delete(item.key);
    await mail?.dispose();
  }

  return {
    concurrency: IMAP_CONCURRENCY,
    scan,
    documents,
    async acknowledge(item) {
      assertWritable(item, 'acknowledged');
      assertConnected();
      assertSameUidValidity(item);
      await acks.apply(item.uid);
      memory.handled[item.id] = ctx.now().toISOString();
      await done(item);
      log.debug(`UID ${item.uid} ${action.description}`, { uid: item.uid });
    },
    async putAside(item, reason) {
      assertWritable(item, 'put aside');
      if (launcher.failedFolder) {
        assertSameUidValidity(item);
        await moveMessage(client, [item.uid], launcher.failedFolder);
        log.warn(`"${item.label}" moved to ${launcher.failedFolder}: ${reason}`, { uid: item.uid, reason });
      } else {
        memory.rejected[item.id] = { at: ctx.now().toISOString(), reason: reason.slice(0, 300) };
        log.warn(`"${item.label}" left in "${launcher.source}" and skipped from now on: ${reason}`, { uid: item.uid, reason });
      }
      await done(item);
    },
    async close() {
      whole.clear();
      await releaseOthers();
      await logout(client);
    },
  };
}

function labelOf(m: FetchMessageObject): string {
  const subject = (m.envelope?.subject ?? '').replace(/\s+/g, ' ').trim().slice(0, 80);
  return subject ? `UID ${m.uid} "${subject}"` : `UID ${m.uid}`;
}

async function ensureFolder(client: ImapFlow, folder: string): Promise<void> {
  const path = mailboxPath(folder);
  const list = await client.list();
  const wanted = Array.isArray(path) ? path : [path];
  const exists = list.some((m) => m.path === folder || (m.delimiter && m.path === wanted.join(m.delimiter)));
  if (!exists) await client.mailboxCreate(path);
}

async function logout(client: ImapFlow): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([client.logout(), new Promise((resolve) => (timer = setTimeout(resolve, LOGOUT_TIMEOUT_MS)))]);
  } catch {
    // the connection is gone already
  } finally {
    clearTimeout(timer);
    client.close();
  }
}

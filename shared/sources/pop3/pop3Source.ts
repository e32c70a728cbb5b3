import type { LauncherOf } from '../../config/schema';
import { ItemRejectedError, SourceError, describeError } from '../../errors';
import { giveUpUnlessPartlyStaged } from '../../mail/failedRuns';
import { filteredOut, readMailDocuments, type MailDocuments } from '../../mail/mailDocuments';
import type { Candidate, Source, SourceContext, SourceDocument, SourceItem } from '../types';
import { pop3ActionFor } from './afterSuccess';
import { connectPop3 } from './connect';
import { listMailbox, type MailboxEntry } from './listing';
import { MAX_REASON_LENGTH, forgetGone, pop3Memory, recordFailure } from './memory';
import { Pop3ServerError } from './pop3Connection';

/** One POP3 connection per run (a maildrop allows one session): one message at a time. */
export const POP3_CONCURRENCY = 1;

export interface Pop3Item extends SourceItem {
  uidl: string;
  /** Message number in this run's session. */
  number: number;
  /** Size announced by LIST. */
  size: number;
}

type Pop3Launcher = LauncherOf<'pop3'>;

/**
 * The POP3 launcher's source: the maildrop of one account, over ONE connection per run.
 * - scan: UIDL + LIST, oldest first; messages already filed (see memory.ts) are skipped,
 *   or deleted when an earlier run could not commit their deletion;
 * - documents: RETR streamed into the shared MIME layer (shared/mail);
 * - acknowledge: `delete` sends DELE (committed by QUIT when the source is closed) or
 *   `keep` remembers the UIDL;
 * - putAside: POP3 has no folders: the message stays on the server and its UIDL is
 *   remembered as set aside, with the reason.
 * Read-only (`ctx.readOnly`): no DELE, not even of messages filed earlier, and the session
 * ends with RSET and no QUIT (see `close`).
 * Item key: `<user>@<server>:<UIDL>`.
 */
export async function createPop3Source(ctx: SourceContext<Pop3Launcher>): Promise<Source<Pop3Item>> {
  const { launcher } = ctx;
  const readOnly = ctx.readOnly === true;
  const account = `${launcher.user}@${launcher.server}`;
  const log = ctx.logger.child({ server: launcher.server, user: launcher.user });
  const action = pop3ActionFor(launcher.afterSuccess);
  const { memory, reset } = pop3Memory(ctx.state, account);
  if (reset) log.warn(`the launcher now reads ${account}: what it remembered of another mailbox is forgotten`);
  const conn = await connectPop3(launcher, log);
  const open = new Map<string, MailDocuments>();
  const attempted = new Set<string>();
  /** Deleted in this session: filed for good once QUIT is answered. */
  const deletedNow = new Set<string>();
  const now = () => ctx.now().toISOString();

  async function* scan(limit: number): AsyncGenerator<Candidate<Pop3Item>> {
    const { entries, duplicates } = await listMailbox(conn);
    forgetGone(memory, new Set(entries.map((e) => e.uidl)));
    for (const d of duplicates) {
      yield { verdict: 'skipped', label: labelOf(d), reason: `message ${d.number} has the same UIDL as an earlier message (a server fault): not taken` };
    }
    let ready = 0;
    for (const entry of entries) {
      const label = labelOf(entry);
      const filedAt = memory.filed[entry.uidl];
      if (filedAt) {
        yield { verdict: 'skipped', label, reason: await completeFiled(entry, filedAt) };
        continue;
      }
      const aside = memory.setAside[entry.uidl];
      if (aside) {
        yield { verdict: 'skipped', label, reason: `set aside on ${aside.at}: ${aside.reason} (left on the server; delete it there once handled)` };
        continue;
      }
      if (ready >= limit) {
        yield { verdict: 'waiting', label, reason: `batch limit of ${limit} reached, taken by a later run` };
        continue;
      }
      ready++;
      yield { verdict: 'ready', label, item: { key: `${account}:${entry.uidl}`, label, uidl: entry.uidl, number: entry.number, size: entry.size } };
    }
  }

  /** A message filed by an earlier run is still there: applies the action again (DELE), never files it again. */
  async function completeFiled(entry: MailboxEntry, filedAt: string): Promise<string> {
    if (!action.deletes) return action.alreadyFiled(filedAt);
    if (readOnly) return `filed on ${filedAt}, but its deletion was not committed (connection lost before QUIT): the next run deletes it, without filing it again`;
    try {
      await action.apply(conn, entry);
    } catch (err) {
      if (conn.closed) throw err;
      log.warn(`"${labelOf(entry)}" was filed on ${filedAt} but could not be deleted: ${describeError(err)}`, { uidl: entry.uidl });
      return `filed on ${filedAt}; deleting it failed (${describeError(err)}), tried again next run`;
    }
    deletedNow.add(entry.uidl);
    log.info(`"${labelOf(entry)}" ${action.alreadyFiled(filedAt)}`, { uidl: entry.uidl });
    return action.alreadyFiled(filedAt);
  }

  async function documents(item: Pop3Item): Promise<SourceDocument[]> {
    await releaseOthers(item.key);
    if (conn.closed) throw new SourceError('POP3_CLOSED', `the connection to ${launcher.server} was lost earlier in this run: "${item.label}" is left for the next run`);
    const failure = memory.failures[item.uidl];
    if (failure && failure.count >= launcher.maxFailures) {
      // Set aside (an ItemRejectedError), unless part of it is already staged.
      await giveUpUnlessPartlyStaged(ctx.store, launcher.id, item, failure, { log, kept: 'not set aside', fields: { uidl: item.uidl } });
    }
    let mail: MailDocuments;
    try {
      mail = await readMailDocuments(await conn.body(`RETR ${item.number}`), launcher);
    } catch (err) {
      if (!(err instanceof ItemRejectedError)) recordFailure(memory, item.uidl, ctx.now(), err);
      throw err;
    }
    open.set(item.key, mail);
    if (mail.message.size !== item.size) {
      log.debug(`"${item.label}": LIST announced ${item.size} bytes, RETR gave ${mail.message.size}`, { uidl: item.uidl });
    }
    log.debug(`"${item.label}" is "${mail.message.subject ?? ''}" from ${mail.message.from ?? 'unknown'}`, { uidl: item.uidl, messageId: mail.message.messageId });
    for (const note of mail.notes) log.info(`"${item.label}": ${note}`, { uidl: item.uidl });
    if (mail.filtered.length > 0) log.info(`"${item.label}": ${filteredOut(mail.filtered, launcher.filenameFilter)}`, { uidl: item.uidl, filtered: mail.filtered });
    return mail.documents.map((doc) => ({
      ...doc,
      open: async () => {
        if (!attempted.has(item.key)) {
          // Cleared by acknowledge/putAside: a run that starts staging and does not finish counts.
          attempted.add(item.key);
          recordFailure(memory, item.uidl, ctx.now());
        }
        const stream = await doc.open();
        stream.once('error', (err) => recordFailure(memory, item.uidl, ctx.now(), err, false));
        return stream;
      },
    }));
  }

  async function releaseOthers(keep?: string): Promise<void> {
    for (const [key, mail] of open) {
      if (key === keep) continue;
      open.delete(key);
      await mail.dispose();
    }
  }

  async function done(item: Pop3Item): Promise<void> {
    delete memory.failures[item.uidl];
    const mail = open.get(item.key);
    open.delete(item.key);
    await mail?.dispose();
  }

  async function close(): Promise<void> {
    await releaseOthers();
    if (readOnly) return closeUntouched();
    try {
      await conn.quit();
    } catch (err) {
      conn.destroy();
      if (deletedNow.size === 0) {
        log.debug(`closing the POP3 session: ${describeError(err)}`);
        return;
      }
      const committed = err instanceof Pop3ServerError ? `the server refused QUIT (-ERR ${err.text})` : `the connection was lost before QUIT was answered (${describeError(err)})`;
      throw new SourceError(
        'POP3_NOT_COMMITTED',
        `launcher ${launcher.id}: ${deletedNow.size} deletion(s) not committed: ${committed}. The server keeps these messages; they are filed already, and the next run deletes them without filing them again.`,
        { cause: err },
      );
    }
    for (const uidl of deletedNow) delete memory.filed[uidl];
  }

  /**
   * Ends a read-only session leaving the maildrop as it was: RSET, because Dovecot marks
   * the messages a session retrieved as read when it ends, even without QUIT; and no QUIT,
   * because Gmail takes a message retrieved in a session ended by QUIT as downloaded
   * (never listed again, then kept, archived or deleted as its POP settings say).
   */
  async function closeUntouched(): Promise<void> {
    try {
      if (!conn.closed) await conn.command('RSET');
    } catch (err) {
      log.debug(`RSET before closing a read-only POP3 session: ${describeError(err)}`);
    } finally {
      conn.destroy();
    }
  }

  function assertWritable(item: Pop3Item, what: string): void {
    if (readOnly) throw new SourceError('POP3_READ_ONLY', `launcher ${launcher.id}: the source was opened read-only (preview): "${item.label}" cannot be ${what}`);
  }

  return {
    concurrency: POP3_CONCURRENCY,
    scan,
    documents,
    async acknowledge(item) {
      assertWritable(item, 'acknowledged');
      // Filed first: if DELE or QUIT fails, the next run knows not to file it again.
      memory.filed[item.uidl] = now();
      await action.apply(conn, { number: item.number, uidl: item.uidl, size: item.size });
      if (action.deletes) deletedNow.add(item.uidl);
      await done(item);
      log.debug(`"${item.label}" ${action.description}`, { uidl: item.uidl });
    },
    async putAside(item, reason) {
      assertWritable(item, 'set aside');
      memory.setAside[item.uidl] = { at: now(), reason: reason.slice(0, MAX_REASON_LENGTH) };
      log.warn(`"${item.label}" set aside: left on the server and skipped from now on: ${reason}`, { uidl: item.uidl, reason });
      await done(item);
    },
    close,
  };
}

function labelOf(e: MailboxEntry): string {
  return `message ${e.number} (UIDL ${e.uidl})`;
}

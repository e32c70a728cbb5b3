import { SourceError } from '../../errors';
import type { MailboxEntry } from './listing';
import type { Pop3Connection } from './pop3Connection';

/**
 * What happens to a message once all its documents are safe, chosen by name. POP3 has no
 * flags: a message that stays (`keep`), or whose deletion was not committed, is known
 * as filed only through the source's memory (memory.ts); `apply` also serves when the
 * scan finds such a message again.
 */
export interface Pop3Action {
  /** Said of a message the action was applied to. */
  readonly description: string;
  /** True when the action deletes: the deletions count only once QUIT is answered +OK. */
  readonly deletes: boolean;
  apply(conn: Pop3Connection, entry: MailboxEntry): Promise<void>;
  /** Why a message filed by an earlier run is not taken now (it was filed at `since`). */
  alreadyFiled(since: string): string;
}

const ACTIONS = new Map<string, () => Pop3Action>([
  [
    'delete',
    () => ({
      description: 'deleted (committed at QUIT)',
      deletes: true,
      apply: deleteMessage,
      alreadyFiled: (since) => `filed on ${since}, but its deletion was not committed (connection lost before QUIT): deleted now, not filed again`,
    }),
  ],
  [
    'keep',
    () => ({
      description: 'kept on the server',
      deletes: false,
      apply: async () => undefined,
      alreadyFiled: (since) => `already filed on ${since}: kept on the server ("afterSuccess": "keep")`,
    }),
  ],
]);

export function pop3ActionFor(afterSuccess: string): Pop3Action {
  const make = ACTIONS.get(afterSuccess);
  if (!make) throw new SourceError('POP3_UNKNOWN_ACTION', `unknown afterSuccess "${afterSuccess}" (delete or keep)`);
  return make();
}

async function deleteMessage(conn: Pop3Connection, entry: MailboxEntry): Promise<void> {
  try {
    await conn.command(`DELE ${entry.number}`);
  } catch (err) {
    throw new SourceError('POP3_ACTION_FAILED', `the server refused to delete message ${entry.number} (UIDL ${entry.uidl}): ${(err as Error).message}`, { cause: err });
  }
}

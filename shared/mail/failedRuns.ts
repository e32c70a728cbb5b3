import { ItemRejectedError } from '../errors';
import type { BlobStore } from '../staging/blobStore';
import { describeStored, storedDocuments } from '../staging/storedDocuments';
import type { SourceItem } from '../sources/types';
import type { LogFields, Logger } from '../util/log';

/** Runs in a row a message failed, as the IMAP and POP3 sources remember them. */
export interface FailedRuns {
  count: number;
  lastError?: string;
}

/** `failed in 3 runs in a row (last: …)`. */
export function failedRuns(failure: FailedRuns): string {
  return `failed in ${failure.count} runs in a row${failure.lastError ? ` (last: ${failure.lastError})` : ''}`;
}

/**
 * A mail source's last word on a message that failed `maxFailures` runs in a row: given up
 * (an ItemRejectedError, so it is put aside) when none of its documents was staged; else
 * EzGED would get part of the mail only, so it stays and is tried again every run, with a
 * warning naming that part. `kept` says what is not done to it ("not set aside"), `fields`
 * are the message's log fields.
 */
export async function giveUpUnlessPartlyStaged(
  store: BlobStore | undefined,
  launcherId: string,
  item: SourceItem,
  failure: FailedRuns,
  warn: { log: Logger; kept: string; fields: LogFields },
): Promise<void> {
  const why = failedRuns(failure);
  const stored = store ? await storedDocuments(store, launcherId, item.key) : [];
  if (stored.length === 0) throw new ItemRejectedError(why);
  warn.log.warn(
    `"${item.label}" ${why}, but part of it is already staged (${describeStored(stored)}): ${warn.kept}, ` +
      'so that EzGED does not get part of the mail only; tried again every run',
    { ...warn.fields, staged: stored.map((d) => d.name) },
  );
}

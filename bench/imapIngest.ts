import { parseConfig } from '../shared/config/load';
import { runLauncher } from '../shared/launch/runLauncher';
import { settleWhenStaged } from '../shared/launch/settlement';
import { BlobStore } from '../shared/staging/blobStore';
import { silentLogger } from '../shared/util/log';
import { appendMessages, imapLauncherOn, testImapClient, type RunningDovecot } from '../test/helpers/dovecot';
import { generateMails } from '../test/helpers/mailMessages';
import { timed, type Pair } from './stats';

const FOLDER = 'Bench';
const BASELINE_CONTAINER = 'baseline';

export interface ImapIngestOptions {
  messages: number;
  attachmentSize: number;
  rounds: number;
  dovecot: RunningDovecot;
  connectionString: string;
}

/** Uploads in flight at once in the overlapped baseline. */
export const OVERLAPPED_UPLOADS = 4;

export interface ImapIngestResult extends Pair {
  docs: number;
  /** The same FETCH with OVERLAPPED_UPLOADS uploads in flight (`baselineMs`: one at a time, as ours). */
  overlappedMs: number[];
}

/**
 * IMAP → staged blobs (the launcher, `afterSuccess: seen`), against the same messages
 * fetched raw with one `FETCH 1:* BODY.PEEK[]` over one imapflow connection and written to
 * Azurite as they are, with the same SDK: uploads one at a time (as the launcher takes one
 * message at a time), and overlapped (OVERLAPPED_UPLOADS in flight). Both sides log in over
 * STARTTLS. Before each measure the messages lose their \Seen flag and the containers (the
 * launcher's state with them) are emptied, so every measure works on the same messages.
 * The three run in turn, in a rotating order, after one warm-up round.
 */
export async function imapIngest(o: ImapIngestOptions): Promise<ImapIngestResult> {
  const d = o.dovecot;
  const mails = generateMails({ count: o.messages, tag: `bench${o.messages}`, seed: 7, size: () => o.attachmentSize });
  await emptyFolder(d);
  await appendMessages(d, FOLDER, mails.map((m) => m.raw));
  const store = BlobStore.fromConnectionString(o.connectionString);
  const launcher = parseConfig(
    JSON.stringify({
      ezged: { dropFolder: '/unused' },
      launchers: [
        {
          id: 'bench-imap',
          ...imapLauncherOn(d, '%BENCH_IMAP_PASSWORD%'),
          source: FOLDER,
          afterSuccess: 'seen',
          maxItemsPerRun: o.messages,
          scenarios: [{ waitdir: 'w' }],
        },
      ],
    }),
    { BENCH_IMAP_PASSWORD: d.password },
  ).launchers[0]!;

  const prepare = async () => {
    for await (const c of store.service.listContainers()) await store.service.deleteContainer(c.name);
    await store.ensureContainers();
    await store.service.getContainerClient(BASELINE_CONTAINER).createIfNotExists();
    const client = await testImapClient(d);
    try {
      const lock = await client.getMailboxLock(FOLDER);
      try {
        await client.messageFlagsRemove('1:*', ['\\Seen']);
      } finally {
        lock.release();
      }
    } finally {
      await client.logout();
    }
  };
  const ours = async () => {
    const report = await runLauncher(launcher, { store, settlement: settleWhenStaged(store), logger: silentLogger, force: true });
    if (report.staged !== o.messages || report.acknowledged !== o.messages) {
      throw new Error(`staged ${report.staged}, acknowledged ${report.acknowledged} of ${o.messages}: ${report.error ?? ''}`);
    }
  };
  const baseline = (concurrency: number) => async () => {
    const container = store.service.getContainerClient(BASELINE_CONTAINER);
    const client = await testImapClient(d);
    let count = 0;
    try {
      const lock = await client.getMailboxLock(FOLDER);
      try {
        const pending = new Set<Promise<void>>();
        for await (const m of client.fetch('1:*', { uid: true, source: true })) {
          const source = m.source!;
          const p = container
            .getBlockBlobClient(`raw/${m.uid}.eml`)
            .upload(source, source.length)
            .then(() => void count++);
          pending.add(p);
          void p.finally(() => pending.delete(p)).catch(() => undefined);
          if (pending.size >= concurrency) await Promise.race(pending);
        }
        await Promise.all(pending);
      } finally {
        lock.release();
      }
    } finally {
      await client.logout();
    }
    if (count !== o.messages) throw new Error(`baseline uploaded ${count} of ${o.messages}`);
  };
  const result: ImapIngestResult = { docs: o.messages, oursMs: [], baselineMs: [], overlappedMs: [] };
  const contenders: [number[], () => Promise<void>][] = [
    [result.baselineMs, baseline(1)],
    [result.oursMs, ours],
    [result.overlappedMs, baseline(OVERLAPPED_UPLOADS)],
  ];
  for (let round = 0; round <= o.rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const [times, fn] = contenders[(round + k) % contenders.length]!;
      await prepare();
      const ms = await timed(fn);
      if (round > 0) times.push(ms);
    }
  }
  await prepare(); // leaves nothing staged behind for the next scenario
  return result;
}

/** Deletes the bench folder if an earlier call left it. */
async function emptyFolder(d: RunningDovecot): Promise<void> {
  const client = await testImapClient(d);
  try {
    if ((await client.list()).some((m) => m.path === FOLDER)) await client.mailboxDelete(FOLDER);
  } finally {
    await client.logout();
  }
}

// Shared by the restart fault suites (test/faults/restart*.test.ts): an IMAP launcher over
// MESSAGES mails delivering to the EzGED double, runs disrupted at chosen moments, checks.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BlobStore } from '../../shared/staging/blobStore';
import { startEzgedDouble, type EzgedDouble } from '../fakes/ezgedDouble';
import { runCli, type CliResult } from './cli';
import { appendMessages, folderContents, type RunningDovecot } from './dovecot';
import { assertExactlyOnce, checkDeliveries, countBlobs, countByMessageId, counts } from './faultChecks';
import { tempDir } from './folders';
import { generateMails, type GeneratedMail } from './mailMessages';

export const MESSAGES = Number(process.env.FAULT_RESTART_MESSAGES ?? 150);
export const RESTARTS = Number(process.env.FAULT_RESTARTS ?? 3);
export const SEED = Number(process.env.FAULT_SEED ?? 20261128);
/** Runs after the restarts at most, to finish the work. */
const MAX_RUNS_AFTER = 10;
const EZGED_PASSWORD = 'fault-ezged-pw';
const FOLDER = 'Scans';
const POLL_MS = 25;

export interface Scene {
  dir: string;
  mails: GeneratedMail[];
  expected: string[];
  double: EzgedDouble;
  env: Record<string, string>;
}

/** MESSAGES mails in FOLDER, an EzGED double, and launchers.json (IMAP on the plain port → EzGED). */
export async function scene(d: RunningDovecot, connectionString: string, seed: number): Promise<Scene> {
  const mails = generateMails({ count: MESSAGES, tag: `r${seed}`, seed, attachmentsPer: (i) => 1 + (i % 2), size: (i) => 2000 + (i % 13) * 600 });
  await appendMessages(d, FOLDER, mails.map((m) => m.raw));
  const double = await startEzgedDouble({ accounts: [{ login: 'cold', password: EZGED_PASSWORD }], waitdirs: ['courrier'], sessionIdleMs: 600_000, maxSessions: 1000 });
  const dir = await tempDir('cold-faults-restart-');
  await writeFile(
    join(dir, 'launchers.json'),
    JSON.stringify({
      ezged: { url: double.url, login: 'cold', password: '%FAULT_EZGED_PASSWORD%', allowInsecureHttp: true, maxAttempts: 20 },
      launchers: [
        {
          id: 'mail',
          protocol: 'imap',
          server: d.host,
          port: d.imapPort,
          security: 'none',
          allowInsecure: true,
          user: d.user,
          password: '%FAULT_IMAP_PASSWORD%',
          source: FOLDER,
          afterSuccess: 'seen',
          timeoutSeconds: 15,
          scenarios: [{ waitdir: 'courrier' }],
        },
      ],
    }),
  );
  return {
    dir,
    mails,
    expected: mails.flatMap((m) => m.attachments.map((a) => a.sha256)),
    double,
    env: { AzureWebJobsStorage: connectionString, FAULT_IMAP_PASSWORD: d.password, FAULT_EZGED_PASSWORD: EZGED_PASSWORD },
  };
}

/**
 * Starts `run --once`; once `when()` says so (progress seen in storage or in EzGED), calls
 * `disrupt` (stop a server, start it again) while the run goes on; then waits for the run.
 * Returns its result and whether it was still running when the disruption began.
 */
export async function disruptedRun(s: Scene, when: () => Promise<boolean>, disrupt: () => Promise<void>): Promise<{ result: CliResult; midRun: boolean }> {
  let finished = false;
  const t0 = Date.now();
  const running = runCli(['run', '--once'], { cwd: s.dir, env: s.env }).finally(() => (finished = true));
  while (!finished && !(await when().catch(() => false))) await sleep(POLL_MS);
  const midRun = !finished;
  const t1 = Date.now();
  await disrupt();
  const result = await running;
  // FAULT_TRACE=1 shows what each disrupted run did.
  if (process.env.FAULT_TRACE) console.log(`# disrupted at ${t1 - t0} ms, run ended at ${Date.now() - t0} ms, exit ${result.code}: ${result.stdout.trim()}\n${result.stderr.split('\n').filter((l) => !/delivered "|staged "/.test(l)).slice(0, 12).join('\n')}`);
  return { result, midRun };
}

/**
 * A `when` for disruptedRun: true once `count()` grew, since the first call, by a seeded
 * share (10 to 60 %) of what is left to reach `total`.
 */
export function afterProgress(count: () => Promise<number>, total: number, random: () => number): () => Promise<boolean> {
  const share = 0.1 + 0.5 * random();
  let target: number | undefined;
  return async () => {
    const now = await count();
    target ??= now + Math.max(1, Math.floor((total - now) * share));
    return now >= target;
  };
}

/** Documents in storage (staged or already delivered): grows while the launcher ingests. */
export const documentsIn = (store: BlobStore) => async () => (await countBlobs(store, 'staging')) + (await countBlobs(store, 'archive'));

/** Runs `run --once` until one exits 0 with staging empty. */
export async function finish(s: Scene, store: BlobStore): Promise<{ runs: number; lastCode: number | null; lastStderr: string }> {
  let last: CliResult | undefined;
  let runs = 0;
  while (runs < MAX_RUNS_AFTER) {
    last = await runCli(['run', '--once'], { cwd: s.dir, env: s.env });
    runs++;
    if (last.code === 0 && (await countBlobs(store, 'staging')) === 0) break;
    await sleep(1_000);
  }
  return { runs, lastCode: last?.code ?? null, lastStderr: last?.stderr ?? '' };
}

/** Every attachment once in EzGED with one success answer, nothing left in storage, every mail \Seen once. */
export async function verify(name: string, s: Scene, d: RunningDovecot, store: BlobStore, extra: Record<string, number | string>) {
  await s.double.settled();
  const v = await checkDeliveries(s.double, s.expected);
  const staging = await countBlobs(store, 'staging');
  const failed = await countBlobs(store, 'failed');
  const inFolder = await folderContents(d, FOLDER);
  const ids = countByMessageId(inFolder);
  const notFinal = s.mails.filter((m) => ids.get(`<${m.messageId}>`) !== 1).length + inFolder.filter((m) => !m.flags.includes('\\Seen')).length;
  console.log(
    `# faults ${name}: ${counts({ messages: MESSAGES, documents: s.expected.length, ...extra, delivered: v.delivered, duplicates: v.duplicates, losses: v.losses, repeats: v.repeats, extraWrites: v.extraWrites, staging, failed, notFinal })}`,
  );
  assertExactlyOnce(v, s.expected.length, { oneAnswer: true, message: 'every attachment delivered once, with exactly one success answer' });
  assert.deepEqual({ staging, failed, notFinal, mails: inFolder.length }, { staging: 0, failed: 0, notFinal: 0, mails: MESSAGES }, 'nothing left in storage, every mail \\Seen once');
  assert.deepEqual(s.double.violations, []);
}


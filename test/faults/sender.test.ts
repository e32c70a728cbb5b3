import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EzgedDouble, Fault } from '../fakes/ezgedDouble';
import { useAzurite } from '../helpers/azurite';
import { runCli } from '../helpers/cli';
import { assertExactlyOnce, checkDeliveries, countBlobs, counts, FAULT_EZGED_PASSWORD, startFaultEzged } from '../helpers/faultChecks';
import { listFiles, tempDir, writeFiles } from '../helpers/folders';
import { mulberry32 } from '../helpers/killer';
import { sha256 } from '../helpers/mailMessages';

const azurite = useAzurite();
const DOCS = Number(process.env.FAULT_DOCS ?? 300);
const FAULTS = Number(process.env.FAULT_EZGED_FAULTS ?? 40);
const SEED = Number(process.env.FAULT_SEED ?? 20261128);
/** Runs of `run --once` at most: each lost answer costs its document a backoff of about 5 s. */
const MAX_RUNS = 40;
const PAUSE_BETWEEN_RUNS_MS = 1_000;
const EZGED_PASSWORD = FAULT_EZGED_PASSWORD;

/** The kinds of trouble EzGED (or a proxy in front of it) gives, drawn at random (uploads more often than logins). */
const FAULT_MENU: ((r: () => number) => Fault)[] = [
  (r) => ({ kind: 'status', on: 'upload', status: 503, times: 1 + Math.floor(r() * 6) }),
  (r) => ({ kind: 'status', on: 'upload', status: 503, times: 1 + Math.floor(r() * 3) }),
  (r) => ({ kind: 'status', on: 'upload', status: r() < 0.5 ? 500 : 502, times: 1 + Math.floor(r() * 3) }),
  () => ({ kind: 'drop', on: 'upload', stage: 'on-arrival' }),
  () => ({ kind: 'drop', on: 'upload', stage: 'on-arrival' }),
  () => ({ kind: 'drop', on: 'upload', stage: 'after-write' }),
  () => ({ kind: 'drop', on: 'upload', stage: 'after-write' }),
  () => ({ kind: 'expire-sessions', on: 'upload' }),
  () => ({ kind: 'expire-sessions', on: 'upload' }),
  () => ({ kind: 'status', on: 'login', status: 503 }),
  () => ({ kind: 'too-many-sessions' }),
  () => ({ kind: 'drop', on: 'login', stage: 'on-arrival' }),
];

/**
 * Once the first upload has arrived, injects FAULTS faults into the double, one every 50 to
 * 250 ms (seeded), so that they meet deliveries in progress; returns how many of each kind.
 */
function chaos(double: EzgedDouble, seed: number): { done: Promise<Record<string, number>>; stop: () => void } {
  const random = mulberry32(seed);
  const byKind: Record<string, number> = {};
  let stopped = false;
  const done = (async () => {
    while (double.stats.uploadRequests === 0 && !stopped) await sleep(20);
    for (let i = 0; i < FAULTS && !stopped; i++) {
      await sleep(50 + random() * 200);
      const fault = FAULT_MENU[Math.floor(random() * FAULT_MENU.length)]!(random);
      const name = `${fault.kind}${'on' in fault ? `@${fault.on}` : ''}${fault.kind === 'drop' ? `/${fault.stage}` : ''}`;
      byKind[name] = (byKind[name] ?? 0) + 1;
      double.inject(fault);
    }
    return byKind;
  })();
  return { done, stop: () => void (stopped = true) };
}

test(`sender: ${DOCS} staged documents → EzGED with ${FAULTS} faults (5xx bursts, dropped connections, expired sessions): each arrives with exactly one success answer`, async () => {
  const store = await azurite.reset();
  const dir = await tempDir('cold-faults-sender-');
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < DOCS; i++) files[`doc-${String(i).padStart(4, '0')}.pdf`] = randomBytes(2048 + (i % 9) * 900);
  await writeFiles(join(dir, 'scans'), files);
  const expected = Object.values(files).map((b) => sha256(b));
  const double = await startFaultEzged(['factures']);
  try {
    await writeFile(
      join(dir, 'launchers.json'),
      JSON.stringify({
        ezged: { url: double.url, login: 'cold', password: '%FAULT_EZGED_PASSWORD%', allowInsecureHttp: true, timeoutSeconds: 10, maxAttempts: 30 },
        launchers: [{ id: 'scans', protocol: 'folder', source: './scans', delaySeconds: 0, scenarios: [{ waitdir: 'factures' }] }],
      }),
    );
    const env = { AzureWebJobsStorage: azurite.get().connectionString, FAULT_EZGED_PASSWORD: EZGED_PASSWORD };
    const trouble = chaos(double, SEED);
    const codes: (number | null)[] = [];
    let lastStderr = '';
    try {
      // Staged documents stay in staging until delivered; one whose attempt failed waits for
      // its backoff (deferred), so runs go on until staging is empty.
      for (let run = 0; run < MAX_RUNS; run++) {
        const r = await runCli(['run', '--once'], { cwd: dir, env });
        codes.push(r.code);
        // FAULT_TRACE=1 shows each run's summary and first warnings (to see how faults play out).
        if (process.env.FAULT_TRACE) console.log(`# run ${run}: exit ${r.code}, ${await countBlobs(store, 'staging')} left in staging; ${r.stdout.trim()}\n${r.stderr.split('\n').slice(0, 20).join('\n')}`);
        lastStderr = r.stderr;
        if ((await countBlobs(store, 'staging')) === 0 && (await listFiles(join(dir, 'scans'))).length === 0) break;
        await sleep(PAUSE_BETWEEN_RUNS_MS);
      }
    } finally {
      trouble.stop();
    }
    const byKind = await trouble.done;
    await double.settled();

    const v = await checkDeliveries(double, expected);
    const staging = await countBlobs(store, 'staging');
    const failed = await countBlobs(store, 'failed');
    const faultsHit = double.events.filter((e) => / fault |dropped/.test(e)).length;
    console.log(
      `# faults sender: ${counts({ documents: DOCS, runs: codes.length, faultsInjected: FAULTS, faultsHit, pendingFaults: double.pendingFaults(), delivered: v.delivered, duplicates: v.duplicates, losses: v.losses, successAnswersNot1: v.repeats + v.unanswered, lostAnswers: double.stats.lostAnswers, rewritten: v.rewritten, extraWrites: v.extraWrites, logins: double.stats.sessionsOpened, unauthorized: double.stats.unauthorized })}`,
    );
    console.log(`# faults sender kinds: ${counts(byKind)}`);
    assert.equal(staging, 0, `staging should be empty after ${codes.length} runs (exit codes ${codes.join(',')}): ${lastStderr.slice(-2000)}`);
    assert.ok(faultsHit > FAULTS / 2, `only ${faultsHit} faults hit the sender: the test proved little`);
    assertExactlyOnce(v, DOCS, { oneAnswer: true });
    // A file is written again only when the answer to an earlier write was lost.
    assert.ok(v.extraWrites <= double.stats.lostAnswers, `${v.extraWrites} extra writes for ${double.stats.lostAnswers} lost answers`);
    assert.equal(failed, 0, 'no dead letter');
    assert.deepEqual(await listFiles(join(dir, 'scans')), [], 'the source folder is empty');
    assert.deepEqual(double.violations, []);
  } finally {
    await double.stop();
  }
});

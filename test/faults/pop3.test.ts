import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { useAzurite } from '../helpers/azurite';
import { runCli } from '../helpers/cli';
import { appendMessages, dovecotGate, folderContents, useDovecot, type RunningDovecot } from '../helpers/dovecot';
import { assertExactlyOnce, checkDeliveries, countBlobs, countByMessageId, counts, FAULT_EZGED_PASSWORD, faultMails, startFaultEzged } from '../helpers/faultChecks';
import { tempDir } from '../helpers/folders';
import { killUntilDone } from '../helpers/killer';
import { emptyInbox } from '../helpers/pop3';

const gate = dovecotGate();
const dovecot = useDovecot(gate.skip);
const azurite = useAzurite();
const MESSAGES = Number(process.env.FAULT_POP3_MESSAGES ?? 150);
const KILLS = Number(process.env.FAULT_KILLS ?? 10);
const SEED = Number(process.env.FAULT_SEED ?? 20261128);
const EZGED_PASSWORD = FAULT_EZGED_PASSWORD;

/**
 * Writes launchers.json: one POP3 launcher on Dovecot → the EzGED double. The "delete" test
 * goes through STLS on the clear-text port (the CA by path), the "keep" test through implicit
 * TLS (the CA as PEM), so both ways of trusting the server are exercised under kills.
 */
async function config(dir: string, d: RunningDovecot, ezgedUrl: string, afterSuccess: string): Promise<void> {
  const transport =
    afterSuccess === 'delete'
      ? { port: d.pop3Port, security: 'starttls', tls: { ca: d.certPath, servername: 'localhost' } }
      : { port: d.pop3sPort, security: 'tls', tls: { ca: d.certPem, servername: 'localhost' } };
  await writeFile(
    join(dir, 'launchers.json'),
    JSON.stringify({
      ezged: { url: ezgedUrl, login: 'cold', password: '%FAULT_EZGED_PASSWORD%', allowInsecureHttp: true, maxAttempts: 20 },
      launchers: [
        {
          id: 'mail',
          protocol: 'pop3',
          server: d.host,
          ...transport,
          user: d.user,
          password: '%FAULT_POP3_PASSWORD%',
          afterSuccess,
          timeoutSeconds: 20,
          scenarios: [{ waitdir: 'courrier' }],
        },
      ],
    }),
  );
}

describe('POP3 launcher killed at random moments', { skip: gate.skip }, () => {
  for (const [index, afterSuccess] of ['delete', 'keep'].entries()) {
    test(`${MESSAGES} mails, afterSuccess ${afterSuccess}, killed ${KILLS} times: every attachment delivered once, every mail in its final state`, async () => {
      const d = dovecot();
      await emptyInbox(d); // POP3 has one maildrop: each test starts from an empty INBOX
      const store = await azurite.reset();
      const mails = faultMails(MESSAGES, `p${index}`, SEED + 20 + index);
      await appendMessages(d, 'INBOX', mails.map((m) => m.raw));
      const expected = mails.flatMap((m) => m.attachments.map((a) => a.sha256));
      const double = await startFaultEzged(['courrier']);
      try {
        const dir = await tempDir('cold-faults-pop3-');
        await config(dir, d, double.url, afterSuccess);
        const env = { AzureWebJobsStorage: azurite.get().connectionString, FAULT_POP3_PASSWORD: d.password, FAULT_EZGED_PASSWORD: EZGED_PASSWORD };
        // Measured on 2 cores (loaded): a first uninterrupted run of 150 mails takes 4.5–6 s —
        // process start ≈ 0.3 s, RETR + staging until ≈ 2.5 s (DELEs, QUIT, the launcher's state
        // saved), then delivery to EzGED. The state is saved only at the start and the end of a
        // launcher run, so a run killed while staging leaves the next one to RETR every message
        // again (found already staged): such a re-run reaches delivery at ≈ 3.3 s, ends at ≈ 4.7 s.
        // Kills between 0.3 s and 4.5 s thus hit start-up, RETR/staging, DELE/QUIT and delivery;
        // the loop stops at the first run not killed, so a late kill can end it before KILLS.
        const loop = await killUntilDone({ cwd: dir, env, seed: SEED + 30 + index, kills: KILLS, minDelayMs: 300, maxDelayMs: 4500 });
        assert.equal(loop.lastCode, 0, `the last run should finish cleanly: ${loop.lastStderr.slice(-2000)}`);
        await double.settled();

        const v = await checkDeliveries(double, expected);
        const staging = await countBlobs(store, 'staging');
        const failed = await countBlobs(store, 'failed');
        const inbox = await folderContents(d, 'INBOX');
        const ids = countByMessageId(inbox);
        // delete: no mail may be left on the server; keep: every mail still there, once.
        const notFinal = afterSuccess === 'delete' ? inbox.length : mails.filter((m) => ids.get(`<${m.messageId}>`) !== 1).length;

        // Sessions opened by the double = runs that reached delivery (killed ones included).
        const deliveryStats = { sessions: double.stats.sessionsOpened, uploads: double.stats.uploadRequests, abortedUploads: double.stats.abortedUploads };
        // keep: a further clean run must take nothing (every UIDL remembered as filed).
        let rerunNew = 0;
        let rerunCode: number | null = 0;
        let rerunStderr = '';
        if (afterSuccess === 'keep') {
          const before = double.files.size;
          const writesBefore = [...double.files.values()].reduce((n, f) => n + f.writes, 0);
          const again = await runCli(['run', '--once'], { cwd: dir, env });
          rerunCode = again.code;
          rerunStderr = again.stderr;
          await double.settled();
          const writesAfter = [...double.files.values()].reduce((n, f) => n + f.writes, 0);
          rerunNew = double.files.size - before + (writesAfter - writesBefore);
        }
        const inboxAfter = afterSuccess === 'keep' ? (await folderContents(d, 'INBOX')).length : inbox.length;
        const stagingAfter = afterSuccess === 'keep' ? await countBlobs(store, 'staging') : staging;

        console.log(
          `# faults pop3 ${afterSuccess}: ${counts({ messages: MESSAGES, documents: expected.length, runs: loop.runs, kills: loop.kills, delivered: v.delivered, duplicates: v.duplicates, losses: v.losses, repeats: v.repeats, extraWrites: v.extraWrites, staging, failed, inInbox: inbox.length, notFinal, ...deliveryStats, ...(afterSuccess === 'keep' ? { rerunNew } : {}) })}`,
        );
        assert.ok(loop.kills > 0, 'no run was killed: the test proved nothing');
        assertExactlyOnce(v, expected.length);
        assert.deepEqual({ staging, failed }, { staging: 0, failed: 0 }, 'nothing left in staging or failed');
        if (afterSuccess === 'delete') {
          assert.deepEqual({ inInbox: inbox.length }, { inInbox: 0 }, 'every mail deleted from the server');
        } else {
          assert.deepEqual({ notFinal, total: inbox.length }, { notFinal: 0, total: MESSAGES }, 'every mail still once on the server');
          assert.equal(rerunCode, 0, `the further run should finish cleanly: ${rerunStderr.slice(-2000)}`);
          assert.deepEqual(
            { rerunNew, delivered: double.files.size, staging: stagingAfter, inInbox: inboxAfter },
            { rerunNew: 0, delivered: expected.length, staging: 0, inInbox: MESSAGES },
            'a further run delivers nothing new and leaves the mails on the server',
          );
        }
        assert.deepEqual(double.violations, []);
      } finally {
        await double.stop();
      }
    });
  }
});

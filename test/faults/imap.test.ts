import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { useAzurite } from '../helpers/azurite';
import { appendMessages, dovecotGate, folderContents, useDovecot, type RunningDovecot } from '../helpers/dovecot';
import { assertExactlyOnce, checkDeliveries, countBlobs, countByMessageId, counts, FAULT_EZGED_PASSWORD, faultMails, startFaultEzged } from '../helpers/faultChecks';
import { tempDir } from '../helpers/folders';
import { killUntilDone } from '../helpers/killer';

const gate = dovecotGate();
const dovecot = useDovecot(gate.skip);
const azurite = useAzurite();
const MESSAGES = Number(process.env.FAULT_IMAP_MESSAGES ?? 200);
const KILLS = Number(process.env.FAULT_KILLS ?? 12);
const SEED = Number(process.env.FAULT_SEED ?? 20261128);
const EZGED_PASSWORD = FAULT_EZGED_PASSWORD;

/** Writes launchers.json: one IMAP launcher on `folder` (STARTTLS, the test CA by path) → the EzGED double. */
async function config(dir: string, d: RunningDovecot, ezgedUrl: string, folder: string, afterSuccess: string): Promise<void> {
  await writeFile(
    join(dir, 'launchers.json'),
    JSON.stringify({
      ezged: { url: ezgedUrl, login: 'cold', password: '%FAULT_EZGED_PASSWORD%', allowInsecureHttp: true, maxAttempts: 20 },
      launchers: [
        {
          id: 'mail',
          protocol: 'imap',
          server: d.host,
          port: d.imapPort,
          security: 'starttls',
          tls: { ca: d.certPath, servername: 'localhost' },
          user: d.user,
          password: '%FAULT_IMAP_PASSWORD%',
          source: folder,
          afterSuccess,
          timeoutSeconds: 20,
          scenarios: [{ waitdir: 'courrier' }],
        },
      ],
    }),
  );
}

describe('IMAP launcher killed at random moments', { skip: gate.skip }, () => {
  for (const [index, afterSuccess] of ['seen', 'move:Classe'].entries()) {
    test(`${MESSAGES} mails, afterSuccess ${afterSuccess}, killed ${KILLS} times: every attachment delivered once, every mail in its final state`, async () => {
      const d = dovecot();
      const store = await azurite.reset();
      const folder = `Scans${index}`;
      const mails = faultMails(MESSAGES, `f${index}`, SEED + index);
      await appendMessages(d, folder, mails.map((m) => m.raw));
      const expected = mails.flatMap((m) => m.attachments.map((a) => a.sha256));
      const double = await startFaultEzged(['courrier']);
      try {
        const dir = await tempDir('cold-faults-imap-');
        await config(dir, d, double.url, folder, afterSuccess);
        const env = { AzureWebJobsStorage: azurite.get().connectionString, FAULT_IMAP_PASSWORD: d.password, FAULT_EZGED_PASSWORD: EZGED_PASSWORD };
        const loop = await killUntilDone({ cwd: dir, env, seed: SEED + 10 + index, kills: KILLS, minDelayMs: 300, maxDelayMs: 3500 });
        assert.equal(loop.lastCode, 0, `the last run should finish cleanly: ${loop.lastStderr.slice(-2000)}`);
        await double.settled();

        const v = await checkDeliveries(double, expected);
        const staging = await countBlobs(store, 'staging');
        const failed = await countBlobs(store, 'failed');
        const inSource = await folderContents(d, folder);
        const moved = afterSuccess.startsWith('move:') ? await folderContents(d, afterSuccess.slice('move:'.length)) : [];
        const finalState = afterSuccess === 'seen' ? inSource : moved;
        const ids = countByMessageId(finalState);
        const notFinal = mails.filter((m) => ids.get(`<${m.messageId}>`) !== 1).length;
        const leftBehind = afterSuccess === 'seen' ? inSource.filter((m) => !m.flags.includes('\\Seen')).length : inSource.length;
        console.log(
          `# faults imap ${afterSuccess}: ${counts({ messages: MESSAGES, documents: expected.length, runs: loop.runs, kills: loop.kills, delivered: v.delivered, duplicates: v.duplicates, losses: v.losses, repeats: v.repeats, extraWrites: v.extraWrites, staging, notFinal })}`,
        );
        assert.ok(loop.kills > 0, 'no run was killed: the test proved nothing');
        assertExactlyOnce(v, expected.length);
        assert.deepEqual({ staging, failed }, { staging: 0, failed: 0 }, 'nothing left in staging or failed');
        assert.deepEqual({ notFinal, leftBehind, total: finalState.length }, { notFinal: 0, leftBehind: 0, total: MESSAGES }, 'every mail once in its final state');
        assert.deepEqual(double.violations, []);
      } finally {
        await double.stop();
      }
    });
  }
});

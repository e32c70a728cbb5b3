import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, startAzurite, type RunningAzurite } from '../../shared/cli/embeddedAzurite';
import { BlobStore } from '../../shared/staging/blobStore';
import { dovecotGate, startDovecot } from '../helpers/dovecot';
import { tempDir } from '../helpers/folders';
import { mulberry32 } from '../helpers/killer';
import { RESTARTS, SEED, afterProgress, disruptedRun, documentsIn, finish, scene, verify, type Scene } from '../helpers/restartScene';

const gate = dovecotGate();

describe('Azurite restarted in the middle of runs', { skip: gate.skip }, () => {
  test(`Azurite stopped (SIGTERM) and started again on the same port and data ${RESTARTS} times mid-run: nothing lost, nothing twice`, async () => {
    const location = join(await tempDir('cold-faults-azurite-'), 'data');
    const port = await freePort();
    const d = await startDovecot();
    let azurite: RunningAzurite | undefined;
    let s: Scene | undefined;
    try {
      azurite = await startAzurite({ location, port });
      const store = BlobStore.fromConnectionString(azurite.connectionString);
      await store.ensureContainers();
      s = await scene(d, azurite.connectionString, SEED);
      const random = mulberry32(SEED + 100);
      const codes: (number | null)[] = [];
      let midRun = 0;
      for (let i = 0; i < RESTARTS; i++) {
        // In turn: while mails are being staged, while documents are being delivered, at a random time.
        const startedAt = Date.now();
        const after = 400 + random() * 2600;
        const when = [afterProgress(documentsIn(store), s.expected.length, random), afterProgress(async () => s!.double.files.size, s.expected.length, random), async () => Date.now() - startedAt >= after][i % 3]!;
        const r = await disruptedRun(s, when, async () => {
          await azurite?.stop();
          await sleep(300 + random() * 1500);
          azurite = await startAzurite({ location, port });
        });
        codes.push(r.result.code);
        if (r.midRun) midRun++;
      }
      const done = await finish(s, store);
      assert.equal(done.lastCode, 0, `the last run should finish cleanly: ${done.lastStderr.slice(-2000)}`);
      assert.ok(midRun > 0, 'no restart happened during a run: the test proved nothing');
      await verify('azurite restart', s, d, store, { restarts: RESTARTS, midRun, interruptedRunCodes: codes.join(','), runsAfter: done.runs });
    } finally {
      await s?.double.stop();
      await azurite?.stop();
      await d.stop();
    }
  });
});

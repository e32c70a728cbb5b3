import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startAzurite, type RunningAzurite } from '../../shared/cli/embeddedAzurite';
import { BlobStore } from '../../shared/staging/blobStore';
import { dovecotGate, startDovecot } from '../helpers/dovecot';
import { dovecotRestarter } from '../helpers/dovecotRestart';
import { mulberry32 } from '../helpers/killer';
import { RESTARTS, SEED, afterProgress, disruptedRun, documentsIn, finish, scene, verify, type Scene } from '../helpers/restartScene';

const gate = dovecotGate();

describe('Dovecot restarted in the middle of runs', { skip: gate.skip }, () => {
  test(`Dovecot stopped (SIGTERM) and started again ${RESTARTS} times mid-run: nothing lost, nothing twice`, async () => {
    const d = await startDovecot();
    const restarter = dovecotRestarter(d);
    let azurite: RunningAzurite | undefined;
    let s: Scene | undefined;
    try {
      azurite = await startAzurite();
      const store = BlobStore.fromConnectionString(azurite.connectionString);
      await store.ensureContainers();
      s = await scene(d, azurite.connectionString, SEED + 1);
      const random = mulberry32(SEED + 200);
      const codes: (number | null)[] = [];
      let midRun = 0;
      for (let i = 0; i < RESTARTS; i++) {
        // While mails are being taken: Dovecot is used only then.
        const r = await disruptedRun(s, afterProgress(documentsIn(store), s.expected.length, random), () => restarter.restart(200 + random() * 1000));
        codes.push(r.result.code);
        if (r.midRun) midRun++;
      }
      const done = await finish(s, store);
      assert.equal(done.lastCode, 0, `the last run should finish cleanly: ${done.lastStderr.slice(-2000)}`);
      assert.ok(midRun > 0, 'no restart happened during a run: the test proved nothing');
      await verify('dovecot restart', s, d, store, { restarts: restarter.restarts, midRun, interruptedRunCodes: codes.join(','), runsAfter: done.runs });
    } finally {
      await s?.double.stop();
      await azurite?.stop();
      await restarter.stop();
      await d.stop();
    }
  });
});

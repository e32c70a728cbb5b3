import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../../shared/config/load';
import { deliverAll, type DeliveryReport } from '../../shared/delivery/deliverAll';
import { runLauncher } from '../../shared/launch/runLauncher';
import { settleWhenStaged } from '../../shared/launch/settlement';
import { createTarget } from '../../shared/runtime/createTarget';
import { decodeMetadata } from '../../shared/staging/metadata';
import { createLogger, jsonLineSink } from '../../shared/util/log';
import { useAzurite } from '../helpers/azurite';
import { startEzgedDouble } from '../fakes/ezgedDouble';

const PASSWORD = 'Faults-Pa55word';
const azurite = useAzurite();
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('a burst of faults: every document arrives, byte-identical, each answered success exactly once', async () => {
  const double = await startEzgedDouble({ accounts: [{ login: 'cold', password: PASSWORD }], waitdirs: ['factures', 'divers'] });
  const source = await mkdtemp(join(tmpdir(), 'ezged-faults-'));
  const lines: string[] = [];
  const logger = createLogger(jsonLineSink((l) => lines.push(l)));
  try {
    const store = await azurite.reset();
    const contents = new Map<string, Buffer>();
    for (let i = 0; i < 12; i++) {
      const name = i % 3 === 0 ? `note-${i}.txt` : `facture-${i}.pdf`;
      const body = randomBytes(10_000 + i * 20_000);
      contents.set(name, body);
      await writeFile(join(source, name), body);
    }
    const config = parseConfig(
      JSON.stringify({
        ezged: { url: double.url, login: 'cold', password: '%EZGED_PASSWORD%', allowInsecureHttp: true, timeoutSeconds: 1, maxAttempts: 8 },
        launchers: [{ id: 'f', protocol: 'folder', source, delaySeconds: 0, scenarios: [{ group: 'pdf', waitdir: 'factures' }, { waitdir: 'divers' }] }],
      }),
      { EZGED_PASSWORD: PASSWORD },
    );
    const staged = await runLauncher(config.launchers[0]!, { store, settlement: settleWhenStaged(store), logger, force: true });
    assert.equal(staged.staged, 12);

    double.inject(
      { kind: 'too-many-sessions', times: 2 },
      { kind: 'status', on: 'login', status: 502 },
      { kind: 'slow', on: 'login', delayMs: 1_500 }, // longer than timeoutSeconds: the login is tried again
      { kind: 'status', on: 'upload', status: 503, times: 3 },
      { kind: 'status', on: 'upload', status: 429, retryAfterSeconds: 0 },
      { kind: 'drop', on: 'upload', stage: 'on-arrival', times: 2 },
      { kind: 'drop', on: 'upload', stage: 'after-write' }, // written, answer lost
      { kind: 'slow', on: 'upload', delayMs: 2_500 }, // written, the client gave up: answer lost
      { kind: 'expire-sessions', on: 'upload' },
    );

    const target = createTarget(config.ezged, { logger, sessionScope: 'target', retry: { tries: 6, firstDelayMs: 20, maxDelayMs: 200 } });
    const total: DeliveryReport = { delivered: 0, retry: 0, deadLettered: 0 };
    for (let round = 0; round < 8; round++) {
      const r = await deliverAll(store, target, logger, { maxAttempts: config.ezged.maxAttempts, concurrency: 3 });
      total.delivered += r.delivered;
      total.retry += r.retry;
      total.deadLettered += r.deadLettered;
      if (r.retry === 0) break;
    }
    await target.close();
    await double.settled(); // the slow answer the client gave up on

    assert.equal(double.pendingFaults(), 0, 'every injected fault was met');
    assert.equal(total.delivered, 12);
    assert.equal(total.deadLettered, 0);
    assert.ok(total.retry > 0, 'some deliveries needed another attempt');
    for (const role of ['staging', 'failed'] as const) {
      for await (const b of store.list(role)) assert.fail(`${b.name} left in ${role}`);
    }

    let writes = 0;
    let repeated = 0;
    for await (const b of store.list('archive')) {
      const m = decodeMetadata((await store.container('archive').getBlobClient(b.name).getProperties()).metadata);
      const rec = double.file(m.waitdir, m.deliveredAs!);
      assert.ok(rec, `${m.fileName} reached EzGED`);
      assert.equal(rec.successAnswers, 1, `${m.fileName}: exactly one success answer`);
      assert.equal(m.waitdir, m.fileName.endsWith('.pdf') ? 'factures' : 'divers');
      assert.equal(rec.sha256, sha(contents.get(m.fileName)!));
      assert.ok((await readFile(double.localPath(m.waitdir, m.deliveredAs!))).equals(contents.get(m.fileName)!));
      assert.ok(m.location?.endsWith(`\\${m.waitdir}\\${m.deliveredAs}`));
      writes += rec.writes;
      if (rec.writes > 1) repeated++;
    }
    // At-least-once at the EzGED boundary: a document is written again only when the
    // answer to a completed upload was lost, and then into the same name (replaced).
    assert.equal(double.stats.lostAnswers, 2);
    assert.equal(writes, 12 + double.stats.lostAnswers);
    assert.equal(repeated, 2);
    assert.equal(double.stats.abortedUploads + double.stats.uploadRequests > 12, true);
    assert.ok(double.stats.sessionsOpened <= 4, `sessions opened: ${double.stats.sessionsOpened}`);
    assert.deepEqual(double.violations, []);
    const logs = lines.join('\n');
    assert.ok(!logs.includes(PASSWORD) && !logs.includes('sessionid=') && !logs.includes('pwd='));
  } finally {
    await double.stop();
    await rm(source, { recursive: true, force: true });
  }
});

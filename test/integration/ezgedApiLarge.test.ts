import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { parseConfig } from '../../shared/config/load';
import { deliverAll } from '../../shared/delivery/deliverAll';
import { runLauncher } from '../../shared/launch/runLauncher';
import { settleWhenStaged } from '../../shared/launch/settlement';
import { createTarget } from '../../shared/runtime/createTarget';
import { decodeMetadata } from '../../shared/staging/metadata';
import { createLogger, jsonLineSink } from '../../shared/util/log';
import { useAzurite } from '../helpers/azurite';
import { withMemoryPeak } from '../helpers/memoryPeak';
import { startEzgedDouble } from '../fakes/ezgedDouble';

const SIZE = 200 * 1024 * 1024;
const BLOCK = 1024 * 1024;
/** Far below the document's size: memory must not grow with it. */
const MAX_RSS_GROWTH = 128 * 1024 * 1024;

const azurite = useAzurite();

/** 200 MB of varied bytes, generated as a stream (never held in memory); returns its SHA-256. */
async function writeLargeFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  const seed = randomBytes(BLOCK);
  async function* blocks() {
    for (let i = 0; i < SIZE / BLOCK; i++) {
      const b = Buffer.from(seed);
      b.writeUInt32BE(i, (i * 4099) % (BLOCK - 4)); // every block differs
      hash.update(b);
      yield b;
    }
  }
  await pipeline(Readable.from(blocks()), createWriteStream(path));
  return hash.digest('hex');
}

test('a 200 MB document is delivered with bounded memory, byte-identical', async (t) => {
  const double = await startEzgedDouble({ accounts: [{ login: 'cold', password: 'Large-Pa55' }], waitdirs: ['archives'], storeFiles: false });
  const source = await mkdtemp(join(tmpdir(), 'ezged-large-'));
  try {
    const store = await azurite.reset();
    const sha256 = await writeLargeFile(join(source, 'grand-livre.pdf'));
    const logger = createLogger(jsonLineSink(() => undefined));
    const config = parseConfig(
      JSON.stringify({
        ezged: { url: double.url, login: 'cold', password: '%PW%', allowInsecureHttp: true, timeoutSeconds: 60 },
        launchers: [{ id: 'big', protocol: 'folder', source, delaySeconds: 0, scenarios: [{ waitdir: 'archives' }] }],
      }),
      { PW: 'Large-Pa55' },
    );
    const staged = await runLauncher(config.launchers[0]!, { store, settlement: settleWhenStaged(store), logger, force: true });
    assert.equal(staged.staged, 1);

    const target = createTarget(config.ezged, { logger, sessionScope: 'target' });
    const { value: report, rssMb } = await withMemoryPeak(() => deliverAll(store, target, logger, { maxAttempts: 3, concurrency: 1 }), 20);
    await target.close();

    assert.deepEqual(report, { delivered: 1, retry: 0, deadLettered: 0 });
    let archived;
    for await (const b of store.list('archive')) archived = decodeMetadata((await store.container('archive').getBlobClient(b.name).getProperties()).metadata);
    assert.ok(archived);
    const rec = double.file('archives', archived.deliveredAs!);
    assert.equal(rec?.size, SIZE);
    assert.equal(rec?.sha256, sha256, 'EzGED received the same 200 MB');
    t.diagnostic(`200 MB delivery: peak RSS growth ${rssMb.toFixed(1)} MB`);
    assert.ok(rssMb * 1024 * 1024 < MAX_RSS_GROWTH, `RSS grew by ${rssMb.toFixed(1)} MB while delivering 200 MB`);
  } finally {
    await double.stop();
    await rm(source, { recursive: true, force: true });
  }
});

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, test } from 'node:test';
import { launcherSchema } from '../../shared/config/schema';
import { runLauncher } from '../../shared/launch/runLauncher';
import { settleWhenStaged } from '../../shared/launch/settlement';
import { launcherSegment } from '../../shared/staging/blobNames';
import { decodeMetadata } from '../../shared/staging/metadata';
import { createLogger } from '../../shared/util/log';
import { startFakeMicrosoftCloud } from '../fakes/graphFake';
import { useAzurite } from '../helpers/azurite';
import { o365Skip } from '../helpers/o365Gate';

const SIZE = Number(process.env.O365_BIG_MB ?? 50) * 1024 * 1024;
/**
 * Live memory (heap + buffers, measured after a collection) the run may add: well under the
 * attachment's size (holding it whole would add 50 MB). Measured 12–25 MB: the stream's
 * chunks in flight and the block being uploaded, sampled at varying moments.
 */
const MEMORY_BOUND = 32 * 1024 * 1024;
const MAILBOX = 'ged-facture@contoso.fr';
const skip = o365Skip();

describe('O365 launcher, a 50 MB attachment', { skip }, () => {
  const azurite = useAzurite();
  let dir: string;
  let cloud: Awaited<ReturnType<typeof startFakeMicrosoftCloud>>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'o365-big-'));
    cloud = await startFakeMicrosoftCloud(dir, {
      tenantId: 'contoso.fr',
      apps: [{ clientId: 'app', secret: 'secret-value-1', roles: ['Mail.ReadWrite'] }],
      users: [],
      mailboxes: [{ address: MAILBOX }],
    });
  });
  after(async () => {
    await cloud?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('is streamed from $value into staging, byte for byte, with bounded memory', async () => {
    const store = await azurite.reset();
    const id = cloud.graph.addMessage(MAILBOX, 'inbox', {
      subject: 'Plans du chantier',
      attachments: [{ kind: 'file', name: 'plans.pdf', contentType: 'application/pdf', generatedSize: SIZE }],
    });
    const launcher = launcherSchema.parse({
      id: 'gros', protocol: 'o365', authMode: 'app-only', tenantId: 'contoso.fr', clientId: 'app', clientSecret: 'secret-value-1',
      authorityHost: cloud.entra.url, graphEndpoint: cloud.graph.url, tls: { ca: cloud.cert.certPem }, source: `${MAILBOX}:inbox`,
      delaySeconds: 0, scenarios: [{ waitdir: 'plans' }],
    });

    // What the run holds, not the garbage it leaves for later: collect, then measure.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const used = () => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const baseline = used();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, used())), 25);
    let report;
    try {
      report = await runLauncher(launcher, { store, settlement: settleWhenStaged(store), logger: createLogger(() => undefined), force: true });
    } finally {
      clearInterval(sampler);
    }
    assert.equal(report.error, undefined, report.error);
    assert.equal(report.staged, 1);
    assert.equal(cloud.graph.bytesStreamed, SIZE);

    const blobs: string[] = [];
    for await (const b of store.list('staging', `${launcherSegment('gros')}/`)) blobs.push(b.name);
    assert.equal(blobs.length, 1);
    const props = await store.container('staging').getBlobClient(blobs[0]!).getProperties();
    assert.equal(props.contentLength, SIZE);
    const meta = decodeMetadata(props.metadata);
    assert.equal(meta.sha256, cloud.graph.attachmentSha256(id, 0), 'the staged bytes are the attachment\'s');
    const grew = peak - baseline;
    console.log(`# peak live memory growth while staging ${SIZE / 1048576} MB: ${(grew / 1048576).toFixed(1)} MB`);
    assert.ok(grew < MEMORY_BOUND, `memory grew by ${(grew / 1048576).toFixed(1)} MB for a ${SIZE / 1048576} MB attachment`);
  });
});

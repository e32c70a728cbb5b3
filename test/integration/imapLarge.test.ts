import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { describe, test } from 'node:test';
import { usePrivateTmpdir } from '../helpers/privateTmpdir';
import { writeLargeMail } from '../helpers/largeMail';
import { parseConfig } from '../../shared/config/load';
import type { LauncherDefinition } from '../../shared/config/schema';
import { runLauncher } from '../../shared/launch/runLauncher';
import { settleWhenStaged } from '../../shared/launch/settlement';
import { decodeMetadata } from '../../shared/staging/metadata';
import { WORKSPACE_PREFIX } from '../../shared/mail/workspace';
import { silentLogger } from '../../shared/util/log';
import { useAzurite } from '../helpers/azurite';
import { withMemoryPeak } from '../helpers/memoryPeak';
import { deliverToMaildir, dovecotGate, folderContents, imapLauncherOn, useDovecot } from '../helpers/dovecot';

// Other test files create mail workspaces at the same time: this one checks its own.
usePrivateTmpdir('cold-large-');

const gate = dovecotGate();
const dovecot = useDovecot(gate.skip);
const azurite = useAzurite();

const ATTACHMENT_BYTES = 50 * 1024 * 1024;


describe('IMAP launcher: a large attachment', { skip: gate.skip }, () => {
  test('a 50 MB attachment is streamed to staging with bounded memory and no temp file left', async () => {
    const d = dovecot();
    const store = await azurite.reset();
    let sha = '';
    await deliverToMaildir(d, async (path) => {
      sha = await writeLargeMail(path, ATTACHMENT_BYTES, { fileName: 'archive-2024.pdf' });
    });
    const text = JSON.stringify({
      ezged: { dropFolder: '/unused' },
      launchers: [
        {
          id: 'large',
          ...imapLauncherOn(d),
          scenarios: [{ waitdir: 'divers' }],
        },
      ],
    });
    const launcher: LauncherDefinition = parseConfig(text, {}).launchers[0]!;
    const tempBefore = (await readdir(tmpdir())).filter((n) => n.startsWith(WORKSPACE_PREFIX));

    const { value: report, heapAndBuffersMb: growthMb, rssMb: rssGrowthMb } = await withMemoryPeak(() =>
      runLauncher(launcher, { store, settlement: settleWhenStaged(store), logger: silentLogger, force: true }),
    );
    assert.deepEqual([report.found, report.staged, report.acknowledged, report.error], [1, 1, 1, undefined]);

    const blobs: string[] = [];
    for await (const b of store.list('staging')) blobs.push(b.name);
    assert.equal(blobs.length, 1);
    const props = await store.container('staging').getBlobClient(blobs[0]!).getProperties();
    const meta = decodeMetadata(props.metadata);
    assert.equal(props.contentLength, ATTACHMENT_BYTES);
    assert.equal(meta.sha256, sha);
    assert.equal(meta.fileName, 'archive-2024.pdf');
    assert.ok((await folderContents(d, 'INBOX')).every((m) => m.flags.includes('\\Seen')));

    console.log(`# memory growth while filing a 50 MB attachment: heap+buffers ${growthMb.toFixed(1)} MB, rss ${rssGrowthMb.toFixed(1)} MB`);
    // Buffered whole, the message would take 117 MB (the 50 MB attachment and its 67 MB of
    // base64) on top of the garbage of streaming; streamed, what grows is short-lived chunks
    // (1 MB downloads, 4 MB staging blocks) that the GC collects at its own pace.
    assert.ok(growthMb < 90, `heap + buffers grew by ${growthMb.toFixed(1)} MB`);
    // RSS also keeps spent chunks until the GC runs (this process has Node's default young
    // generation, not the product's flags): 55–71 MB measured; buffering whole would add 117 MB.
    assert.ok(rssGrowthMb < 85, `rss grew by ${rssGrowthMb.toFixed(1)} MB`);
    const tempAfter = (await readdir(tmpdir())).filter((n) => n.startsWith(WORKSPACE_PREFIX));
    assert.deepEqual(tempAfter.filter((n) => !tempBefore.includes(n)), [], 'temp files removed');
  });
});

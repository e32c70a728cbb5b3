import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvocationContext, type Timer } from '@azure/functions';
import { coldRetry } from '../../functions/coldRetry';
import { ResourceFactoryResolver } from '@azure/functions-extensions-base';
import { BLOB_BINDING_SOURCE } from '../../functions/blobReference';
import { coldSender } from '../../functions/coldSender';
import { folderLauncher } from '../../functions/folderLauncher';
import { useAzurite } from '../helpers/azurite';
import { listFiles, tempDir, writeFiles } from '../helpers/folders';

const azurite = useAzurite();
const timer: Timer = { isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };

function context(functionName: string, lines: string[], triggerMetadata?: Record<string, unknown>): InvocationContext {
  return new InvocationContext({
    functionName,
    invocationId: `inv-${functionName}`,
    triggerMetadata,
    logHandler: (level, ...args) => lines.push(`${level} ${args.join(' ')}`),
  });
}

test('the functions, called as the host calls them: timer stages, blob trigger delivers, retry timer sweeps', async () => {
  const store = await azurite.reset();
  const dir = await tempDir();
  await writeFiles(join(dir, 'scans'), { 'facture.pdf': 'PDF', 'lettre.txt': 'TXT', 'avoir.pdf': 'PDF2' });
  await writeFile(
    join(dir, 'launchers.json'),
    JSON.stringify({
      ezged: { dropFolder: join(dir, 'wait'), createWaitdirs: true },
      launchers: [{ id: '12', protocol: 'folder', source: join(dir, 'scans'), delaySeconds: 0, scenarios: [{ group: 'pdf', waitdir: 'factures' }, { waitdir: 'divers' }] }],
    }),
  );
  const saved = { ...process.env };
  process.env.AzureWebJobsStorage = azurite.get().connectionString;
  process.env.LAUNCHERS_CONFIG = join(dir, 'launchers.json');
  try {
    const lines: string[] = [];
    await folderLauncher(timer, context('folderLauncher', lines));
    assert.deepEqual(await listFiles(join(dir, 'scans')), []);
    const staged: string[] = [];
    for await (const b of store.list('staging')) staged.push(b.name);
    assert.equal(staged.length, 3);
    assert.ok(lines.some((l) => /^information staged "facture.pdf" for factures .*"launcherId":"12".*"invocationId":"inv-folderLauncher"|^information staged "facture.pdf" for factures .*"invocationId":"inv-folderLauncher".*"launcherId":"12"/.test(l)), lines.join('\n'));

    // The host passes the blob's content; the sender streams it from storage by name.
    await coldSender(Buffer.from('ignored'), context('coldSender', lines, { name: staged[0] }));
    assert.equal((await listFiles(join(dir, 'wait'))).filter((f) => !f.startsWith('.')).length, 1);
    // With deferred binding the worker turns the host's reference into the trigger's value
    // through the factory coldSender registered; the name comes from it.
    const reference = ResourceFactoryResolver.getInstance().createClient(BLOB_BINDING_SOURCE, {
      source: BLOB_BINDING_SOURCE,
      contentType: 'application/json',
      version: '1.0',
      content: Buffer.from(JSON.stringify({ Connection: 'AzureWebJobsStorage', ContainerName: 'staging', BlobName: staged[1] })),
    });
    assert.deepEqual(reference, { connection: 'AzureWebJobsStorage', containerName: 'staging', blobName: staged[1] });
    await coldSender(reference, context('coldSender', lines, {}));
    assert.equal((await listFiles(join(dir, 'wait'))).filter((f) => !f.startsWith('.')).length, 2);

    // What the blob trigger did not deliver, the retry timer does.
    await coldRetry(timer, context('coldRetry', lines));
    assert.equal((await listFiles(join(dir, 'wait'))).filter((f) => !f.startsWith('.')).length, 3);
    let left = 0;
    for await (const _ of store.list('staging')) left++;
    assert.equal(left, 0);
  } finally {
    process.env = saved;
  }
});

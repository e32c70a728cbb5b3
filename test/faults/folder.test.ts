import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useAzurite } from '../helpers/azurite';
import { killUntilDone } from '../helpers/killer';
import { listFiles, tempDir, writeFiles } from '../helpers/folders';

const azurite = useAzurite();
const DOCS = Number(process.env.FAULT_DOCS ?? 300);
const KILLS = Number(process.env.FAULT_KILLS ?? 12);
const SEED = Number(process.env.FAULT_SEED ?? 20261128);

async function setup(embedded: boolean) {
  const dir = await tempDir('cold-faults-');
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < DOCS; i++) files[`doc-${String(i).padStart(4, '0')}.${i % 3 ? 'pdf' : 'txt'}`] = randomBytes(2048 + (i % 7) * 1000);
  await writeFiles(join(dir, 'scans'), files);
  await writeFile(
    join(dir, 'launchers.json'),
    JSON.stringify({
      ezged: { dropFolder: './wait', createWaitdirs: true },
      launchers: [{ id: 'f', protocol: 'folder', source: './scans', delaySeconds: 0, scenarios: [{ group: 'pdf', waitdir: 'pdf' }, { waitdir: 'other' }] }],
    }),
  );
  const expected = Object.values(files).map((b) => createHash('sha256').update(b).digest('hex'));
  return { dir, expected, env: { AzureWebJobsStorage: embedded ? undefined : azurite.get().connectionString } };
}

async function verify(dir: string, expected: string[]) {
  const delivered = (await listFiles(join(dir, 'wait'))).filter((f) => !f.startsWith('.'));
  const hashes = await Promise.all(delivered.map(async (f) => createHash('sha256').update(await readFile(join(dir, 'wait', f))).digest('hex')));
  const counts = new Map<string, number>();
  for (const h of hashes) counts.set(h, (counts.get(h) ?? 0) + 1);
  const duplicates = [...counts.values()].filter((n) => n > 1).length;
  const losses = expected.filter((h) => !counts.has(h)).length;
  const strangers = hashes.filter((h) => !expected.includes(h)).length;
  return { delivered: delivered.length, duplicates, losses, strangers, leftAtSource: (await listFiles(join(dir, 'scans'))).length };
}

for (const embedded of [false, true]) {
  test(`folder → wait folder, killed ${KILLS} times at random moments (${embedded ? 'embedded Azurite' : 'external Azurite'}): nothing lost, nothing twice`, async () => {
    if (!embedded) await azurite.reset();
    const { dir, expected, env } = await setup(embedded);
    // Kill times span a run's life: the embedded mode spends its first second starting Azurite.
    const loop = await killUntilDone({ cwd: dir, env, seed: SEED + (embedded ? 1 : 0), kills: KILLS, minDelayMs: embedded ? 300 : 150, maxDelayMs: embedded ? 2500 : 1200 });
    assert.equal(loop.lastCode, 0, `the last run should finish cleanly: ${loop.lastStderr.slice(-2000)}`);
    const v = await verify(dir, expected);
    console.log(`# faults folder ${embedded ? 'embedded' : 'external'}: documents=${DOCS} runs=${loop.runs} kills=${loop.kills} delivered=${v.delivered} duplicates=${v.duplicates} losses=${v.losses}`);
    assert.ok(loop.kills > 0, 'no run was killed: the test proved nothing');
    assert.deepEqual(v, { delivered: DOCS, duplicates: 0, losses: 0, strangers: 0, leftAtSource: 0 });
    if (!embedded) {
      let staging = 0;
      for await (const _ of azurite.store().list('staging')) staging++;
      assert.equal(staging, 0, 'nothing left in staging');
    }
  });
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useAzurite } from '../helpers/azurite';
import { runCli } from '../helpers/cli';
import { listFiles, tempDir, writeFiles } from '../helpers/folders';

const azurite = useAzurite();

async function project(files: Record<string, string>, over: Record<string, unknown> = {}) {
  const dir = await tempDir('cold-e2e-');
  await writeFiles(join(dir, 'scans'), files);
  const config = {
    ezged: { dropFolder: './wait', createWaitdirs: true },
    launchers: [
      {
        id: '12',
        description: 'Factures scannées',
        protocol: 'folder',
        source: './scans',
        delaySeconds: 0,
        filenameFilter: '/(?!debut_nom_fichier).*\\..*/',
        scenarios: [{ group: 'pdf', job: '87', waitdir: 'facturesfournisseurs' }, { job: '69', waitdir: 'documentsclients' }],
        schedule: ['* * * * * * */15'],
        ...over,
      },
    ],
  };
  await writeFile(join(dir, 'launchers.json'), JSON.stringify(config));
  return dir;
}

const delivered = async (dir: string) => (await listFiles(join(dir, 'wait'))).filter((f) => !f.startsWith('.'));
const sha = async (p: string) => createHash('sha256').update(await readFile(p)).digest('hex');

test('run --once: folder → staging → wait folders, byte-identical; a re-run delivers nothing new', async () => {
  const store = await azurite.reset();
  const dir = await project({ 'facture.pdf': 'PDF-1', 'lettre.txt': 'TXT', 'debut_nom_fichier_x.pdf': 'skip' });
  const env = { AzureWebJobsStorage: azurite.get().connectionString };
  const r = await runCli(['run', '--once'], { cwd: dir, env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Summary: 2 found, 2 staged, 2 delivered, 0 put aside, 0 failed \(1 filtered out\)/);
  assert.match(r.stderr, /\[12\] staged "facture.pdf" for facturesfournisseurs \(job 87\)/);
  const files = await delivered(dir);
  assert.equal(files.length, 2);
  assert.match(files.find((f) => f.startsWith('facturesfournisseurs/'))!, /^facturesfournisseurs\/facture_[0-9a-f]{8}\.pdf$/);
  assert.equal(await readFile(join(dir, 'wait', files.find((f) => f.endsWith('.txt'))!), 'utf8'), 'TXT');
  assert.deepEqual(await listFiles(join(dir, 'scans')), ['debut_nom_fichier_x.pdf']);
  let staging = 0;
  for await (const _ of store.list('staging')) staging++;
  assert.equal(staging, 0);

  const again = await runCli(['run', '--once'], { cwd: dir, env });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Summary: 0 found, 0 staged, 0 delivered/);
  assert.equal((await delivered(dir)).length, 2);
});

test('two documents with the same name never overwrite each other', async () => {
  await azurite.reset();
  const dir = await project({ 'a/facture.pdf': 'one', 'b/facture.pdf': 'two' }, { recursive: true });
  const r = await runCli(['run', '--once'], { cwd: dir, env: { AzureWebJobsStorage: azurite.get().connectionString } });
  assert.equal(r.code, 0, r.stderr);
  const files = await delivered(dir);
  assert.equal(files.length, 2);
  const contents = await Promise.all(files.map((f) => readFile(join(dir, 'wait', f), 'utf8')));
  assert.deepEqual(contents.sort(), ['one', 'two']);
});

for (const failpoint of ['after-inflight', 'after-stage', 'before-acknowledge', 'after-deliver', 'before-archive', 'after-archive-copy']) {
  test(`killed at ${failpoint}, then re-run: every document exactly once`, async () => {
    await azurite.reset();
    const files = { 'f1.pdf': 'one', 'f2.pdf': 'two', 'f3.txt': 'three' };
    const dir = await project(files);
    const env = { AzureWebJobsStorage: azurite.get().connectionString };
    const crashed = await runCli(['run', '--once'], { cwd: dir, env: { ...env, COLD_FAILPOINTS: failpoint === 'after-inflight' ? failpoint : `${failpoint}:2` } });
    assert.equal(crashed.signal, 'SIGKILL', `the failpoint should have killed the run: ${crashed.stderr}`);
    const rerun = await runCli(['run', '--once'], { cwd: dir, env });
    assert.equal(rerun.code, 0, rerun.stderr);
    const out = await delivered(dir);
    assert.equal(out.length, 3, `delivered: ${out.join(', ')}`);
    const hashes = await Promise.all(out.map((f) => sha(join(dir, 'wait', f))));
    const expected = await Promise.all(Object.values(files).map(async (c) => createHash('sha256').update(c).digest('hex')));
    assert.deepEqual(hashes.sort(), expected.sort());
    assert.deepEqual(await listFiles(join(dir, 'scans')), []);
  });
}

test('embedded storage (no AzureWebJobsStorage): acknowledged only after delivery; survives a kill', async () => {
  const dir = await project({ 'a.pdf': 'A', 'b.pdf': 'B' });
  const env = { AzureWebJobsStorage: undefined };
  const crashed = await runCli(['run', '--once'], { cwd: dir, env: { ...env, COLD_FAILPOINTS: 'after-stage:2' } });
  assert.equal(crashed.signal, 'SIGKILL');
  // Embedded mode delivers each item before acknowledging it: the first item went all the way.
  assert.ok((await listFiles(join(dir, 'scans'))).length >= 1);
  const rerun = await runCli(['run', '--once'], { cwd: dir, env });
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.match(rerun.stderr, /started an embedded Azurite/);
  assert.equal((await delivered(dir)).length, 2);
  assert.deepEqual(await listFiles(join(dir, 'scans')), []);
});

test('a bad definition exits 2 and lists every problem with the launcher id; no secret value printed', async () => {
  const dir = await project({}, { port: 'x', scenarios: [{ waitdir: '../etc' }], password: '%SCAN_PASSWORD%' });
  const r = await runCli(['run', '--once'], { cwd: dir, env: { AzureWebJobsStorage: azurite.get().connectionString } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /launchers\[12\]\.scenarios\[0\]\.waitdir: waitdir contains a path separator/);
  assert.match(r.stderr, /launchers\[12\]\.password: setting SCAN_PASSWORD is not set/);
  assert.match(r.stderr, /launchers\[12\]\.port: unknown field/);
});

test('a delivery that fails is dead-lettered with its reason (exit 1), and retry puts it back', async () => {
  await azurite.reset();
  const dir = await project({ 'a.pdf': 'A' });
  const config = JSON.parse(await readFile(join(dir, 'launchers.json'), 'utf8'));
  config.ezged.createWaitdirs = false;
  await writeFile(join(dir, 'launchers.json'), JSON.stringify(config));
  const env = { AzureWebJobsStorage: azurite.get().connectionString };
  const r = await runCli(['run', '--once'], { cwd: dir, env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERROR +\[12\] could not deliver "a.pdf": moved to the failed container \(WAITDIR_NOT_FOUND/);
  assert.match(r.stdout, /1 staged, 0 delivered, 0 put aside, 1 failed/);

  const status = await runCli(['status'], { cwd: dir, env });
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^12 +folder +\S+ +0 +0 +0 +1$/m);
  assert.match(status.stdout, /a\.pdf +1 +WAITDIR_NOT_FOUND/);

  config.ezged.createWaitdirs = true;
  await writeFile(join(dir, 'launchers.json'), JSON.stringify(config));
  const retry = await runCli(['retry', '12'], { cwd: dir, env });
  assert.equal(retry.code, 0, retry.stderr);
  assert.match(retry.stdout, /1 dead letter put back into staging/);
  const again = await runCli(['run', '--once'], { cwd: dir, env });
  assert.equal(again.code, 0, again.stderr);
  assert.equal((await delivered(dir)).length, 1);
});

test('check prints a table; preview shows verdicts, scenarios and final names without touching anything', async () => {
  await azurite.reset();
  const dir = await project({ 'facture.pdf': 'P', 'debut_nom_fichier.pdf': 'x', '.cache': 'h' });
  const env = { AzureWebJobsStorage: azurite.get().connectionString };
  const check = await runCli(['check'], { cwd: dir, env });
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /12 +folder +\.\/scans +ok/);
  assert.match(check.stdout, /ezged +target +wait folders under .* +ok/);
  const spent = await project({}, { schedule: ['2020 * * * * * 0', '* * * * 8 0 0'] });
  const spentCheck = await runCli(['check'], { cwd: spent, env });
  assert.equal(spentCheck.code, 0, spentCheck.stderr);
  assert.match(spentCheck.stdout, /12 +folder +\.\/scans +ok; warning: no occurrence left for schedule "2020 \* \* \* \* \* 0"/);
  const preview = await runCli(['preview', '12'], { cwd: dir, env });
  assert.equal(preview.code, 0, preview.stderr);
  assert.match(preview.stdout, /facture\.pdf +take +facturesfournisseurs \(job 87\) +facture_[0-9a-f]{8}\.pdf/);
  assert.match(preview.stdout, /debut_nom_fichier\.pdf +filtered/);
  assert.match(preview.stdout, /\.cache +skipped +hidden/);
  assert.deepEqual(await listFiles(join(dir, 'scans')), ['.cache', 'debut_nom_fichier.pdf', 'facture.pdf']);
  const unknown = await runCli(['preview', '99'], { cwd: dir, env });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no launcher with id "99"/);
});

test('schema prints a JSON Schema that editors can use for launchers.json', async () => {
  const dir = await tempDir('cold-e2e-');
  const r = await runCli(['schema'], { cwd: dir, env: {} });
  assert.equal(r.code, 0, r.stderr);
  const schema = JSON.parse(r.stdout) as { properties: Record<string, unknown>; required: string[] };
  assert.ok(schema.properties.launchers && schema.properties.ezged);
  assert.deepEqual(schema.required.sort(), ['ezged', 'launchers']);
});

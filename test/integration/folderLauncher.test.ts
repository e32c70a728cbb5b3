import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig } from '../../shared/config/load';
import type { LauncherDefinition } from '../../shared/config/schema';
import { deliverAll } from '../../shared/delivery/deliverAll';
import { createDropFolderTarget } from '../../shared/delivery/dropFolder';
import { runLauncher } from '../../shared/launch/runLauncher';
import { settleWhenDelivered, settleWhenStaged } from '../../shared/launch/settlement';
import type { BlobStore } from '../../shared/staging/blobStore';
import { createLogger, jsonLineSink, silentLogger } from '../../shared/util/log';
import { ItemRejectedError } from '../../shared/errors';
import { loadLauncherState } from '../../shared/staging/launcherState';
import { openSource } from '../../shared/sources';
import { useAzurite } from '../helpers/azurite';
import { listFiles, tempDir, writeFiles } from '../helpers/folders';

const azurite = useAzurite();

function launcher(source: string, over: Record<string, unknown> = {}): LauncherDefinition {
  const text = JSON.stringify({
    ezged: { dropFolder: '/unused' },
    launchers: [{ id: '12', protocol: 'folder', source, delaySeconds: 0, scenarios: [{ group: 'pdf', job: '87', waitdir: 'factures' }, { job: '69', waitdir: 'divers' }], ...over }],
  });
  return parseConfig(text, {}).launchers[0]!;
}

async function names(store: BlobStore, role: 'staging' | 'archive' | 'failed'): Promise<string[]> {
  const out: string[] = [];
  for await (const b of store.list(role)) out.push(b.name);
  return out.sort();
}

const run = (l: LauncherDefinition, store: BlobStore, extra: Partial<Parameters<typeof runLauncher>[1]> = {}) =>
  runLauncher(l, { store, settlement: settleWhenStaged(store), logger: silentLogger, force: true, ...extra });

test('files are staged with their scenario, then deleted; hidden, temporary and subfolders are skipped', async () => {
  const store = await azurite.reset();
  const src = await tempDir();
  await writeFiles(src, { 'a.pdf': 'A', 'b.txt': 'B', '.hidden.pdf': 'H', '~$lock.docx': 'L', 'x.part': 'P', 'sub/c.pdf': 'C' });
  const report = await run(launcher(src), store);
  assert.deepEqual([report.found, report.staged, report.acknowledged, report.skipped], [2, 2, 2, 4]);
  const staged = await names(store, 'staging');
  assert.equal(staged.length, 2);
  assert.deepEqual(await listFiles(src), ['.hidden.pdf', 'sub/c.pdf', 'x.part', '~$lock.docx']);
});

test('a re-run after staging but before acknowledging stages nothing twice', async () => {
  const store = await azurite.reset();
  const src = await tempDir();
  await writeFiles(src, { 'a.pdf': 'A', 'b.pdf': 'B' });
  const l = launcher(src);
  // Crash simulation: the first run stages but cannot acknowledge.
  const noAck = { ...settleWhenStaged(store), isSettled: async () => false };
  const first = await run(l, store, { settlement: noAck });
  assert.deepEqual([first.staged, first.acknowledged], [2, 0]);
  const second = await run(l, store);
  assert.deepEqual([second.found, second.staged, second.alreadyStaged, second.acknowledged], [2, 0, 2, 2]);
  assert.equal((await names(store, 'staging')).length, 2);
  assert.deepEqual(await listFiles(src), []);
});

test('an item already delivered (archive) is acknowledged without staging again', async () => {
  const store = await azurite.reset();
  const src = await tempDir();
  const wait = await tempDir();
  await writeFiles(src, { 'a.pdf': 'A' });
  const l = launcher(src);
  const noAck = { ...settleWhenStaged(store), isSettled: async () => false };
  await run(l, store, { settlement: noAck });
  await deliverAll(store, createDropFolderTarget({ dropFolder: wait, createWaitdirs: true }), silentLogger, { maxAttempts: 3 });
  const again = await run(l, store);
  assert.deepEqual([again.staged, again.acknowledged], [0, 1]);
  assert.deepEqual(await names(store, 'staging'), []);
  assert.equal((await names(store, 'archive')).length, 1);
  assert.equal((await listFiles(wait)).filter((f) => !f.startsWith('.')).length, 1);
});

test('delaySeconds: first look only records, a later look takes the unchanged file', async () => {
  const store = await azurite.reset();
  const src = await tempDir();
  await writeFiles(src, { 'a.pdf': 'A' });
  const old = new Date('2020-01-01T00:00:00Z');
  await utimes(join(src, 'a.pdf'), old, old);
  const l = launcher(src, { delaySeconds: 30 });
  const t0 = Date.now();
  const first = await run(l, store, { now: () => new Date(t0) });
  assert.deepEqual([first.found, first.waiting], [0, 1]);
  const tooEarly = await run(l, store, { now: () => new Date(t0 + 10_000) });
  assert.deepEqual([tooEarly.found, tooEarly.waiting], [0, 1]);
  await writeFile(join(src, 'a.pdf'), 'A grew');
  const changed = await run(l, store, { now: () => new Date(t0 + 40_000) });
  assert.deepEqual([changed.found, changed.waiting], [0, 1]);
  const stable = await run(l, store, { now: () => new Date(t0 + 71_000) });
  assert.deepEqual([stable.found, stable.staged], [1, 1]);
});

test('a daily schedule: a file first seen at the scheduled run is taken by a follow-up look delaySeconds later, not the next day', async () => {
  const store = await azurite.reset();
  const src = await tempDir();
  await writeFiles(src, { 'a.pdf': 'A' });
  const l = launcher(src, { delaySeconds: 30, schedule: ['* * * * 8 0 0'] });
  const at = (hhmmss: string) => () => new Date(`2026-11-30T${hhmmss}+01:00`);
  const unforced = (now: () => Date) => run(l, store, { now, force: false, timezone: 'Europe/Paris' });
  const eight = await unforced(at('08:00:10'));
  assert.deepEqual([eight.ran, eight.found, eight.waiting], [true, 0, 1]);
  const early = await unforced(at('08:00:30'));
  assert.equal(early.ran, false, 'not before delaySeconds');
  const followUp = await unforced(at('08:00:41'));
  assert.deepEqual([followUp.ran, followUp.staged], [true, 1]);
  const after = await unforced(at('08:01:30'));
  assert.equal(after.ran, false, 'nothing waits: no more follow-up');
  await writeFiles(src, { 'b.pdf': 'B' });
  assert.equal((await unforced(at('12:00:00'))).ran, false, 'a new file outside the schedule waits for it');
});

test('no scenario and no default: the file stays and is reported', async () => {
  const store = await azurite.reset();
  const src = await tempDir();
  await writeFiles(src, { 'a.pdf': 'A', 'b.docx': 'B' });
  const l = launcher(src, { scenarios: [{ group: 'pdf', waitdir: 'factures' }] });
  const r = await run(l, store);
  assert.deepEqual([r.found, r.staged, r.unrouted], [2, 1, 1]);
  assert.deepEqual(await listFiles(src), ['b.docx']);
});

test('an empty file is put aside with its reason; the rest of the batch goes on', async () => {
  const store = await azurite.reset();
  const src = await tempDir();
  await writeFiles(src, { 'a.pdf': 'A', 'empty.pdf': '' });
  const r = await run(launcher(src), store);
  assert.deepEqual([r.staged, r.putAside], [1, 1]);
  assert.deepEqual(await listFiles(src), ['.cold-failed/empty.pdf', '.cold-failed/empty.pdf.error.txt']);
  assert.match(await readFile(join(src, '.cold-failed/empty.pdf.error.txt'), 'utf8'), /empty file/);
});

test('filter, move:<folder> without overwriting, and the batch limit (oldest first)', async () => {
  const store = await azurite.reset();
  const src = await tempDir();
  await writeFiles(src, { 'done/a.pdf': 'older one', 'a.pdf': 'A', 'b.pdf': 'B', 'c.pdf': 'C', 'skip.tif': 'T' });
  for (const [i, n] of ['c.pdf', 'a.pdf', 'b.pdf'].entries()) await utimes(join(src, n), new Date(1e12 + i * 1000), new Date(1e12 + i * 1000));
  const l = launcher(src, { filenameFilter: '*.pdf', afterSuccess: 'move:done', maxItemsPerRun: 2 });
  const r = await run(l, store);
  assert.deepEqual([r.found, r.staged, r.filtered, r.waiting], [2, 2, 1, 1]);
  assert.deepEqual(await listFiles(src), ['b.pdf', 'done/a.pdf', 'done/a_1.pdf', 'done/c.pdf', 'skip.tif']);
  assert.equal(await readFile(join(src, 'done/a.pdf'), 'utf8'), 'older one');
});

test('a missing source folder fails that launcher with a clear error', async () => {
  const store = await azurite.reset();
  const r = await run(launcher('/nonexistent/scans'), store);
  assert.match(r.error ?? '', /SOURCE_NOT_FOUND: launcher 12: source folder \/nonexistent\/scans does not exist/);
});

test('delivered settlement: the source is acknowledged only once the document is in the wait folder', async () => {
  const store = await azurite.reset();
  const src = await tempDir();
  const wait = await tempDir();
  await writeFiles(src, { 'a.pdf': 'A', 'b.txt': 'B' });
  const target = createDropFolderTarget({ dropFolder: wait, createWaitdirs: false });
  const deliver = async (blobs: string[]) => {
    await deliverAll(store, target, silentLogger, { maxAttempts: 1, names: blobs });
  };
  // No wait folders yet: delivery fails permanently, nothing is acknowledged.
  const r1 = await run(launcher(src), store, { settlement: settleWhenDelivered(store, deliver) });
  assert.deepEqual([r1.staged, r1.acknowledged, r1.pendingAcknowledgement], [2, 0, 2]);
  assert.equal((await names(store, 'failed')).length, 2);
  assert.deepEqual(await listFiles(src), ['a.pdf', 'b.txt']);
});

test('an item stays in flight until its source closes cleanly (acknowledgements committed at close)', async () => {
  const store = await azurite.reset();
  const src = await tempDir();
  await writeFiles(src, { 'a.pdf': 'A' });
  const l = launcher(src);
  // A source whose close() fails, as POP3's when the connection drops before QUIT.
  const failingClose: typeof openSource = async (ctx) => ({ ...(await openSource(ctx)), close: async () => { throw new Error('connection lost before QUIT'); } });
  const r = await run(l, store, { openSource: failingClose });
  assert.deepEqual([r.staged, r.acknowledged], [1, 1]);
  assert.equal(Object.keys((await loadLauncherState(store, '12')).inflight).length, 1);
  await writeFiles(src, { 'b.pdf': 'B' });
  const r2 = await run(l, store);
  assert.equal(r2.staged, 1);
  // b.pdf, closed cleanly, left the set; a.pdf's key stays (harmless: forgotten after 30 days).
  const inflight = Object.keys((await loadLauncherState(store, '12')).inflight);
  assert.deepEqual(inflight.map((k) => k.split('|')[0]), ['a.pdf']);
});

test('a file replaced between staging and acknowledging is left in place, and its new content is taken by the next run', async () => {
  const store = await azurite.reset();
  const src = await tempDir();
  await writeFiles(src, { 'scan.pdf': 'first scan' });
  const l = launcher(src);
  const first = await run(l, store, {
    openSource: async (ctx) => {
      const real = await openSource(ctx);
      return {
        ...real,
        async acknowledge(item) {
          await writeFile(join(src, 'scan.pdf'), 'second scan, same name'); // the scanner writes again
          await real.acknowledge(item);
        },
      };
    },
  });
  assert.deepEqual([first.staged, first.acknowledged, first.failed], [1, 0, 1]);
  assert.equal(await readFile(join(src, 'scan.pdf'), 'utf8'), 'second scan, same name');
  const second = await run(l, store);
  assert.deepEqual([second.staged, second.acknowledged], [1, 1]);
  assert.deepEqual(await listFiles(src), []);
  assert.equal((await names(store, 'staging')).length, 2);
});

/** The real folder source, whose items get a second document that is found corrupt while staged. */
const halfBroken: Parameters<typeof runLauncher>[1]['openSource'] = async (ctx) => {
  const real = await openSource(ctx);
  return {
    ...real,
    async documents(item) {
      const [doc] = await real.documents(item);
      return [doc!, { name: 'annexe.pdf', open: async () => Promise.reject(new ItemRejectedError('annexe.pdf is corrupt')) }];
    },
  };
};

test('an item rejected after part of it was staged is not put aside (EzGED would get part of it): it stays, with a warning naming the staged part', async () => {
  const store = await azurite.reset();
  const src = await tempDir();
  await writeFiles(src, { 'dossier.pdf': 'first part' });
  const lines: string[] = [];
  const r = await run(launcher(src), store, {
    logger: createLogger(jsonLineSink((l) => lines.push(l))),
    openSource: halfBroken,
  });
  assert.deepEqual([r.putAside, r.failed, r.acknowledged], [0, 1, 0]);
  assert.equal((await names(store, 'staging')).length, 1, 'the first document was staged');
  assert.deepEqual(await listFiles(src), ['dossier.pdf'], 'left in place, not moved aside');
  const warnings = lines.map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) => l.level === 'warn');
  assert.ok(warnings.some((l) => /part of it is already staged \("dossier\.pdf" \(staging\)\)/.test(l.msg)), lines.join('\n'));

  // Weeks later, still at its source: still in flight (else a later run would take it as new and write its part again).
  const later = new Date(Date.now() + 40 * 86_400_000);
  await run(launcher(src), store, { now: () => later, openSource: halfBroken });
  assert.deepEqual(Object.keys((await loadLauncherState(store, '12')).inflight).map((k) => k.split('|')[0]), ['dossier.pdf']);
});

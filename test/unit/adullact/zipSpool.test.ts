import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { parseConfig } from '../../../shared/config/load';
import type { LauncherOf } from '../../../shared/config/schema';
import { ItemRejectedError } from '../../../shared/errors';
import { HELD_READERS, createAdullactSource, type AdullactItem } from '../../../shared/sources/adullact/adullactSource';
import { readEnvelope, type EnvelopeSpec } from '../../../shared/sources/adullact/envelope';
import { folderReader, type EnvelopeReader } from '../../../shared/sources/adullact/envelopeReader';
import { EnvelopeFormatError } from '../../../shared/sources/adullact/errors';
import { HeldReaders } from '../../../shared/sources/adullact/heldReaders';
import { SPOOL_PREFIX, STALE_SPOOL_MS, sweepStaleSpools } from '../../../shared/sources/adullact/spoolFolder';
import { SPOOL_MIN_BYTES, zipReader } from '../../../shared/sources/adullact/zipReader';
import type { SourceDocument } from '../../../shared/sources/types';
import { silentLogger } from '../../../shared/util/log';
import * as B from '../../fixtures/adullact/builders';
import { pesWithBrokenPj, zipWith } from '../../fixtures/adullact/faults';
import { countInflations, writeLargeZip } from '../../fixtures/adullact/largeZip';
import { listFiles, tempDir } from '../../helpers/folders';
import { withMemoryPeak } from '../../helpers/memoryPeak';

const zipSpec = (name: string): EnvelopeSpec => ({ name, kind: 'zip', endMarker: 'fichier_termine.txt', metadataStem: 'metadata' });
const heliosMeta = B.metadataJson({ id_coll: '21490001', cod_bud: '01' }, { fichier_pes: ['PES.xml'] });
/** Six PJ of 300 KB of random bytes: a PES of about 2.4 MB, above SPOOL_MIN_BYTES. */
const PJS: B.PesPj[] = Array.from({ length: 6 }, (_, i) => ({ nom: `piece ${i + 1}.pdf`, content: randomBytes(300_000) }));
const PES = B.pesAller({ pjs: PJS });

const drain = async (s: Readable) => {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
};
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const spools = async (root: string) => (await readdir(root)).filter((n) => n.startsWith(SPOOL_PREFIX));

/** The PES deflated (as PHP's ZipArchive writes it), the metadata stored: only the PES is inflated. */
async function pesZip(root: string, name = 'PES zippé.zip', pes = PES): Promise<string> {
  const path = join(root, name);
  await writeFile(path, zipWith({ 'metadata.json': { content: heliosMeta }, 'PES.xml': { content: pes, deflate: true } }));
  return path;
}

/** Reads the envelope and every document whole, in order, as staging does. */
async function readAll(reader: EnvelopeReader, name: string): Promise<Map<string, Buffer>> {
  const c = await readEnvelope(reader, zipSpec(name));
  const out = new Map<string, Buffer>();
  for (const d of c.documents) out.set(d.name, await drain(await d.open()));
  return out;
}

function launcher(source: string, over: Record<string, unknown> = {}): LauncherOf<'adullact'> {
  const text = JSON.stringify({ ezged: { dropFolder: '/unused' }, launchers: [{ id: 'adu', protocol: 'adullact', source, delaySeconds: 0, scenarios: [{ waitdir: 'd' }], ...over }] });
  return parseConfig(text, {}).launchers[0] as LauncherOf<'adullact'>;
}

async function source(root: string, tmpRoot: string) {
  const src = await createAdullactSource({ launcher: launcher(root), state: {}, logger: silentLogger, now: () => new Date(Date.now() + 600_000) }, { tmpRoot });
  const ready: AdullactItem[] = [];
  for await (const c of src.scan(100)) if (c.verdict === 'ready') ready.push(c.item);
  return { src, ready };
}

test('a zipped PES is inflated once per envelope: its skeleton, PJ check, the PES and every PJ are read from one temp file', async () => {
  const root = await tempDir();
  const tmp = await tempDir('cold-spool-test-');
  const zip = await pesZip(root);
  const reader = zipReader(zip, 'PES zippé.zip', { tmpRoot: tmp });
  const { value: docs, inflations } = await countInflations(() => readAll(reader, 'PES zippé.zip'));
  assert.equal(inflations, 1, 'the PES entry is inflated once, while the zip is checked');
  PJS.forEach((pj, i) => assert.equal(sha(docs.get(`piece ${i + 1}.pdf`)!), sha(pj.content), `PJ ${i + 1} intact`));
  assert.deepEqual(docs.get('PES.xml'), PES);
  assert.equal((await spools(tmp)).length, 1, 'one temp folder while the envelope is read');

  // the same names, in the same order, as the very same files in a folder envelope (staged blob names derive from them)
  const dir = await B.writeEnvelope(root, 'PES zippé', { 'PES.xml': PES }, { name: 'metadata.json', content: heliosMeta });
  const folder = await readEnvelope(folderReader(dir), { ...zipSpec('PES zippé'), kind: 'folder' });
  assert.deepEqual([...docs.keys()], folder.documents.map((d) => d.name));

  await reader.close!();
  assert.deepEqual(await spools(tmp), [], 'close() removes the temp folder');
  // a closed reader still reads (the zip is inflated again)
  const again = await readEnvelope(zipReader(zip, 'PES zippé.zip', { spoolMinBytes: Infinity }), zipSpec('PES zippé.zip'));
  assert.equal(sha(await drain(await again.documents.find((d) => d.name === 'piece 6.pdf')!.open())), sha(PJS[5].content));
});

test('without the temp file, every PJ would inflate the PES from its start again (what the count above guards against)', async () => {
  const root = await tempDir();
  const zip = await pesZip(root);
  const { inflations } = await countInflations(() => readAll(zipReader(zip, 'PES zippé.zip', { spoolMinBytes: Infinity }), 'PES zippé.zip'));
  // check + skeleton + PJ check + the PES itself + one per PJ
  assert.equal(inflations, 4 + PJS.length);
});

test('an entry smaller than SPOOL_MIN_BYTES is not spooled; a temp folder that cannot be made only costs inflations', async () => {
  const root = await tempDir();
  const tmp = await tempDir('cold-spool-test-');
  const small = await pesZip(root, 'petit.zip', B.pesAller({ pjs: B.PJS }));
  assert.ok((await stat(small)).size < SPOOL_MIN_BYTES);
  const r1 = zipReader(small, 'petit.zip', { tmpRoot: tmp });
  assert.deepEqual((await readAll(r1, 'petit.zip')).get('bon de commande.pdf'), B.PJS[1].content);
  assert.deepEqual(await spools(tmp), [], 'nothing written for a small zip');

  const big = await pesZip(root);
  const nowhere = zipReader(big, 'PES zippé.zip', { tmpRoot: join(tmp, 'absent', 'folder') });
  const { value: docs, inflations } = await countInflations(() => readAll(nowhere, 'PES zippé.zip'));
  assert.equal(sha(docs.get('piece 3.pdf')!), sha(PJS[2].content));
  assert.ok(inflations > 1, 'read from the zip instead');
  await nowhere.close!();
});

test('a corrupt PJ in a zipped PES still refuses the envelope before any document, naming the PJ; the temp folder goes', async () => {
  const root = await tempDir();
  const tmp = await tempDir('cold-spool-test-');
  await pesZip(root, 'PES cassé.zip', pesWithBrokenPj(PJS, 3, 'gzip'));
  const reader = zipReader(join(root, 'PES cassé.zip'), 'PES cassé.zip', { tmpRoot: tmp });
  await assert.rejects(readEnvelope(reader, zipSpec('PES cassé.zip')), (e: unknown) => {
    assert.ok(e instanceof EnvelopeFormatError && e.code === 'PJ_CORRUPT', String(e));
    assert.match(e.message, /^PES cassé\.zip\/PES\.xml: PJ n°4 "piece 4\.pdf" \(IdUnique PJ0004\): the embedded gzip is corrupt/);
    return true;
  });
  await reader.close!();

  // through the source: rejected by documents(), temp files removed at once, put aside whole
  const { src, ready } = await source(root, tmp);
  assert.equal(ready.length, 1);
  const err = await src.documents(ready[0]).then(() => assert.fail('documents given'), (e: unknown) => e);
  assert.ok(err instanceof ItemRejectedError && /PJ n°4 "piece 4\.pdf"/.test(err.message), String(err));
  assert.deepEqual(await spools(tmp), []);
  await src.putAside(ready[0], err.message);
  assert.ok((await listFiles(root)).includes('.adullact-quarantine/PES cassé.zip'));
  await src.close();
});

test('a large entry whose CRC-32 does not match is found while it is spooled: the envelope is refused, nothing kept', async () => {
  const root = await tempDir();
  const tmp = await tempDir('cold-spool-test-');
  const big = randomBytes(SPOOL_MIN_BYTES + 10);
  await writeFile(join(root, 'crc.zip'), zipWith({ 'acte.pdf': { content: big, wrongCrc: true, deflate: true }, 'metadata.json': { content: B.metadataJson({ acte_nature: '1' }, { arrete: ['acte.pdf'] }) } }));
  const { src, ready } = await source(root, tmp);
  const err = await src.documents(ready[0]).then(() => assert.fail('documents given'), (e: unknown) => e);
  assert.ok(err instanceof ItemRejectedError && /"acte\.pdf" is corrupt in the zip \(CRC-32/.test(err.message), String(err));
  assert.deepEqual(await spools(tmp), []);
  await src.close();
});

test('the source: the temp folder goes once the envelope is staged (its last document read), or when acknowledged, put aside, or closed', async () => {
  const root = await tempDir();
  const tmp = await tempDir('cold-spool-test-');
  await pesZip(root, 'a.zip');
  await pesZip(root, 'b.zip');
  const { src, ready } = await source(root, tmp);
  assert.deepEqual(ready.map((i) => i.label), ['a.zip', 'b.zip']);

  // staged in order (as stageItem does): released as soon as the last document (the index) is read
  const { value: docs, inflations } = await countInflations(async () => {
    const docs = await src.documents(ready[0]);
    assert.equal((await spools(tmp)).length, 1);
    for (const d of docs.slice(0, -1)) await drain(await d.open());
    assert.equal((await spools(tmp)).length, 1, 'kept until the last document');
    await drain(await docs.at(-1)!.open());
    return docs;
  });
  assert.equal(inflations, 1);
  await waitFor(async () => (await spools(tmp)).length === 0, 'released after the last document');
  // opened again (a retry): read from the zip, same bytes
  assert.equal(sha(await drain(await docs.find((d) => d.name === 'piece 2.pdf')!.open())), sha(PJS[1].content));
  await src.acknowledge(ready[0]);

  // not staged to the end (unrouted, failed, pending): released by close() at the latest
  await src.documents(ready[1]);
  assert.equal((await spools(tmp)).length, 1);
  await src.close();
  assert.deepEqual(await spools(tmp), []);
});

test('the source keeps the temp files of a few envelopes at most: the idlest is released first, never one being read', async () => {
  const root = await tempDir();
  const tmp = await tempDir('cold-spool-test-');
  const names = ['e1.zip', 'e2.zip', 'e3.zip', 'e4.zip', 'e5.zip'];
  for (const n of names) await pesZip(root, n);
  const { src, ready } = await source(root, tmp);
  assert.equal(ready.length, names.length);
  // e1 is being read (a stream open) while the others are given out and never staged (unrouted, say)
  const first = await src.documents(ready[0]);
  const reading = await first.find((d) => d.name === 'PES.xml')!.open();
  for (const item of ready.slice(1)) await src.documents(item);
  assert.equal((await spools(tmp)).length, HELD_READERS, `at most ${HELD_READERS} envelopes keep temp files`);
  assert.equal(sha(await drain(reading)), sha(PES), 'the one being read was kept');
  await src.close();
  assert.deepEqual(await spools(tmp), []);
});

test('HeldReaders: released when its last document is done, idlest first beyond the limit, never one with a stream open', async () => {
  const closed: string[] = [];
  const reader = (k: string): EnvelopeReader => ({ list: async () => [], open: async () => Readable.from([]), openRange: async () => Readable.from([]), close: async () => void closed.push(k) });
  const doc = (name: string): SourceDocument => ({ name, open: async () => Readable.from([Buffer.from(name)]) });
  const held = new HeldReaders(2);
  await held.hold('a', reader('a'));
  const a = held.follow('a', [doc('1'), doc('2')]);
  await held.hold('b', reader('b'));
  const open = await a[0].open(); // a is being read
  await held.hold('c', reader('c'));
  assert.equal(closed.length, 0, 'b is still being read (its documents not given out yet): never trimmed');
  await held.release('c');
  held.follow('b', [doc('3')]); // b given out, nothing of it open: idle
  await held.hold('c', reader('c'));
  assert.deepEqual(closed, ['c', 'b'], 'b idle longest, a busy');
  closed.splice(0, 1);
  await drain(open);
  await drain(await a[1].open());
  await waitFor(async () => closed.includes('a'), 'a released after its last document');
  await held.hold('c', reader('c2'));
  assert.deepEqual(closed, ['b', 'a', 'c'], 'held again under the same key: the older reader is released');
  await held.releaseAll();
  assert.deepEqual(held.keys(), []);
});

test('leftovers of a killed process are swept: its pid gone, an earlier process with this pid, or older than a day', async () => {
  const tmp = await tempDir('cold-spool-test-');
  const gone = spawn(process.execPath, ['-e', '']);
  await once(gone, 'exit');
  const day = new Date(Date.now() - STALE_SPOOL_MS - 60_000);
  const dirs = {
    gone: `${SPOOL_PREFIX}${gone.pid}-aaaaaa`,
    mineEarlier: `${SPOOL_PREFIX}${process.pid}-bbbbbb`,
    aliveOld: `${SPOOL_PREFIX}${process.ppid}-cccccc`,
    aliveRecent: `${SPOOL_PREFIX}${process.ppid}-dddddd`,
    other: 'cold-mail-eeeeee',
  };
  for (const d of Object.values(dirs)) {
    await mkdir(join(tmp, d));
    await writeFile(join(tmp, d, '0001.entry'), 'x');
  }
  await utimes(join(tmp, dirs.mineEarlier), day, day);
  await utimes(join(tmp, dirs.aliveOld), day, day);
  const removed = (await sweepStaleSpools(tmp)).map((p) => p.slice(tmp.length + 1)).sort();
  assert.deepEqual(removed, [dirs.aliveOld, dirs.gone, dirs.mineEarlier].sort());
  assert.deepEqual((await readdir(tmp)).sort(), [dirs.aliveRecent, dirs.other].sort());
});

test('a process that dies on an uncaught error still removes its temp folder', async () => {
  const tmp = await tempDir('cold-spool-test-');
  const code = `const { SpoolFolder } = require(${JSON.stringify(join(__dirname, '../../../shared/sources/adullact/spoolFolder.ts'))});
SpoolFolder.create(process.argv[1]).then((f) => { require('fs').writeFileSync(f.newFile(), 'x'); setTimeout(() => { throw new Error('boom'); }, 10); });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', code, tmp], { stdio: 'ignore' });
  const [exitCode] = await once(child, 'exit');
  assert.equal(exitCode, 1);
  assert.deepEqual(await readdir(tmp), []);
});

/** PJ in the measured PES, and bytes in each (random: neither gzip nor deflate shrinks them). */
const BIG_PJ_COUNT = 24;
const BIG_PJ_BYTES = 3 * 1024 * 1024;
const MAX_RSS_GROWTH_MB = 64;

test('a zipped ~100 MB PES with 24 PJ: inflated once, every document read from the temp file, memory flat', async () => {
  const root = await tempDir();
  const tmp = await tempDir('cold-spool-test-');
  const hashes: string[] = [];
  const pesPath = join(root, 'PES.xml');
  await B.writeLargePes(pesPath, BIG_PJ_COUNT, BIG_PJ_BYTES, (n) => {
    const data = randomBytes(n);
    hashes.push(sha(data));
    return data;
  });
  const pesSize = (await stat(pesPath)).size;
  assert.ok(pesSize > 95e6, `PES of ${pesSize} bytes`);
  const zip = join(root, 'gros PES.zip');
  await writeLargeZip(zip, [
    { name: 'metadata.json', content: heliosMeta, deflate: false },
    { name: 'PES.xml', content: { file: pesPath } },
  ]);
  await rm(pesPath);

  const reader = zipReader(zip, 'gros PES.zip', { tmpRoot: tmp });
  let readMs = 0;
  const t0 = performance.now();
  const peak = await withMemoryPeak(() =>
    countInflations(async () => {
      const c = await readEnvelope(reader, zipSpec('gros PES.zip'));
      readMs = performance.now() - t0;
      const pjs = c.documents.filter((d) => d.metadata?.role === 'piece_justificative');
      assert.equal(pjs.length, BIG_PJ_COUNT);
      for (const d of c.documents) {
        const hash = createHash('sha256');
        let size = 0;
        for await (const chunk of await d.open()) {
          hash.update(chunk as Buffer);
          size += (chunk as Buffer).length;
        }
        const i = pjs.indexOf(d);
        if (i >= 0) {
          assert.equal(size, BIG_PJ_BYTES);
          assert.equal(hash.digest('hex'), hashes[i], `PJ ${i + 1} intact`);
        }
      }
    }),
  );
  const totalMs = performance.now() - t0;
  await reader.close!();
  console.log(
    `zipped PES ${(pesSize / 1e6).toFixed(1)} MB (zip ${((await stat(zip)).size / 1e6).toFixed(1)} MB), ${BIG_PJ_COUNT} PJ: ` +
      `read (check + spool + skeleton + PJ check) ${readMs.toFixed(0)} ms, every document read ${(totalMs - readMs).toFixed(0)} ms, ` +
      `${peak.value.inflations} inflation(s); peak growth RSS ${peak.rssMb.toFixed(1)} MiB, heap+buffers ${peak.heapAndBuffersMb.toFixed(1)} MiB`,
  );
  assert.equal(peak.value.inflations, 1);
  assert.ok(peak.rssMb < MAX_RSS_GROWTH_MB, `RSS grew by ${peak.rssMb} MiB`);
  assert.deepEqual(await spools(tmp), []);
});

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out: ${what}`);
}

test('two entries of one path: the document is the first one, spooled or not (its bytes never depend on the spool)', async () => {
  const dir = await tempDir('cold-dup-zip-');
  const zip = join(dir, 'dup.zip');
  const small = Buffer.from('the first annexe');
  const large = randomBytes(2048);
  const entry = (data: Buffer) => ({ name: 'annexe.pdf', data, flag: 0x800, method: 0, crc: crc32(data), size: data.length });
  await writeFile(zip, B.zipOfEntries([entry(small), entry(large)]));
  const read = async (spoolMinBytes: number) => {
    const reader = zipReader(zip, 'dup.zip', { spoolMinBytes, tmpRoot: dir });
    await reader.verify?.();
    const chunks: Buffer[] = [];
    for await (const c of await reader.open('annexe.pdf')) chunks.push(c as Buffer);
    await reader.close?.();
    return Buffer.concat(chunks);
  };
  assert.deepEqual(await read(Infinity), small);
  assert.deepEqual(await read(100), small, 'the large second entry is not spooled in place of the first');
});

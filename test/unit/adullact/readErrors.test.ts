import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig } from '../../../shared/config/load';
import type { LauncherOf } from '../../../shared/config/schema';
import { ItemRejectedError, SourceError } from '../../../shared/errors';
import { createAdullactSource, type AdullactItem, type AdullactSourceOptions } from '../../../shared/sources/adullact/adullactSource';
import { readEnvelope, type EnvelopeSpec } from '../../../shared/sources/adullact/envelope';
import { folderReader } from '../../../shared/sources/adullact/envelopeReader';
import { EnvelopeFormatError } from '../../../shared/sources/adullact/errors';
import { rejectingDocument } from '../../../shared/sources/adullact/rejection';
import { isZipFormatError, zipReader } from '../../../shared/sources/adullact/zipReader';
import type { Candidate } from '../../../shared/sources/types';
import { createLogger } from '../../../shared/util/log';
import * as B from '../../fixtures/adullact/builders';
import { failingOpen, systemError, zipWith } from '../../fixtures/adullact/faults';
import { listFiles, tempDir } from '../../helpers/folders';

const zipSpec = (name: string): EnvelopeSpec => ({ name, kind: 'zip', endMarker: 'fichier_termine.txt', metadataStem: 'metadata' });
const drain = async (s: NodeJS.ReadableStream) => {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
};
const actesMeta = B.metadataJson({ acte_nature: '1', objet: 'Zippé' }, { arrete: ['acte.pdf'], autre_document_attache: ['annexe.pdf'] });

function launcher(source: string): LauncherOf<'adullact'> {
  const text = JSON.stringify({ ezged: { dropFolder: '/unused' }, launchers: [{ id: 'adu', protocol: 'adullact', source, delaySeconds: 0, scenarios: [{ waitdir: 'divers' }] }] });
  return parseConfig(text, {}).launchers[0] as LauncherOf<'adullact'>;
}

async function scan(root: string, now: Date, options: AdullactSourceOptions = {}) {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const logger = createLogger((level, msg, fields) => lines.push({ level, msg, fields })).child({ launcherId: 'adu' });
  const src = await createAdullactSource({ launcher: launcher(root), state: {}, logger, now: () => now }, options);
  const out: Candidate<AdullactItem>[] = [];
  for await (const c of src.scan(100)) out.push(c);
  const ready = out.filter((c) => c.verdict === 'ready').map((c) => (c as { item: AdullactItem }).item);
  const reasons = Object.fromEntries(out.filter((c) => c.verdict !== 'ready').map((c) => [c.label, `${c.verdict}: ${(c as { reason: string }).reason}`]));
  return { src, ready, reasons, lines };
}

// ---- task 3: corrupt data inside a zip --------------------------------------------------

test('a deflated zip reads like a stored one (content, CRC-32 checked)', async () => {
  const root = await tempDir();
  await writeFile(join(root, 'ok.zip'), zipWith({ 'acte.pdf': { content: B.fakePdf('acte'), deflate: true }, 'annexe.pdf': { content: B.fakePdf('annexe') }, 'metadata.json': { content: actesMeta, deflate: true } }));
  const c = await readEnvelope(zipReader(join(root, 'ok.zip'), 'ok.zip'), zipSpec('ok.zip'));
  assert.deepEqual(c.documents.map((d) => d.name), ['acte.pdf', 'annexe.pdf', 'metadata.json', 'ok.index.json']);
  assert.deepEqual(await drain(await c.documents[0].open()), B.fakePdf('acte'));
});

test('an entry whose compressed data is corrupt (Z_DATA_ERROR) refuses the envelope as a format error naming the entry', async () => {
  const root = await tempDir();
  const path = join(root, 'casse.zip');
  await writeFile(path, zipWith({ 'acte.pdf': { content: B.fakePdf('acte'), deflate: true }, 'annexe.pdf': { content: B.fakePdf('annexe'), corruptData: true }, 'metadata.json': { content: actesMeta } }));
  // the entry's own stream ends with the format error, not zlib's raw error
  await assert.rejects(drain(await zipReader(path, 'casse.zip').open('annexe.pdf')), (e: unknown) => {
    assert.ok(e instanceof EnvelopeFormatError && e.code === 'ZIP_ENTRY_CORRUPT', String(e));
    assert.equal(e.message, 'casse.zip: "annexe.pdf" cannot be inflated, its data in the zip is corrupt (invalid block type)');
    return true;
  });
  // reading the envelope finds it before any document is given out
  await assert.rejects(readEnvelope(zipReader(path, 'casse.zip'), zipSpec('casse.zip')), (e: unknown) => e instanceof EnvelopeFormatError && e.code === 'ZIP_ENTRY_CORRUPT' && /"annexe\.pdf"/.test(e.message));
});

test('a stored entry whose bytes do not match its CRC-32 is found too (yauzl alone does not check it)', async () => {
  const root = await tempDir();
  const path = join(root, 'crc.zip');
  await writeFile(path, zipWith({ 'acte.pdf': { content: B.fakePdf('acte'), wrongCrc: true }, 'metadata.json': { content: actesMeta } }));
  await assert.rejects(readEnvelope(zipReader(path, 'crc.zip'), zipSpec('crc.zip')), (e: unknown) => e instanceof EnvelopeFormatError && e.code === 'ZIP_ENTRY_CORRUPT' && /"acte\.pdf" is corrupt in the zip \(CRC-32/.test(e.message));
});

test('the source puts a zip with a corrupt entry aside (never retried forever); a corrupt metadata entry does not stop the scan', async () => {
  const root = await tempDir();
  await writeFile(join(root, 'casse.zip'), zipWith({ 'acte.pdf': { content: B.fakePdf('acte'), corruptData: true }, 'annexe.pdf': { content: 'a' }, 'metadata.json': { content: actesMeta } }));
  await writeFile(join(root, 'meta.zip'), zipWith({ 'acte.pdf': { content: 'a' }, 'annexe.pdf': { content: 'a' }, 'metadata.json': { content: actesMeta, corruptData: true } }));
  await writeFile(join(root, 'bon.zip'), zipWith({ 'acte.pdf': { content: 'a', deflate: true }, 'annexe.pdf': { content: 'a' }, 'metadata.json': { content: actesMeta, deflate: true } }));
  const { src, ready } = await scan(root, new Date());
  assert.deepEqual(ready.map((i) => i.label).sort(), ['bon.zip', 'casse.zip', 'meta.zip']);
  for (const item of ready) {
    if (item.label === 'bon.zip') {
      assert.equal((await src.documents(item)).length, 4);
      continue;
    }
    const err = await src.documents(item).then(() => assert.fail(`${item.label}: documents given`), (e: unknown) => e);
    assert.ok(err instanceof ItemRejectedError, `${item.label}: ${String(err)}`);
    assert.match(err.message, item.label === 'casse.zip' ? /"acte\.pdf" cannot be inflated/ : /"metadata\.json" cannot be inflated/);
    await src.putAside(item, err.message);
  }
  const files = await listFiles(root);
  assert.ok(files.includes('.adullact-quarantine/casse.zip.error.txt') && files.includes('.adullact-quarantine/meta.zip.error.txt'));
});

test('a file found corrupt while it is staged rejects the item (put aside), it does not fail every run', async () => {
  const root = await tempDir();
  const path = join(root, 'x.zip');
  await writeFile(path, zipWith({ 'a.pdf': { content: B.fakePdf('a'), corruptData: true } }));
  const doc = rejectingDocument({ name: 'a.pdf', open: () => zipReader(path, 'x.zip').open('a.pdf') });
  await assert.rejects(drain(await doc.open()), (e: unknown) => e instanceof ItemRejectedError && /"a\.pdf" cannot be inflated/.test((e as Error).message));
  // a system error stays a retryable error
  const flaky = rejectingDocument({ name: 'b.pdf', open: () => Promise.reject(systemError('EBUSY', 'b.pdf')) });
  await assert.rejects(flaky.open(), (e: unknown) => !(e instanceof ItemRejectedError) && e instanceof SourceError && /EBUSY/.test((e as Error).message));
});

// ---- task 4: a read failure is not a broken envelope ------------------------------------

test('zip errors: yauzl complaints and zlib errors are format errors; EACCES, EBUSY, EMFILE, timeouts are not', () => {
  for (const code of ['EACCES', 'EBUSY', 'EMFILE', 'ENFILE', 'ETIMEDOUT', 'EIO', 'EHOSTDOWN', 'ERR_STREAM_PREMATURE_CLOSE']) {
    assert.equal(isZipFormatError(systemError(code, 'x.zip')), false, code);
  }
  assert.equal(isZipFormatError(new Error('End of central directory record signature not found. Either not a zip file, or file is truncated.')), true);
  assert.equal(isZipFormatError(Object.assign(new Error('invalid bit length repeat'), { code: 'Z_DATA_ERROR', errno: -3 })), true);
});

test('a zip that cannot be opened for a system reason is a SourceError (retried), not "not a readable zip" (quarantined)', async () => {
  const root = await tempDir();
  await mkdir(join(root, 'dossier.zip'));
  for (const [path, code] of [[join(root, 'dossier.zip'), 'EISDIR'], [join(root, 'absent.zip'), 'ENOENT']] as const) {
    await assert.rejects(zipReader(path, 'z.zip').list(), (e: unknown) => {
      assert.ok(e instanceof SourceError && !(e instanceof EnvelopeFormatError), String(e));
      assert.equal(e.code, 'ZIP_READ_FAILED');
      assert.equal(((e as Error).cause as NodeJS.ErrnoException).code, code);
      return true;
    });
  }
});

test('scan: an envelope that cannot be read now (EACCES) waits with a warning naming it; the rest of the scan goes on', async () => {
  const root = await tempDir();
  await B.actesJsonEnvelope(root, 'a-verrouillé');
  await B.actesJsonEnvelope(root, 'b-bon');
  const eacces = systemError('EACCES', 'a-verrouillé/metadata.json');
  const openReader: AdullactSourceOptions['openReader'] = (e) => (e.name === 'a-verrouillé' ? failingOpen(folderReader(e.path), 'metadata.json', eacces) : folderReader(e.path));
  const { ready, reasons, lines } = await scan(root, new Date(), { openReader });
  assert.deepEqual(ready.map((i) => i.label), ['b-bon']);
  assert.match(reasons['a-verrouillé'], /^waiting: cannot be read now, tried again by the next run: EACCES/);
  const warn = lines.find((l) => l.level === 'warn');
  assert.ok(warn, 'a warning is logged');
  assert.match(warn.msg, /^envelope "a-verrouillé" cannot be read now, tried again by the next run: EACCES/);
  assert.equal(warn.fields.launcherId, 'adu');
  assert.equal(warn.fields.envelope, 'a-verrouillé');
});

test('scan: an old zip that cannot be opened for a system reason (here ENOENT; EBUSY on a share) waits; it is never put aside for that', async () => {
  const root = await tempDir();
  await writeFile(join(root, 'occupé.zip'), B.zipOf({ 'a.pdf': 'x', 'metadata.json': B.metadataJson({ acte_nature: '1' }, { arrete: ['a.pdf'] }) }));
  const openReader: AdullactSourceOptions['openReader'] = (e) => zipReader(join(root, 'absent', e.name), e.name);
  const { ready, reasons, lines } = await scan(root, new Date(Date.now() + 600_000), { openReader });
  assert.deepEqual(ready, []);
  assert.match(reasons['occupé.zip'], /^waiting: cannot be read now, tried again by the next run: ZIP_READ_FAILED: occupé\.zip: the zip cannot be read now \(ENOENT/);
  assert.ok(lines.some((l) => l.level === 'warn' && l.fields.envelope === 'occupé.zip'));
});

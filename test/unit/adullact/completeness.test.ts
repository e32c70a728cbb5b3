import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig } from '../../../shared/config/load';
import type { LauncherOf } from '../../../shared/config/schema';
import { ItemRejectedError } from '../../../shared/errors';
import { INCOMPLETE_ENVELOPE_GRACE_MS, createAdullactSource, type AdullactItem } from '../../../shared/sources/adullact/adullactSource';
import { readEnvelope } from '../../../shared/sources/adullact/envelope';
import { folderReader } from '../../../shared/sources/adullact/envelopeReader';
import { EnvelopeIncompleteError } from '../../../shared/sources/adullact/errors';
import { missingFiles } from '../../../shared/sources/adullact/missingFiles';
import { parseMetadata } from '../../../shared/sources/adullact/metadata';
import type { Candidate } from '../../../shared/sources/types';
import { silentLogger } from '../../../shared/util/log';
import * as B from '../../fixtures/adullact/builders';
import { listFiles, tempDir } from '../../helpers/folders';

function launcher(source: string, over: Record<string, unknown> = {}): LauncherOf<'adullact'> {
  const text = JSON.stringify({ ezged: { dropFolder: '/unused' }, launchers: [{ id: 'adu', protocol: 'adullact', source, delaySeconds: 30, scenarios: [{ waitdir: 'divers' }], ...over }] });
  return parseConfig(text, {}).launchers[0] as LauncherOf<'adullact'>;
}

async function scan(l: LauncherOf<'adullact'>, now: Date, state: Record<string, unknown> = {}) {
  const src = await createAdullactSource({ launcher: l, state, logger: silentLogger, now: () => now });
  const out: Candidate<AdullactItem>[] = [];
  for await (const c of src.scan(100)) out.push(c);
  const ready = out.filter((c) => c.verdict === 'ready').map((c) => (c as { item: AdullactItem }).item);
  const reasons = Object.fromEntries(out.filter((c) => c.verdict !== 'ready').map((c) => [c.label, `${c.verdict}: ${(c as { reason: string }).reason}`]));
  return { src, ready, reasons, state };
}

/** The reviewer's envelope: the metadata lists arrete ["acte.pdf"], the folder has no acte.pdf. */
async function withoutActe(root: string, name = 'sans acte'): Promise<string> {
  return B.writeEnvelope(root, name, { 'annexe.pdf': B.fakePdf('annexe') }, {
    name: 'metadata.json',
    content: B.metadataJson({ acte_nature: '1', objet: 'Délibération' }, { arrete: ['acte.pdf'], autre_document_attache: ['annexe.pdf'] }),
  });
}

test('an envelope whose metadata names a file it lacks is not taken: it waits, then goes to quarantine naming the file', async () => {
  const root = await tempDir();
  await withoutActe(root);
  await B.actesJsonEnvelope(root, 'complet');
  const l = launcher(root, { delaySeconds: 0 });

  const young = await scan(l, new Date());
  assert.deepEqual(young.ready.map((i) => i.label), ['complet'], 'the incomplete envelope is not taken, the others are');
  assert.match(young.reasons['sans acte'], /^waiting: its metadata names files not there yet: acte\.pdf \(arrete\); put aside if still missing 60 s after its last change$/);

  const old = await scan(l, new Date(Date.now() + INCOMPLETE_ENVELOPE_GRACE_MS + 1_000));
  const item = old.ready.find((i) => i.label === 'sans acte');
  assert.ok(item, 'after the grace it is taken, to be put aside');
  const err = await old.src.documents(item).then(() => assert.fail('documents() gave the documents of an incomplete envelope'), (e: unknown) => e);
  assert.ok(err instanceof ItemRejectedError, String(err));
  assert.equal(err.message, 'sans acte: incomplete envelope, its metadata names a file it does not contain: acte.pdf (arrete)');
  await old.src.putAside(item, err.message);
  assert.match(await readFile(join(root, '.adullact-quarantine', 'sans acte.error.txt'), 'utf8'), /acte\.pdf \(arrete\)/);
  assert.ok((await listFiles(root)).includes('.adullact-quarantine/sans acte/annexe.pdf'));
});

test('the grace is delaySeconds when longer; a missing file that arrives meanwhile lets the envelope be taken whole', async () => {
  const root = await tempDir();
  const dir = await withoutActe(root);
  const l = launcher(root, { delaySeconds: 300 });
  assert.match((await scan(l, new Date(Date.now() + 120_000))).reasons['sans acte'], /still missing 300 s after its last change/);
  await writeFile(join(dir, 'acte.pdf'), B.fakePdf('acte, enfin'));
  const { src, ready } = await scan(l, new Date());
  assert.deepEqual(ready.map((i) => i.label), ['sans acte']);
  assert.deepEqual((await src.documents(ready[0])).map((d) => [d.name, d.metadata!.role]), [
    ['acte.pdf', 'arrete'], ['annexe.pdf', 'autre_document_attache'], ['metadata.json', 'metadata'], ['sans acte.index.json', 'index'],
  ]);
});

test('readEnvelope refuses an incomplete envelope with the missing names (never half of it)', async () => {
  const dir = await withoutActe(await tempDir());
  await assert.rejects(readEnvelope(folderReader(dir), { name: 'sans acte', kind: 'folder', endMarker: 'fichier_termine.txt', metadataStem: 'metadata' }), (e: unknown) => {
    assert.ok(e instanceof EnvelopeIncompleteError, String(e));
    assert.deepEqual(e.missing, ['acte.pdf']);
    return true;
  });
});

test('missing files: internal and original names, case and Pastell-replaced separators count as present', () => {
  const meta = parseMetadata(
    B.metadataXml({}, { arrete: [{ content: 'qJO7qzV.yml_arrete_0', original: 'Acte.pdf' }], autre_document_attache: ['Annexe 1.PDF', 'plan a/b.pdf', 'absent.pdf'], bordereau: [{ content: 'x.yml_bordereau_0', original: 'bordereau.pdf' }] }),
    'xml', 'metadata.xml', 'm',
  );
  const files = ['qJO7qzV.yml_arrete_0', 'annexe 1.pdf', 'plan a-b.pdf', 'bordereau.pdf', 'metadata.xml'].map((path) => ({ path, size: 1 }));
  assert.deepEqual(missingFiles(files, meta).map((r) => r.name), ['absent.pdf']);
  // a metadata listing names, an envelope holding them under internal names: the n-th file of the field is there
  const json = parseMetadata(B.metadataJson({}, { arrete: ['acte.pdf'], autre_document_attache: ['a.pdf', 'b.pdf'] }), 'json', 'metadata.json', 'm');
  const internal = ['k.yml_arrete_0', 'k.yml_autre_document_attache_1'].map((path) => ({ path, size: 1 }));
  assert.deepEqual(missingFiles(internal, json).map((r) => r.name), ['a.pdf']);
});

test('requireEndMarker: a folder without its marker is never taken on delaySeconds alone; zips are still taken once unchanged', async () => {
  const root = await tempDir();
  await B.writeEnvelope(root, 'sans marqueur', { 'a.pdf': B.fakePdf('a') }, { name: 'metadata.json', content: B.metadataJson({ titre: 'x' }, { fichier: ['a.pdf'] }) }, { marker: false });
  await B.actesJsonEnvelope(root, 'avec marqueur');
  await writeFile(join(root, 'env.zip'), B.zipOf({ 'a.pdf': B.fakePdf('a'), 'metadata.json': B.metadataJson({ acte_nature: '1' }, { arrete: ['a.pdf'] }) }));
  const l = launcher(root, { delaySeconds: 0, requireEndMarker: true });
  const later = await scan(l, new Date(Date.now() + 3_600_000));
  assert.deepEqual(later.ready.map((i) => i.label).sort(), ['avec marqueur', 'env.zip']);
  assert.match(later.reasons['sans marqueur'], /^waiting: no end marker fichier_termine\.txt yet \(requireEndMarker/);
  // by default it is taken once unchanged
  assert.deepEqual((await scan(launcher(root, { delaySeconds: 0 }), new Date())).ready.map((i) => i.label).sort(), ['avec marqueur', 'env.zip', 'sans marqueur']);
});

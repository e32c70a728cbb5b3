import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig } from '../../shared/config/load';
import type { LauncherDefinition } from '../../shared/config/schema';
import { deliverAll } from '../../shared/delivery/deliverAll';
import { createDropFolderTarget } from '../../shared/delivery/dropFolder';
import { runLauncher } from '../../shared/launch/runLauncher';
import { settleWhenStaged } from '../../shared/launch/settlement';
import type { BlobStore } from '../../shared/staging/blobStore';
import { decodeDocumentFacts, decodeMetadata } from '../../shared/staging/metadata';
import { silentLogger } from '../../shared/util/log';
import * as B from '../fixtures/adullact/builders';
import { useAzurite } from '../helpers/azurite';
import { listFiles, tempDir } from '../helpers/folders';

const installed = (() => {
  try {
    require.resolve('azurite/package.json');
    return true;
  } catch {
    return false;
  }
})();
const skip = !installed && process.env.REQUIRE_AZURITE !== '1' ? 'Azurite is not installed (npm install with dev dependencies)' : false;
const azurite = installed || process.env.REQUIRE_AZURITE === '1' ? useAzurite() : undefined;

const SCENARIOS = [
  { group: 'acte_nature', job: '71', waitdir: 'actes' },
  { group: 'helios', job: '72', waitdir: 'helios' },
  { group: 'chorus_fact', job: '87', waitdir: 'factures' },
  { job: '69', waitdir: 'divers' },
];

function launcher(source: string, over: Record<string, unknown> = {}): LauncherDefinition {
  const text = JSON.stringify({
    ezged: { dropFolder: '/unused' },
    launchers: [{ id: 'pastell', protocol: 'adullact', source, delaySeconds: 30, scenarios: SCENARIOS, ...over }],
  });
  return parseConfig(text, {}).launchers[0]!;
}

interface Staged {
  name: string;
  fileName: string;
  waitdir: string;
  facts: Record<string, string>;
}

async function staged(store: BlobStore): Promise<Staged[]> {
  const out: Staged[] = [];
  for await (const b of store.list('staging')) {
    const props = await store.container('staging').getBlobClient(b.name).getProperties();
    const meta = decodeMetadata(props.metadata);
    out.push({ name: b.name, fileName: meta.fileName, waitdir: meta.waitdir, facts: decodeDocumentFacts(props.metadata) });
  }
  return out;
}

async function blobText(store: BlobStore, name: string): Promise<Buffer> {
  return store.container('staging').getBlobClient(name).downloadToBuffer();
}

const run = (l: LauncherDefinition, store: BlobStore, now: Date) =>
  runLauncher(l, { store, settlement: settleWhenStaged(store), logger: silentLogger, force: true, now: () => now });

test('end to end: every type staged to its COLD, incomplete and zip envelopes wait, broken ones quarantined, the batch goes on', { skip }, async () => {
  const store = await azurite!.reset();
  const root = await tempDir();
  await B.actesXmlEnvelope(root);
  await B.actesJsonEnvelope(root);
  await B.heliosEnvelope(root);
  await B.chorusCppEnvelope(root);
  await B.chorusFournisseurEnvelope(root);
  await B.writeEnvelope(root, 'divers', { 'note.pdf': B.fakePdf('n') }, { name: 'metadata.json', content: B.metadataJson({ titre: 'x' }, { fichier: ['note.pdf'] }) });
  await B.writeEnvelope(root, 'bombe', { 'a.pdf': 'x' }, { name: 'metadata.xml', content: B.billionLaughs() });
  await B.writeEnvelope(root, 'cassé', { 'a.pdf': 'x' }, { name: 'metadata.xml', content: Buffer.from('<flux><data name="objet" value="x"></flux>') });
  const incomplete = await B.writeEnvelope(root, 'en cours', { 'acte.pdf': B.fakePdf('partiel') }, undefined, { marker: false });
  await writeFile(join(root, 'zippé.zip'), B.zipOf({ 'acte.pdf': B.fakePdf('zip'), 'metadata.json': B.metadataJson({ acte_nature: '3', objet: 'Arrêté zippé' }, { arrete: ['acte.pdf'] }) }, { utf8Flag: false }));
  const l = launcher(root);
  const t0 = new Date();

  const first = await run(l, store, t0);
  assert.equal(first.error, undefined);
  assert.deepEqual(
    { found: first.found, acknowledged: first.acknowledged, putAside: first.putAside, waiting: first.waiting, failed: first.failed, unrouted: first.unrouted, staged: first.staged },
    { found: 8, acknowledged: 6, putAside: 2, waiting: 2, failed: 0, unrouted: 0, staged: 6 + 4 + 7 + 6 + 5 + 3 },
  );
  const blobs = await staged(store);
  const to = (waitdir: string) => blobs.filter((b) => b.waitdir === waitdir).map((b) => b.fileName).sort();
  assert.equal(to('actes').length, 10);
  assert.deepEqual(to('helios').filter((n) => n.endsWith('.pdf')), ['bon de commande.pdf', 'facture fournisseur n°1.pdf', 'facture fournisseur n°1_2.pdf']);
  assert.ok(to('factures').every((n) => n.startsWith('FA-2025-0042') || n.startsWith('F2025-777')), to('factures').join(', '));
  assert.deepEqual(to('divers'), ['divers.index.json', 'metadata.json', 'note.pdf']);

  const acte = blobs.find((b) => b.fileName === 'acte.pdf' && b.facts.numero_acte === 'DEL2025_014')!;
  assert.equal(acte.facts.objet, 'Délibération budget primitif 2025 : élève, forêt, Noël', 'ISO-8859-1 accents preserved up to blob metadata');
  assert.equal(acte.facts.acte_nature_libelle, 'Délibérations');
  const pj = blobs.find((b) => b.fileName === 'bon de commande.pdf')!;
  assert.deepEqual(await blobText(store, pj.name), B.PJS[1].content, 'PJ staged decoded');
  assert.equal(pj.facts.id_bordereau, '117,118');
  const invoice = blobs.find((b) => b.fileName === 'FA-2025-0042__pivot.xml')!;
  assert.deepEqual([invoice.facts.numero_facture, invoice.facts.siret, invoice.facts.montant_ttc], ['FA-2025-0042', '21490001200017', '120.00']);
  const index = JSON.parse((await blobText(store, blobs.find((b) => b.fileName === 'Mandats mars 2025.index.json')!.name)).toString('utf8'));
  assert.equal(index.decoded.piecesJustificatives.length, 3);

  // the source: taken envelopes deleted, broken ones in quarantine with their reason, the rest untouched
  let files = await listFiles(root);
  assert.deepEqual(files.filter((f) => !f.startsWith('.adullact-quarantine/')), ['en cours/acte.pdf', 'zippé.zip']);
  assert.match(await readFile(join(root, '.adullact-quarantine', 'bombe.error.txt'), 'utf8'), /declares entities/);
  assert.match(await readFile(join(root, '.adullact-quarantine', 'cassé.error.txt'), 'utf8'), /malformed XML/);
  assert.ok(files.includes('.adullact-quarantine/bombe/metadata.xml') && files.includes('.adullact-quarantine/cassé/a.pdf'));

  // 31 s later: the zip, unchanged, is taken; the folder still being written waits on
  await appendFile(join(incomplete, 'acte.pdf'), 'more bytes');
  const second = await run(l, store, new Date(t0.getTime() + 31_000));
  assert.deepEqual([second.found, second.acknowledged, second.staged, second.waiting], [1, 1, 3, 1]);
  assert.ok((await staged(store)).some((b) => b.fileName === 'zippé.index.json' && b.waitdir === 'actes' && b.facts.objet === 'Arrêté zippé'));
  files = await listFiles(root);
  assert.deepEqual(files.filter((f) => !f.startsWith('.adullact-quarantine/')), ['en cours/acte.pdf']);

  // a third run takes nothing twice
  const third = await run(l, store, new Date(t0.getTime() + 32_000));
  assert.deepEqual([third.found, third.staged], [0, 0]);

  // delivered into wait folders, the files of one invoice share their envelope prefix
  const wait = await tempDir();
  const delivered = await deliverAll(store, createDropFolderTarget({ dropFolder: wait, createWaitdirs: true }), silentLogger, { maxAttempts: 3 });
  assert.equal(delivered.delivered, 34);
  const invoiceFiles = (await listFiles(join(wait, 'factures'))).filter((f) => !f.startsWith('.'));
  assert.equal(invoiceFiles.filter((f) => f.startsWith('FA-2025-0042')).length, 6);
  assert.equal(invoiceFiles.filter((f) => f.startsWith('F2025-777')).length, 5);
});

test('without a default scenario, an envelope of unknown type stays at the source and is reported', { skip }, async () => {
  const store = await azurite!.reset();
  const root = await tempDir();
  await B.writeEnvelope(root, 'inconnu', { 'note.pdf': B.fakePdf('n') }, { name: 'metadata.json', content: B.metadataJson({ titre: 'x' }) });
  await B.heliosEnvelope(root);
  const l = launcher(root, { scenarios: SCENARIOS.slice(0, 3), afterSuccess: 'move:traités' });
  const report = await run(l, store, new Date());
  assert.deepEqual([report.found, report.unrouted, report.acknowledged], [2, 1, 1]);
  const files = await listFiles(root);
  assert.ok(files.includes('inconnu/note.pdf'));
  assert.ok(files.includes('traités/Mandats mars 2025/PESALR2_21490001_20250314.xml'), 'moved after success');
  assert.ok((await staged(store)).every((b) => b.waitdir === 'helios'));
});

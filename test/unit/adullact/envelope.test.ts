import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FACTS_BUDGET_BYTES, readEnvelope, withinBudget, type EnvelopeSpec } from '../../../shared/sources/adullact/envelope';
import { folderReader } from '../../../shared/sources/adullact/envelopeReader';
import { EnvelopeFormatError } from '../../../shared/sources/adullact/errors';
import { zipReader } from '../../../shared/sources/adullact/zipReader';
import type { SourceDocument } from '../../../shared/sources/types';
import * as B from '../../fixtures/adullact/builders';
import { tempDir } from '../../helpers/folders';

const spec = (name: string, kind: 'folder' | 'zip' = 'folder'): EnvelopeSpec => ({ name, kind, endMarker: 'fichier_termine.txt', metadataStem: 'metadata' });
const read = async (dir: string) => readEnvelope(folderReader(dir), spec(dir.split('/').pop()!));
const content = async (d: SourceDocument) => {
  const parts: Buffer[] = [];
  for await (const c of await d.open()) parts.push(c as Buffer);
  return Buffer.concat(parts);
};
const byName = (docs: SourceDocument[], name: string) => docs.find((d) => d.name === name) ?? assert.fail(`no document ${name} in ${docs.map((d) => d.name)}`);

test('Actes with XML metadata (ISO-8859-1), annexes and acknowledgement: facts, roles, index; the marker is not a document', async () => {
  const dir = await B.actesXmlEnvelope(await tempDir());
  const c = await read(dir);
  assert.equal(c.type, 'acte_nature');
  assert.deepEqual(c.documents.map((d) => d.name), ['acte.pdf', 'annexe budgétaire.pdf', 'annexe2.pdf', 'aractes.xml', 'metadata.xml', 'Délibération budget 2025.index.json']);
  assert.ok(c.documents.every((d) => d.group === 'acte_nature'));
  const acte = byName(c.documents, 'acte.pdf').metadata!;
  assert.equal(acte.role, 'arrete');
  assert.equal(acte.acte_nature, '1');
  assert.equal(acte.acte_nature_libelle, 'Délibérations');
  assert.equal(acte.numero_acte, 'DEL2025_014');
  assert.equal(acte.objet, 'Délibération budget primitif 2025 : élève, forêt, Noël', 'ISO-8859-1 accents preserved');
  assert.equal(acte.classification, '7.1 - Décisions budgétaires');
  assert.equal(acte.id_acte, '034-213400010-20250312-DEL2025_014-DE');
  assert.equal(byName(c.documents, 'annexe2.pdf').metadata!.role, 'autre_document_attache');
  assert.equal(byName(c.documents, 'aractes.xml').metadata!.role, 'aractes');
  const index = JSON.parse((await content(c.documents.at(-1)!)).toString('utf8'));
  assert.deepEqual(index.decoded.annexes, ['annexe budgétaire.pdf', 'annexe2.pdf']);
  assert.equal(index.decoded.accuseReception.dateReception, '2025-03-13');
  assert.deepEqual(index.decoded.acteXml.codesMatiere, ['7', '1']);
  assert.equal(index.metadata.format, 'xml');
  assert.deepEqual(await content(byName(c.documents, 'acte.pdf')), B.fakePdf('acte'));
});

test('Actes with JSON metadata; the nature comes from the Actes XML when the metadata lacks it', async () => {
  const c = await read(await B.actesJsonEnvelope(await tempDir()));
  assert.equal(c.type, 'acte_nature');
  assert.equal(c.documents[0].metadata!.objet, 'Arrêté de circulation rue de l’Église');
  assert.equal(c.documents[0].metadata!.acte_nature_libelle, 'Actes réglementaires');

  const root = await tempDir();
  const dir = await B.writeEnvelope(root, 'sans nature', { 'x.pdf': B.fakePdf('x'), 'enveloppe.xml': B.acteXml({ ...B.ACTE, nature: '4' }) }, {
    name: 'metadata.json',
    content: B.metadataJson({ numero_de_lacte: 'C1', objet: 'Convention' }, { arrete: ['x.pdf'] }),
  });
  const d = await read(dir);
  assert.equal(d.documents[0].metadata!.acte_nature, '4');
  assert.equal(d.documents[0].metadata!.acte_nature_libelle, 'Contrats, conventions et avenants');
});

test('Helios: header, bordereaux, acknowledgement, and every PJ extracted under its NomPJ (unique names)', async () => {
  const c = await read(await B.heliosEnvelope(await tempDir()));
  assert.equal(c.type, 'helios');
  assert.deepEqual(c.documents.map((d) => d.name), [
    'ACK_PESALR2.xml', 'PESALR2_21490001_20250314.xml', 'metadata.xml',
    'facture fournisseur n°1.pdf', 'bon de commande.pdf', 'facture fournisseur n°1_2.pdf', 'Mandats mars 2025.index.json',
  ]);
  const names = c.documents.map((d) => d.name);
  assert.deepEqual(names.slice(-4), ['facture fournisseur n°1.pdf', 'bon de commande.pdf', 'facture fournisseur n°1_2.pdf', 'Mandats mars 2025.index.json']);
  for (const [i, pj] of B.PJS.entries()) {
    const doc = c.documents[names.length - 4 + i];
    assert.deepEqual(await content(doc), pj.content, `PJ ${i + 1} decoded (base64 → gunzip)`);
    assert.equal(doc.metadata!.role, 'piece_justificative');
    assert.equal(doc.metadata!.pj_id_unique, `PJ000${i + 1}`);
    assert.equal(doc.contentType, 'application/pdf');
    assert.equal(doc.group, 'helios');
  }
  const f = c.documents[0].metadata!;
  assert.deepEqual([f.id_coll, f.cod_bud, f.exercice, f.id_bordereau, f.etat_ack, f.nb_pj, f.libelle_col_bud], ['21490001', '01', '2025', '117,118', '1', '3', 'Commune de Bécon']);
  const index = JSON.parse((await content(c.documents.at(-1)!)).toString('utf8'));
  assert.deepEqual(index.decoded.bordereaux.map((b: { idBord: string }) => b.idBord), ['117', '118']);
  assert.equal(index.decoded.piecesJustificatives[2].nomPJ, 'facture fournisseur n°1.pdf');
  assert.deepEqual(index.documents.find((d: { name: string }) => d.name === 'facture fournisseur n°1_2.pdf'), {
    name: 'facture fournisseur n°1_2.pdf', role: 'piece_justificative', pj_id_unique: 'PJ0003', pj_type: '001', pj_description: 'Pièce 3', pes: 'PESALR2_21490001_20250314.xml',
  });
  assert.deepEqual(index.decoded.acquit, [{ domaineAck: '02', etatAck: '1', numBord: '117', exerciceBord: '2025' }]);
});

test('Chorus facture-cpp (JSON) and facture-chorus-fournisseur (YAML, UBL): facts, and every file under the envelope prefix', async () => {
  const root = await tempDir();
  const cpp = await read(await B.chorusCppEnvelope(root));
  assert.equal(cpp.type, 'chorus_fact');
  assert.deepEqual(cpp.documents.map((d) => d.name), [
    'FA-2025-0042__FA-2025-0042.pdf', 'FA-2025-0042__bon de livraison.pdf', 'FA-2025-0042__facture.pdf', 'FA-2025-0042__metadata.json', 'FA-2025-0042__pivot.xml', 'FA-2025-0042.index.json',
  ]);
  assert.ok(cpp.documents.every((d) => d.name.startsWith('FA-2025-0042') && d.group === 'chorus_fact'));
  const f = cpp.documents[0].metadata!;
  assert.deepEqual([f.numero_facture, f.fournisseur, f.siret, f.montant_ttc, f.montant_ht, f.date_facture, f.syntaxe], ['FA-2025-0042', 'Papeterie Müller & Fils', '21490001200017', '120.00', '100.00', '2025-03-01', 'CPP pivot']);
  assert.equal(cpp.documents[1].metadata!.role, 'facture_pj_02');

  const ubl = await read(await B.chorusFournisseurEnvelope(root));
  assert.equal(ubl.type, 'chorus_fact');
  assert.ok(ubl.documents.every((d) => d.name.startsWith('F2025-777')));
  const g = ubl.documents[0].metadata!;
  assert.deepEqual([g.numero_facture, g.fournisseur, g.montant_a_payer, g.montant_tva, g.syntaxe], ['F2025-777', 'Électricité Générale SARL', '120.00', '20.00', 'IN_DP_E1_UBL_INVOICE']);

  // names are stable: the same envelope read again gives the same documents in the same order
  assert.deepEqual((await read(join(root, 'FA-2025-0042'))).documents.map((d) => d.name), cpp.documents.map((d) => d.name));
});

test('an envelope of unknown type keeps all its files, with an empty group (the default scenario takes it)', async () => {
  const dir = await B.writeEnvelope(await tempDir(), 'divers', { 'note.pdf': B.fakePdf('n') }, { name: 'metadata.json', content: B.metadataJson({ titre: 'x' }, { fichier: ['note.pdf'] }) });
  const c = await read(dir);
  assert.equal(c.type, undefined);
  assert.deepEqual(c.documents.map((d) => [d.name, d.group, d.metadata!.adullact_type]), [
    ['metadata.json', '', 'inconnu'], ['note.pdf', '', 'inconnu'], ['divers.index.json', '', 'inconnu'],
  ]);
});

test('Pastell internal file names are delivered under their original names', async () => {
  const dir = await B.writeEnvelope(await tempDir(), 'interne', { 'qJO7qzV.yml_arrete_0': B.fakePdf('a'), 'qJO7qzV.yml_autre_document_attache_0': B.fakePdf('b') }, {
    name: 'metadata.xml',
    content: B.metadataXml({ acte_nature: '6' }, { arrete: [{ content: 'qJO7qzV.yml_arrete_0', original: 'arrêté.pdf' }] }),
  });
  const c = await read(dir);
  // the second is not in the metadata and has no original name: named from its field and its magic bytes
  assert.deepEqual(c.documents.map((d) => [d.name, d.metadata!.role]).slice(0, 3), [['metadata.xml', 'metadata'], ['arrêté.pdf', 'arrete'], ['autre_document_attache_0.pdf', 'autre_document_attache']]);
});

test('zip envelope: read like a folder; UTF-8 names written without the flag (PHP ZipArchive) are read right', async () => {
  const root = await tempDir();
  const zip = join(root, 'Délibération zip.zip');
  await writeFile(zip, B.zipOf({
    'acte.pdf': B.fakePdf('acte'),
    'annexe é.pdf': B.fakePdf('annexe'),
    'metadata.json': B.metadataJson({ acte_nature: '1', objet: 'Zippé' }, { arrete: ['acte.pdf'], autre_document_attache: ['annexe é.pdf'] }),
  }, { utf8Flag: false }));
  const c = await readEnvelope(zipReader(zip, 'Délibération zip.zip'), spec('Délibération zip.zip', 'zip'));
  assert.equal(c.type, 'acte_nature');
  assert.deepEqual(c.documents.map((d) => d.name), ['acte.pdf', 'annexe é.pdf', 'metadata.json', 'Délibération zip.index.json']);
  assert.deepEqual(await content(c.documents[1]), B.fakePdf('annexe'));
  assert.equal(c.documents[1].metadata!.role, 'autre_document_attache');

  const pesZip = join(root, 'pes.zip');
  await writeFile(pesZip, B.zipOf({ 'metadata.json': B.metadataJson({ id_coll: '1' }, { fichier_pes: ['pes.xml'] }), 'pes.xml': B.pesAller({ pjs: B.PJS }) }));
  const h = await readEnvelope(zipReader(pesZip, 'pes.zip'), spec('pes.zip', 'zip'));
  assert.deepEqual(await content(h.documents.find((d) => d.name === 'bon de commande.pdf')!), B.PJS[1].content, 'PJ decoded from a range of a zip entry');
});

test('a broken envelope is refused with a typed reason: malformed or billion-laughs metadata, corrupt zip, empty', async () => {
  const root = await tempDir();
  const code = async (p: Promise<unknown>) => p.then(() => 'none', (e: unknown) => (e instanceof EnvelopeFormatError ? e.code : String(e)));
  const bomb = await B.writeEnvelope(root, 'bomb', { 'a.pdf': 'x' }, { name: 'metadata.xml', content: B.billionLaughs() });
  assert.equal(await code(read(bomb)), 'XML_ENTITY_DECLARATION');
  const bad = await B.writeEnvelope(root, 'bad', { 'a.pdf': 'x' }, { name: 'metadata.xml', content: Buffer.from('<flux><data name="objet" value="x"></flux>') });
  assert.equal(await code(read(bad)), 'XML_MALFORMED');
  const badPes = await B.writeEnvelope(root, 'badpes', { 'p.xml': Buffer.from('<PES_Aller><EnTetePES></PES_Aller>') }, { name: 'metadata.json', content: B.metadataJson({ id_coll: '1' }, { fichier_pes: ['p.xml'] }) });
  assert.equal(await code(read(badPes)), 'XML_MALFORMED');
  const empty = await B.writeEnvelope(root, 'empty', {});
  assert.equal(await code(read(empty)), 'ENVELOPE_EMPTY');
  const zip = join(root, 'broken.zip');
  await writeFile(zip, Buffer.from('PK\u0003\u0004 not really a zip'));
  assert.equal(await code(readEnvelope(zipReader(zip, 'broken.zip'), spec('broken.zip', 'zip'))), 'ZIP_UNREADABLE');
});

test('decoded facts are cut to fit the blob-metadata budget, the longest first', () => {
  const facts = withinBudget({ objet: 'é'.repeat(160), classification: 'à'.repeat(160), numero: 'N1', fournisseur: 'ü'.repeat(160), a: 'è'.repeat(160) });
  const size = Object.entries(facts).reduce((s, [k, v]) => s + k.length + 4 + encodeURIComponent(v).length, 0);
  assert.ok(size <= FACTS_BUDGET_BYTES, `${size} bytes`);
  assert.equal(facts.numero, 'N1');
  assert.ok(facts.objet.endsWith('…'));
});

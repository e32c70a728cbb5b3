import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readEnvelope, type EnvelopeSpec } from '../../../shared/sources/adullact/envelope';
import { folderReader } from '../../../shared/sources/adullact/envelopeReader';
import { extensionFromMagic } from '../../../shared/sources/adullact/magic';
import * as B from '../../fixtures/adullact/builders';
import { tempDir } from '../../helpers/folders';

const spec = (name: string): EnvelopeSpec => ({ name, kind: 'folder', endMarker: 'fichier_termine.txt', metadataStem: 'metadata' });
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(32, 1)]);
const TIFF = Buffer.concat([Buffer.from('II*\0', 'latin1'), Buffer.alloc(32, 2)]);

test('JSON metadata listing internal names: delivered as <field>_<n>.<extension from the magic bytes>, never with a yml_ extension', async () => {
  const files = {
    'qJO7qzV.yml_arrete_0': B.fakePdf('acte'),
    'qJO7qzV.yml_autre_document_attache_0': PNG,
    'qJO7qzV.yml_autre_document_attache_1': B.arActeXml(B.ACTE, 'id', '2025-03-13'),
    'qJO7qzV.yml_autre_document_attache_2': Buffer.from([0, 1, 2, 3, 4]),
  };
  const dir = await B.writeEnvelope(await tempDir(), 'interne json', files, {
    name: 'metadata.json',
    content: B.metadataJson({ acte_nature: '1', objet: 'x' }, { arrete: ['qJO7qzV.yml_arrete_0'], autre_document_attache: Object.keys(files).slice(1) }),
  });
  const c = await readEnvelope(folderReader(dir), spec('interne json'));
  assert.deepEqual(c.documents.map((d) => [d.name, d.metadata!.role, d.contentType]), [
    ['metadata.json', 'metadata', 'application/json'],
    ['arrete_0.pdf', 'arrete', 'application/pdf'],
    ['autre_document_attache_0.png', 'autre_document_attache', 'image/png'],
    ['autre_document_attache_1.xml', 'autre_document_attache', 'application/xml'],
    ['autre_document_attache_2.bin', 'autre_document_attache', undefined],
    ['interne json.index.json', 'index', 'application/json'],
  ]);
  assert.ok(c.documents.every((d) => !/yml_/.test(d.name)));
});

test('YAML metadata, and an internal name the metadata does not list: same rule; an original name, when given, still wins', async () => {
  const dir = await B.writeEnvelope(await tempDir(), 'interne yaml', { 'a1B2.yml_scan_0': TIFF, 'a1B2.yml_autre_document_0': B.fakePdf('v') }, {
    name: 'metadata.txt',
    content: B.metadataYaml({ titre: 'x' }, { scan: ['a1B2.yml_scan_0'] }),
  });
  const c = await readEnvelope(folderReader(dir), spec('interne yaml'));
  assert.deepEqual(c.documents.map((d) => [d.name, d.metadata!.role]), [
    ['autre_document_0.pdf', 'autre_document'], ['scan_0.tif', 'scan'], ['metadata.txt', 'metadata'], ['interne yaml.index.json', 'index'],
  ]);

  const xml = await B.writeEnvelope(await tempDir(), 'interne xml', { 'q.yml_arrete_0': B.fakePdf('a') }, {
    name: 'metadata.xml',
    content: B.metadataXml({ acte_nature: '1' }, { arrete: [{ content: 'q.yml_arrete_0', original: 'arrêté municipal.pdf' }] }),
  });
  assert.deepEqual((await readEnvelope(folderReader(xml), spec('interne xml'))).documents.map((d) => d.name).slice(0, 2), ['metadata.xml', 'arrêté municipal.pdf']);
});

test('magic bytes: pdf, xml, zip (odt, docx), png, jpg, tif, gif, gz, rtf; else bin', () => {
  const zipHead = (firstName: string, data = '') => Buffer.concat([Buffer.from('PK\u0003\u0004', 'latin1'), Buffer.alloc(26), Buffer.from(firstName + data, 'latin1')]);
  const cases: [Buffer, string][] = [
    [B.fakePdf('x'), 'pdf'],
    [Buffer.from('<?xml version="1.0"?><a/>'), 'xml'],
    [Buffer.from('\ufeff  <PES_Aller>', 'utf8'), 'xml'],
    [zipHead('mimetype', 'application/vnd.oasis.opendocument.text'), 'odt'],
    [zipHead('[Content_Types].xml', '...word/document.xml'), 'docx'],
    [zipHead('acte.pdf'), 'zip'],
    [PNG, 'png'],
    [Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), 'jpg'],
    [TIFF, 'tif'],
    [Buffer.from('MM\0*', 'latin1'), 'tif'],
    [Buffer.from('GIF89a'), 'gif'],
    [Buffer.from([0x1f, 0x8b, 8, 0]), 'gz'],
    [Buffer.from('{\\rtf1\\ansi'), 'rtf'],
    [Buffer.from('Le transfert est terminé'), 'bin'],
    [Buffer.alloc(0), 'bin'],
  ];
  for (const [head, ext] of cases) assert.equal(extensionFromMagic(head), ext, head.subarray(0, 12).toString('latin1'));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EnvelopeFormatError } from '../../../shared/sources/adullact/errors';
import { findMetadataFile, parseMetadata } from '../../../shared/sources/adullact/metadata';
import { recogniseType } from '../../../shared/sources/adullact/recognise';
import { billionLaughs, metadataJson, metadataXml, metadataYaml } from '../../fixtures/adullact/builders';

test('metadata.xml: data fields, file fields, internal names with name_original, ISO-8859-1', () => {
  const m = parseMetadata(
    metadataXml({ acte_nature: '3', objet: 'Arrêté n°12 – «nomination»'.replace('–', '-') }, { arrete: [{ content: 'qJO7qzV.yml_arrete_0', original: 'arrêté.pdf' }], autre_document_attache: ['a1.pdf', 'a2.pdf'] }, { encoding: 'ISO-8859-1' }),
    'xml', 'metadata.xml', 'env/metadata.xml',
  );
  assert.equal(m.data.objet, 'Arrêté n°12 - «nomination»');
  assert.deepEqual(m.files, [
    { field: 'arrete', name: 'qJO7qzV.yml_arrete_0', original: 'arrêté.pdf' },
    { field: 'autre_document_attache', name: 'a1.pdf' },
    { field: 'autre_document_attache', name: 'a2.pdf' },
  ]);
  assert.equal(parseMetadata(metadataXml({}, {}, { fluxType: 'actes-automatique' }), 'xml', 'm', 'm').fluxType, 'actes-automatique');
});

test('metadata.json and metadata.txt (YAML): strings are fields, lists are files; YAML values stay text', () => {
  const json = parseMetadata(metadataJson({ fichier: 'x', montant_ttc: '120.00' }, { fichier_facture: ['pivot.xml'] }), 'json', 'metadata.json', 'm');
  assert.deepEqual(json.files, [{ field: 'fichier_facture', name: 'pivot.xml' }]);
  assert.equal(json.data.montant_ttc, '120.00');
  const yaml = parseMetadata(Buffer.from('numero_facture: 007\ndate_facture: 2025-03-01\nactif: yes\nfacture_pj_02:\n  - a.pdf\n  - b.pdf\n'), 'yaml', 'metadata.txt', 'm');
  assert.deepEqual(yaml.data, { numero_facture: '007', date_facture: '2025-03-01', actif: 'yes' });
  assert.deepEqual(yaml.files.map((f) => f.name), ['a.pdf', 'b.pdf']);
  assert.deepEqual(parseMetadata(metadataYaml({ objet: 'Noël' }, { arrete: ['é.pdf'] }), 'yaml', 'm', 'm').data, { objet: 'Noël' });
});

test('malformed metadata of every format is refused with the reason', () => {
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof EnvelopeFormatError);
      return err.code;
    }
    return 'none';
  };
  assert.equal(code(() => parseMetadata(Buffer.from('{"a": '), 'json', 'm', 'm')), 'METADATA_MALFORMED');
  assert.equal(code(() => parseMetadata(Buffer.from('[1,2]'), 'json', 'm', 'm')), 'METADATA_MALFORMED');
  assert.equal(code(() => parseMetadata(Buffer.from('a: [b\n'), 'yaml', 'm', 'm')), 'METADATA_MALFORMED');
  assert.equal(code(() => parseMetadata(Buffer.from('<flux><data name="a" value="b"></flux>'), 'xml', 'm', 'm')), 'XML_MALFORMED');
  assert.equal(code(() => parseMetadata(Buffer.from('<other/>'), 'xml', 'm', 'm')), 'METADATA_MALFORMED');
  assert.equal(code(() => parseMetadata(billionLaughs(), 'xml', 'm', 'm')), 'XML_ENTITY_DECLARATION');
  // a YAML alias bomb is bounded too
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill('*' + String.fromCharCode(97 + i)).join(',')}]`)].join('\n');
  assert.equal(code(() => parseMetadata(Buffer.from(bomb), 'yaml', 'm', 'm')), 'METADATA_MALFORMED');
});

test('the metadata file is found by its configured name, XML first', () => {
  const files = [{ path: 'acte.pdf', size: 1 }, { path: 'metadata.json', size: 1 }, { path: 'Metadata.XML', size: 1 }, { path: 'sub/metadata.txt', size: 1 }];
  assert.deepEqual(findMetadataFile(files), { path: 'Metadata.XML', format: 'xml' });
  assert.deepEqual(findMetadataFile([{ path: 'flux.txt', size: 1 }], 'flux'), { path: 'flux.txt', format: 'yaml' });
  assert.equal(findMetadataFile([{ path: 'sub/metadata.txt', size: 1 }]), undefined);
});

test('the type is recognised from the fields present, never from file names', () => {
  const meta = (data: Record<string, string>, files: Record<string, string[]> = {}) => parseMetadata(metadataJson(data, files), 'json', 'm', 'm');
  assert.equal(recogniseType(meta({ acte_nature: '4', objet: 'x' }, { arrete: ['DE-contrat.pdf'] })).type, 'acte_nature');
  assert.equal(recogniseType(meta({ id_coll: '1', cod_bud: '01' }, { fichier_pes: ['p.xml'] })).type, 'helios');
  assert.equal(recogniseType(meta({ numero_facture: 'F1', montant_a_payer: '1' }, { fichier_facture: ['f.xml'] })).type, 'chorus_fact');
  assert.equal(recogniseType(meta({ id_facture_cpp: '9', no_facture: 'F' })).type, 'chorus_fact');
  const unknown = recogniseType(meta({ objet: 'x', titre: 'y' }));
  assert.equal(unknown.type, undefined);
  assert.match((unknown as { reason: string }).reason, /none of the/);
  assert.match((recogniseType(meta({ acte_nature: '1', id_coll: '2' })) as { reason: string }).reason, /ambiguous/);
  assert.equal(recogniseType(undefined).type, undefined);
  assert.equal(recogniseType(parseMetadata(metadataXml({ objet: 'x' }, {}, { fluxType: 'helios-automatique' }), 'xml', 'm', 'm')).type, 'helios');
});

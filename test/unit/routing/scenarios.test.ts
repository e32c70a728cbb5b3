import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRouter } from '../../../shared/routing/scenarios';

const scenarios = [
  { group: 'pdf', job: '87', waitdir: 'facturesfournisseurs' },
  { group: '.TIF', job: '88', waitdir: 'scans' },
  { job: '69', waitdir: 'documentsclients' },
];

test('extension groups match case-insensitively, with or without a dot', () => {
  const route = createRouter(scenarios);
  assert.equal(route({ name: 'F.PDF' })?.waitdir, 'facturesfournisseurs');
  assert.equal(route({ name: 'scan.tif' })?.waitdir, 'scans');
});

test('the row without group is the default', () => {
  assert.equal(createRouter(scenarios)({ name: 'lettre.docx' })?.job, '69');
  assert.equal(createRouter(scenarios)({ name: 'README' })?.job, '69');
});

test('without default, an unmatched document has no scenario', () => {
  assert.equal(createRouter(scenarios.slice(0, 2))({ name: 'lettre.docx' }), undefined);
});

test('a source-given group (envelope type) wins over the extension', () => {
  const route = createRouter([{ group: 'chorus_fact', waitdir: 'chorus' }, { group: 'pdf', waitdir: 'pdf' }]);
  assert.equal(route({ name: 'facture.pdf', group: 'chorus_fact' })?.waitdir, 'chorus');
});

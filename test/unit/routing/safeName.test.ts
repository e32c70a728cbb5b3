import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deliveredName, extensionOf, safeFileName, unsafeSegmentReason } from '../../../shared/routing/safeName';
import { documentBlobNames } from '../../../shared/staging/blobNames';

test('unsafe names lose separators, .., control characters and drive letters', () => {
  assert.equal(safeFileName('../../etc/passwd'), 'passwd');
  assert.equal(safeFileName('C:\\temp\\..\\x.pdf'), 'x.pdf');
  assert.equal(safeFileName('a..b.pdf'), 'a.b.pdf');
  assert.equal(safeFileName('fac\u0000ture\r\n.pdf'), 'fac_ture__.pdf');
  assert.equal(safeFileName('what?<>|*.pdf'), 'what_____.pdf');
  assert.equal(safeFileName('CON.txt'), 'document_CON.txt');
  assert.equal(safeFileName('.pdf'), 'pdf');
  assert.equal(safeFileName('Relevé été.pdf'), 'Relevé été.pdf');
});

test('delivered names are deterministic, unique per identity, and recognisable', () => {
  const a = deliveredName('facture.pdf', 'launcher/aaa/000-facture.pdf');
  const b = deliveredName('facture.pdf', 'launcher/bbb/000-facture.pdf');
  assert.match(a, /^facture_[0-9a-f]{8}\.pdf$/);
  assert.notEqual(a, b);
  assert.equal(a, deliveredName('facture.pdf', 'launcher/aaa/000-facture.pdf'));
  assert.equal(unsafeSegmentReason(a), undefined);
});

test('waitdir and name checks say why', () => {
  assert.equal(unsafeSegmentReason('factures'), undefined);
  assert.equal(unsafeSegmentReason('a/b'), 'contains a path separator');
  assert.equal(unsafeSegmentReason('..'), 'contains ".."');
  assert.equal(unsafeSegmentReason('C:x'), 'starts with a drive letter');
  assert.equal(unsafeSegmentReason('a\tb'), 'contains control characters');
  assert.equal(unsafeSegmentReason(''), 'is empty');
});

test('extension is lower case without the dot', () => {
  assert.equal(extensionOf('A.PDF'), 'pdf');
  assert.equal(extensionOf('archive.tar.gz'), 'gz');
  assert.equal(extensionOf('README'), '');
  assert.equal(extensionOf('.bashrc'), '');
});

test('document blob names follow the names, not the positions; unsafe twins are told apart', () => {
  const before = documentBlobNames('12', 'env-1', ['acte.pdf', 'annexe.pdf']);
  const after = documentBlobNames('12', 'env-1', ['acte.pdf', 'ajout.pdf', 'annexe.pdf']);
  assert.equal(after[0], before[0]);
  assert.equal(after[2], before[1]);
  const twins = documentBlobNames('12', 'mail-1', ['a/b.pdf', 'b.pdf', 'B.PDF']);
  assert.equal(new Set(twins.map((t) => t.toLowerCase())).size, 3);
  assert.match(twins[1]!, /\/~2-b\.pdf$/);
});

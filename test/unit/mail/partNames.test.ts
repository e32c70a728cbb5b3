import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extensionForType, nameForPart, nameFromSubject, uniqueNames } from '../../../shared/mail/partNames';
import { isDocumentPart } from '../../../shared/mail/partRole';
import type { MimePartFacts } from '../../../shared/mail/parseMime';

test('unnamed parts are named from their type; a name without extension gets the type one', () => {
  assert.equal(nameForPart(undefined, 'application/pdf'), 'document.pdf');
  assert.equal(nameForPart(undefined, 'image/jpeg'), 'image.jpg');
  assert.equal(nameForPart(undefined, 'message/rfc822'), 'message.eml');
  assert.equal(nameForPart(undefined, 'application/x-unknown'), 'attachment.bin');
  assert.equal(nameForPart('Facture', 'application/pdf'), 'Facture.pdf');
  assert.equal(nameForPart('Facture', 'application/octet-stream'), 'Facture');
  assert.equal(nameForPart('scan.TIF', 'application/pdf'), 'scan.TIF');
  assert.equal(extensionForType('Application/PDF; name=x'), 'pdf');
});

test('names are unique within a mail, case-insensitively and as written to disk', () => {
  assert.deepEqual(uniqueNames(['a.pdf', 'A.PDF', 'a.pdf', 'a_2.pdf', 'b']), ['a.pdf', 'A_2.PDF', 'a_3.pdf', 'a_2_2.pdf', 'b']);
  assert.deepEqual(uniqueNames(['x:y.pdf', 'x_y.pdf']), ['x:y.pdf', 'x_y_2.pdf']);
});

test('subjects become file names without separators or control characters', () => {
  assert.equal(nameFromSubject('Re: Facture 12/2025\t(urgent)...', 'eml'), 'Re Facture 12 2025 (urgent).eml');
  assert.equal(nameFromSubject('   ', 'txt'), 'message.txt');
  assert.equal(nameFromSubject(undefined, 'eml'), 'message.eml');
});

test('inline rules: files count, embedded images do not unless asked', () => {
  const part = (p: Partial<MimePartFacts>): MimePartFacts => ({ size: 1, contentType: 'application/pdf', related: false, ...p });
  assert.equal(isDocumentPart(part({ disposition: 'inline', filename: 'contrat.pdf' }), undefined, false), true);
  assert.equal(isDocumentPart(part({ contentType: 'image/png', disposition: 'inline', related: true, cid: 'logo', filename: 'logo.png' }), '<img src="cid:logo">', false), false);
  assert.equal(isDocumentPart(part({ contentType: 'image/png', disposition: 'inline', cid: 'logo', filename: 'logo.png' }), '<img src="cid:logo">', false), false);
  assert.equal(isDocumentPart(part({ contentType: 'image/png', disposition: 'inline' }), undefined, false), false);
  assert.equal(isDocumentPart(part({ contentType: 'image/png', disposition: 'inline', filename: 'photo.png' }), undefined, false), true);
  assert.equal(isDocumentPart(part({ contentType: 'image/png', disposition: 'attachment', filename: 'photo.png' }), undefined, false), true);
  assert.equal(isDocumentPart(part({ contentType: 'image/png', disposition: 'inline', related: true, cid: 'logo' }), undefined, true), true);
});

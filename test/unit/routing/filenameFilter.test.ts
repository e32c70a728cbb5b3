import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilenameFilter } from '../../../shared/routing/filenameFilter';

const verdicts = (filter: string | undefined, names: string[]) => {
  const f = compileFilenameFilter(filter);
  return Object.fromEntries(names.map((n) => [n, f(n)]));
};

test('EzGED example /.*\\.(?!db).*/ excludes extensions starting with db', () => {
  assert.deepEqual(verdicts('/.*\\.(?!db).*/', ['facture.pdf', 'Thumbs.db', 'base.dbf', 'scan.tif', 'noextension']), {
    'facture.pdf': true,
    'Thumbs.db': false,
    'base.dbf': false,
    'scan.tif': true,
    noextension: false,
  });
});

test('EzGED example /(?!debut_nom_fichier).*\\..*/ is matched from the start of the name', () => {
  assert.deepEqual(verdicts('/(?!debut_nom_fichier).*\\..*/', ['debut_nom_fichier_01.pdf', 'facture_debut_nom_fichier.pdf', 'a.pdf', 'sans-point']), {
    'debut_nom_fichier_01.pdf': false,
    // the lookahead is tried at the start only: elsewhere in the name it does not exclude
    'facture_debut_nom_fichier.pdf': true,
    'a.pdf': true,
    'sans-point': false,
  });
});

test('a regex is anchored at the start but not at the end', () => {
  const f = compileFilenameFilter('/fact/');
  assert.equal(f('facture.pdf'), true);
  assert.equal(f('ma-facture.pdf'), false);
});

test('regex flags after the closing slash and a leading (?i)', () => {
  assert.equal(compileFilenameFilter('/FACT/i')('facture.pdf'), true);
  assert.equal(compileFilenameFilter('/(?i)FACT/')('facture.pdf'), true);
  assert.equal(compileFilenameFilter('/FACT/')('facture.pdf'), false);
});

test('globs are case-insensitive; ** and absence take everything', () => {
  assert.deepEqual(verdicts('*.pdf', ['a.pdf', 'B.PDF', 'c.tif']), { 'a.pdf': true, 'B.PDF': true, 'c.tif': false });
  assert.deepEqual(verdicts('facture_*.{pdf,tif}', ['facture_1.tif', 'facture_1.doc', 'avoir_1.pdf']), { 'facture_1.tif': true, 'facture_1.doc': false, 'avoir_1.pdf': false });
  assert.equal(compileFilenameFilter('**')('anything'), true);
  assert.equal(compileFilenameFilter(undefined)('anything'), true);
});

test('an invalid regex or flag is reported with the reason', () => {
  assert.throws(() => compileFilenameFilter('/(unclosed/'), /invalid regular expression: Unterminated group/);
  assert.throws(() => compileFilenameFilter('/a/g'), /unsupported regular expression flags "g"/);
});

test('PCRE as EzGED reads it: uppercase flags refused, anchors \\A \\z \\Z translated, x flag applied, unknown escapes refused', () => {
  assert.throws(() => compileFilenameFilter('/fact/U'), /unsupported regular expression flags "U"/);
  const anchored = compileFilenameFilter('/\\Afact.*\\.pdf\\z/');
  assert.equal(anchored('facture.pdf'), true);
  assert.equal(anchored('facture.pdf.bak'), false);
  assert.equal(anchored('Afacture.pdf'), false);
  assert.equal(compileFilenameFilter('/.*\\.pdf\\Z/')('a.pdf\n'), true);
  const extended = compileFilenameFilter('/ fact  # invoices\n _ \\d+ [ ] /x');
  assert.equal(extended('fact_12 '), true);
  assert.equal(extended('fact_12'), false, 'a space inside a class is kept');
  assert.throws(() => compileFilenameFilter('/\\h+/'), /escape \\h is not supported/);
  assert.equal(compileFilenameFilter('/\\p{Lu}.*\\.pdf/u')('Éte.pdf'), true, 'Unicode properties, as PCRE reads them');
  assert.equal(compileFilenameFilter('/(?<y>\\d{4})-\\k<y>/')('2026-2026.pdf'), true, 'named back references');
  assert.throws(() => compileFilenameFilter('/[\\A]/'), /escape \\A is not supported/, 'PCRE refuses an anchor in a class too');
});

test('PCRE constructs JavaScript would read another way are translated exactly or refused, never misread', () => {
  const f = compileFilenameFilter;
  assert.equal(f('/a\\z/m')('a\nb'), false, '\\z stays the end of the name under m');
  assert.equal(f('/.*\\.pdf\\Z/m')('a.pdf\nb'), false);
  assert.equal(f('/[[:digit:]]+\\.pdf/')('123.pdf'), true, 'POSIX classes');
  assert.equal(f('/[[:alpha:]_]+\\.pdf/')('abc_d.pdf'), true);
  assert.throws(() => f('/[[:punct:]]/'), /class \[:punct:\] is not supported/);
  assert.equal(f('/factur\\xE9/')('facturé.pdf'), true);
  assert.throws(() => f('/\\x{41}/'), /two hex digits/);
  assert.throws(() => f('/\\pL+/'), /needs the u flag/);
  assert.throws(() => f('/\\p{Lu}/'), /needs the u flag/);
  assert.equal(f('/a\\vb/')('a\nb'), true, '\\v is any vertical space');
  assert.equal(f('/[]a]+/')(']a'), true, 'a leading ] in a class is a literal');
  assert.throws(() => f('/a++/'), /possessive quantifier/);
  assert.throws(() => f('/(?>a)/'), /not supported here/);
  assert.throws(() => f('/x(?i)y/'), /not supported here/);
  assert.throws(() => f('/\\k<y>/'), /escape \\k is not supported/);
});

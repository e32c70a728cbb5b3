import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EnvelopeFormatError } from '../../../shared/sources/adullact/errors';
import { attr, child, decodeCharacterReferences, decodeXmlBytes, parseXml, rootOf, text } from '../../../shared/sources/adullact/xml';
import { billionLaughs } from '../../fixtures/adullact/builders';

const rejects = (fn: () => unknown, code: string) =>
  assert.throws(fn, (err: unknown) => err instanceof EnvelopeFormatError && err.code === code, `expected ${code}`);

test('ISO-8859-1 and windows-1252 declarations are honoured: accents (and €) survive', () => {
  const latin1 = Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><a v="Délibération"/>', 'latin1');
  assert.equal(attr(rootOf(parseXml(latin1, 't'))!.node, 'v'), 'Délibération');
  const cp1252 = Buffer.concat([Buffer.from('<?xml version="1.0" encoding="windows-1252"?><a>'), Buffer.from([0x80, 0x20, 0xe9]), Buffer.from('</a>')]);
  assert.equal(text(rootOf(parseXml(cp1252, 't'))!.node), '€ é');
  const utf8 = Buffer.from('<?xml version="1.0" encoding="UTF-8"?><a>Noël</a>', 'utf8');
  assert.equal(text(rootOf(parseXml(utf8, 't'))!.node), 'Noël');
  // no declaration, not UTF-8: read as windows-1252 rather than mangled
  assert.equal(decodeXmlBytes(Buffer.from('<a>forêt</a>', 'latin1'), 't'), '<a>forêt</a>');
});

test('an encoding we cannot honour, or bytes that contradict the declaration, are refused', () => {
  rejects(() => parseXml(Buffer.from('<?xml version="1.0" encoding="EBCDIC-FR"?><a/>'), 't'), 'XML_ENCODING');
  rejects(() => parseXml(Buffer.from('<?xml version="1.0" encoding="UTF-8"?><a>forêt</a>', 'latin1'), 't'), 'XML_ENCODING');
});

test('a billion-laughs document is refused before any parsing, nothing is expanded', () => {
  rejects(() => parseXml(billionLaughs(), 'bomb.xml'), 'XML_ENTITY_DECLARATION');
  // an external entity (XXE) is refused the same way
  rejects(() => parseXml(Buffer.from('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'), 'xxe.xml'), 'XML_ENTITY_DECLARATION');
});

test('malformed XML is refused with its line and column (the parser alone would accept it)', () => {
  assert.throws(() => parseXml(Buffer.from('<flux>\n<data name="a" value="b">\n</flux>'), 'm.xml'), (err: unknown) => {
    assert.ok(err instanceof EnvelopeFormatError && err.code === 'XML_MALFORMED');
    assert.match((err as Error).message, /m\.xml: malformed XML .*line \d+/);
    return true;
  });
  rejects(() => parseXml(Buffer.from('<a><b>x</b>'), 't'), 'XML_MALFORMED');
});

test('predefined entities and character references are decoded; undeclared entities stay as written', () => {
  assert.equal(decodeCharacterReferences('a &lt; b &amp; c &#233; &#xE8; &foo;'), 'a < b & c é è &foo;');
  const doc = parseXml(Buffer.from('<r xmlns:p="urn:x"><p:n p:k="&quot;x&quot;">Müller &amp; Fils</p:n></r>'), 't');
  const n = child(rootOf(doc)!.node, 'n');
  assert.equal(text(n), 'Müller & Fils');
  assert.equal(attr(n, 'k'), '"x"');
});

test('a file larger than the bound is refused before decoding', () => {
  rejects(() => parseXml(Buffer.alloc(2048, 0x20), 't', 1024), 'XML_TOO_LARGE');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { ItemRejectedError } from '../../../shared/errors';
import { EnvelopeFormatError } from '../../../shared/sources/adullact/errors';
import { decodePayload, isGzipBase64 } from '../../../shared/sources/adullact/payload';
import { SkeletonTooLargeError, stripPayloads } from '../../../shared/sources/adullact/skeleton';
import { pesAller } from '../../fixtures/adullact/builders';

/** Feeds `data` in chunks of `size` bytes, to cross every boundary. */
const chunked = (data: Buffer, size: number) => Readable.from((function* () {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
})());

const drain = async (s: Readable) => {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
};

const pjs = [
  { nom: 'a.pdf', content: Buffer.from('%PDF first é') },
  { nom: 'b.pdf', content: Buffer.alloc(5000, 7) },
];

for (const size of [1, 7, 64, 1 << 20]) {
  test(`payloads are stripped and located whatever the chunk size (${size} bytes)`, async () => {
    const pes = pesAller({ pjs, lineEnd: '&#13;\n' });
    const sk = await stripPayloads(chunked(pes, size), ['Fichier']);
    assert.equal(sk.payloads.length, 2);
    const xml = sk.xml.toString('latin1');
    assert.match(xml, /<Fichier MIMEType="application\/pdf">#0<\/Fichier>/);
    assert.match(xml, /<Fichier MIMEType="application\/pdf">#1<\/Fichier>/);
    assert.ok(xml.includes('Commune de B\xe9con'), 'the rest of the file is kept byte for byte');
    for (const [i, p] of sk.payloads.entries()) {
      assert.ok(isGzipBase64(p.head));
      const decoded = await drain(decodePayload(Readable.from([pes.subarray(p.start, p.end)]), true, 't'));
      assert.deepEqual(decoded, pjs[i].content);
    }
  });
}

test('a self-closing or prefixed payload element is handled; NomFichier is not a payload', async () => {
  const xml = Buffer.from('<r><n:Fichier/><NomFichier>x</NomFichier><n:Fichier a="1">QUJD</n:Fichier></r>');
  const sk = await stripPayloads(chunked(xml, 3), ['Fichier']);
  assert.equal(sk.xml.toString(), '<r><n:Fichier/><NomFichier>x</NomFichier><n:Fichier a="1">#0</n:Fichier></r>');
  assert.deepEqual(await drain(decodePayload(Readable.from([xml.subarray(sk.payloads[0].start, sk.payloads[0].end)]), false, 't')), Buffer.from('ABC'));
});

test('markup inside a payload, a file ending inside one, or too large a skeleton are refused', async () => {
  await assert.rejects(stripPayloads(chunked(Buffer.from('<r><Fichier>QUJD<![CDATA[x]]></Fichier></r>'), 5), ['Fichier']), (e: unknown) => e instanceof EnvelopeFormatError && e.code === 'XML_UNEXPECTED_MARKUP');
  await assert.rejects(stripPayloads(Readable.from([Buffer.from('<r><Fichier>QUJD')]), ['Fichier']), (e: unknown) => e instanceof EnvelopeFormatError && e.code === 'XML_MALFORMED');
  await assert.rejects(stripPayloads(Readable.from([Buffer.alloc(4096, 0x20)]), ['Fichier'], 1024), SkeletonTooLargeError);
});

test('bad base64 or a corrupt gzip end the stream with an ItemRejectedError (the envelope is put aside)', async () => {
  await assert.rejects(drain(decodePayload(Readable.from([Buffer.from('QUJD*QUJD')]), false, 'pj')), (e: unknown) => e instanceof ItemRejectedError && /not base64/.test((e as Error).message));
  const gz = gzipSync(Buffer.alloc(1000, 1)).toString('base64');
  const corrupt = gz.slice(0, 20) + 'AAAA' + gz.slice(24);
  await assert.rejects(drain(decodePayload(Readable.from([Buffer.from(corrupt)]), true, 'pj')), (e: unknown) => e instanceof ItemRejectedError && /gzip is corrupt/.test((e as Error).message));
  // a read error of the file itself is not a rejection: it is retried
  const failing = new Readable({ read() { this.destroy(Object.assign(new Error('EIO'), { code: 'EIO' })); } });
  await assert.rejects(drain(decodePayload(failing, false, 'pj')), (e: unknown) => !(e instanceof ItemRejectedError) && (e as NodeJS.ErrnoException).code === 'EIO');
});

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { EzgedError } from '../../../shared/ezged/errors';
import { multipartBody, multipartFrame } from '../../../shared/ezged/multipart';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of it) parts.push(b);
  return Buffer.concat(parts);
}

test('the body is exactly Content-Length bytes: one part "file", the document, the closing boundary', async () => {
  const doc = Buffer.from('%PDF-1.7 été\r\n--not-a-boundary\r\n');
  const frame = multipartFrame('facture été.pdf', 'BOUNDARY123');
  const body = await collect(multipartBody(frame, Readable.from([doc.subarray(0, 5), doc.subarray(5)]), doc.length, sha(doc)));
  assert.equal(body.length, frame.contentLength(doc.length));
  assert.equal(frame.contentType, 'multipart/form-data; boundary=BOUNDARY123');
  assert.equal(
    body.toString('utf8'),
    '--BOUNDARY123\r\nContent-Disposition: form-data; name="file"; filename="facture été.pdf"\r\n' +
      'Content-Type: application/octet-stream\r\n\r\n' +
      doc.toString('utf8') +
      '\r\n--BOUNDARY123--\r\n',
  );
});

test('quotes and line breaks in a name cannot break the part header', () => {
  const head = multipartFrame('a"b\r\nc.pdf', 'B').head.toString();
  assert.match(head, /filename="a%22b%0D%0Ac\.pdf"\r\n/);
});

for (const [label, chunks, size, expected] of [
  ['shorter than staged', [Buffer.from('abc')], 4, /read 3 bytes instead of the staged 4/],
  ['longer than staged', [Buffer.from('abcde')], 4, /longer than its staged size/],
  ['altered content', [Buffer.from('abcd')], 4, /hash/],
] as const) {
  test(`a document ${label} stops the upload before the closing boundary`, async () => {
    const frame = multipartFrame('x', 'B');
    const seen: Buffer[] = [];
    await assert.rejects(
      (async () => {
        for await (const b of multipartBody(frame, Readable.from(chunks as readonly Buffer[]), size, sha(Buffer.from('zzzz')))) seen.push(b);
      })(),
      (err: EzgedError) => err.code === 'CONTENT_MISMATCH' && err.transient && expected.test(err.message),
    );
    assert.ok(!Buffer.concat(seen).includes(frame.tail), 'the closing boundary was never sent');
  });
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { BLOCK_SIZE, InMemoryBody, putIfAbsent } from '../../shared/staging/putIfAbsent';
import { decodeMetadata, encodeMetadata } from '../../shared/staging/metadata';
import { useAzurite } from '../helpers/azurite';

const azurite = useAzurite();
const meta = (size: number, sha256: string) => encodeMetadata({ launcherId: '12', sourceKey: 'a|1|2', fileName: 'Relevé été.pdf', waitdir: 'w', sha256, size, stagedAt: 'now', attempts: 0 });

test('a document is written once: a second write of the same name changes nothing', async () => {
  const store = await azurite.reset();
  const first = await store.putIfAbsent('staging', '12/x/000-a.pdf', Readable.from([Buffer.from('first')]), meta);
  const second = await store.putIfAbsent('staging', '12/x/000-a.pdf', Readable.from([Buffer.from('second!')]), meta);
  assert.equal(first.created, true);
  assert.equal(second.created, false);
  const body = await store.container('staging').getBlobClient('12/x/000-a.pdf').downloadToBuffer();
  assert.equal(body.toString(), 'first');
});

test('a large document is streamed in blocks, hashed, with its metadata (non-ASCII names kept)', async () => {
  const store = await azurite.reset();
  const size = BLOCK_SIZE * 2 + 12345;
  const data = randomBytes(size);
  const chunks = Array.from({ length: Math.ceil(size / 65536) }, (_, i) => data.subarray(i * 65536, (i + 1) * 65536));
  const res = await store.putIfAbsent('staging', 'big.bin', Readable.from(chunks), meta);
  assert.equal(res.created, true);
  assert.equal(res.size, size);
  assert.equal(res.sha256, createHash('sha256').update(data).digest('hex'));
  const blob = store.container('staging').getBlobClient('big.bin');
  const props = await blob.getProperties();
  assert.equal(props.contentLength, size);
  const m = decodeMetadata(props.metadata);
  assert.equal(m.fileName, 'Relevé été.pdf');
  assert.equal(m.sha256, res.sha256);
  assert.ok((await blob.downloadToBuffer()).equals(data));
});

test('a body already in memory (Buffer or InMemoryBody) is written in one request, once, hashed, with its metadata', async () => {
  const store = await azurite.reset();
  const data = randomBytes(50 * 1024);
  const blob = store.container('staging').getBlockBlobClient('small.pdf');
  const first = await putIfAbsent(blob, data, meta, 'application/pdf');
  assert.deepEqual(first, { created: true, size: data.length, sha256: createHash('sha256').update(data).digest('hex') });
  const second = await store.putIfAbsent('staging', 'small.pdf', new InMemoryBody(randomBytes(10)), meta);
  assert.equal(second.created, false);
  const props = await blob.getProperties();
  assert.equal(props.contentType, 'application/pdf');
  assert.equal(decodeMetadata(props.metadata).sha256, first.sha256);
  assert.equal(decodeMetadata(props.metadata).size, data.length);
  assert.ok((await blob.downloadToBuffer()).equals(data));
  const blocks = await blob.getBlockList('committed');
  assert.equal(blocks.committedBlocks?.length ?? 0, 0, 'one Put Blob, no staged blocks');
});

test('a stream that fails half-way commits nothing', async () => {
  const store = await azurite.reset();
  async function* failing() {
    yield randomBytes(BLOCK_SIZE + 10);
    throw new Error('disk unplugged');
  }
  await assert.rejects(store.putIfAbsent('staging', 'half.bin', Readable.from(failing()), meta), /disk unplugged/);
  assert.equal(await store.exists('staging', 'half.bin'), false);
});

test('move keeps the document whole and replaces the metadata', async () => {
  const store = await azurite.reset();
  await store.putIfAbsent('staging', 'm.pdf', Readable.from([Buffer.from('content')]), meta);
  await store.move('staging', 'archive', 'm.pdf', { deliveredat: 'x' });
  assert.equal(await store.exists('staging', 'm.pdf'), false);
  const archived = store.container('archive').getBlobClient('m.pdf');
  assert.equal((await archived.downloadToBuffer()).toString(), 'content');
  assert.deepEqual((await archived.getProperties()).metadata, { deliveredat: 'x' });
  assert.equal(await store.locate('m.pdf'), 'archive');
});

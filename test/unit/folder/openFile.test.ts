import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFile, readdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { openFile, readWhole, WHOLE_READ_MAX_BYTES } from '../../../shared/sources/folder/openFile';
import { InMemoryBody } from '../../../shared/staging/putIfAbsent';
import { tempDir } from '../../helpers/folders';

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function fileOf(content: Buffer) {
  const path = join(await tempDir(), 'doc.pdf');
  await writeFile(path, content);
  return { path, label: 'doc.pdf', size: content.length };
}

test('a small file is read whole into memory, and still reads as a stream', async () => {
  const content = randomBytes(50 * 1024);
  const body = await openFile(await fileOf(content));
  assert.ok(body instanceof InMemoryBody);
  assert.ok(body.content.equals(content));
  assert.ok((await drain(body)).equals(content));
});

test('a small file that grew or shrank since the scan fails with FILE_CHANGED', async () => {
  const file = await fileOf(Buffer.from('0123456789'));
  await appendFile(file.path, 'more');
  await assert.rejects(readWhole(file), (err: Error & { code?: string }) => err.code === 'FILE_CHANGED' && /more than 10/.test(err.message));
  await truncate(file.path, 4);
  await assert.rejects(readWhole(file), (err: Error & { code?: string }) => err.code === 'FILE_CHANGED' && /\(4 bytes instead of 10\)/.test(err.message));
});

test('a vanished file fails with the file-system error', async () => {
  const file = await fileOf(Buffer.from('x'));
  await assert.rejects(readWhole({ ...file, path: file.path + '.gone' }), /ENOENT/);
});

test('a large file is streamed, not read whole, and its size is still checked', async () => {
  const content = randomBytes(WHOLE_READ_MAX_BYTES + 1000);
  const file = await fileOf(content);
  const body = await openFile(file);
  assert.ok(!(body instanceof InMemoryBody));
  assert.ok((await drain(body)).equals(content));
  await appendFile(file.path, 'more');
  await assert.rejects(drain(await openFile(file)), (err: Error & { code?: string }) => err.code === 'FILE_CHANGED');
});

test('a large file whose reader gives up is closed (no descriptor left open)', async () => {
  const file = await fileOf(randomBytes(WHOLE_READ_MAX_BYTES + 1000));
  const fds = async () => (await readdir('/proc/self/fd')).length;
  const before = await fds();
  for (let i = 0; i < 10; i++) {
    const body = await openFile(file);
    await new Promise((r) => body.once('readable', r));
    body.destroy(new Error('the upload failed'));
    body.on('error', () => undefined);
  }
  // Closing is asynchronous: wait for it (up to 5 s), then check.
  for (let i = 0; i < 100 && (await fds()) > before + 1; i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok((await fds()) <= before + 1, `descriptors: ${before} before, ${await fds()} after`);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { completionFor } from '../../../shared/sources/folder/afterSuccess';
import { listFiles, tempDir } from '../../helpers/folders';

test('move: files go into the folder (created once), never over an existing file, even if the folder is removed meanwhile', async () => {
  const src = await tempDir();
  const complete = completionFor('move:done', src);
  await writeFile(join(src, 'a.pdf'), 'first');
  await complete(join(src, 'a.pdf'));
  await writeFile(join(src, 'a.pdf'), 'second');
  await complete(join(src, 'a.pdf'));
  assert.deepEqual(await listFiles(src), ['done/a.pdf', 'done/a_1.pdf']);
  assert.equal(await readFile(join(src, 'done/a.pdf'), 'utf8'), 'first');
  await rm(join(src, 'done'), { recursive: true });
  await writeFile(join(src, 'b.pdf'), 'third');
  await complete(join(src, 'b.pdf'));
  assert.deepEqual(await listFiles(src), ['done/b.pdf']);
});

test('move: a file that vanished fails with ENOENT; delete: a vanished file is fine', async () => {
  const src = await tempDir();
  await assert.rejects(completionFor('move:done', src)(join(src, 'gone.pdf')), /ENOENT/);
  await completionFor('delete', src)(join(src, 'gone.pdf'));
});

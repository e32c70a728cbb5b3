import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readEnvelope } from '../../../shared/sources/adullact/envelope';
import { folderReader } from '../../../shared/sources/adullact/envelopeReader';
import * as B from '../../fixtures/adullact/builders';
import { tempDir } from '../../helpers/folders';

/** PJ in the generated PES, and bytes in each (random: gzip cannot shrink them). */
const PJ_COUNT = 24;
const PJ_BYTES = 3 * 1024 * 1024;
/** What bounded memory means here: the PES is ~100 MB, the growth must stay well below. */
const MAX_RSS_GROWTH_BYTES = 64 * 1024 * 1024;

test('a ~100 MB PES: every PJ checked, extracted and decoded with bounded memory', async () => {
  const root = await tempDir();
  const dir = join(root, 'gros PES');
  const hashes: string[] = [];
  await B.writeEnvelope(root, 'gros PES', {}, { name: 'metadata.json', content: B.metadataJson({ id_coll: '1', cod_bud: '01' }, { fichier_pes: ['PES.xml'] }) });
  await B.writeLargePes(join(dir, 'PES.xml'), PJ_COUNT, PJ_BYTES, (n) => {
    const data = randomBytes(n);
    hashes.push(createHash('sha256').update(data).digest('hex'));
    return data;
  });
  const pesSize = (await stat(join(dir, 'PES.xml'))).size;
  assert.ok(pesSize > 95e6, `PES of ${pesSize} bytes`);

  const before = process.memoryUsage().rss;
  let peak = before;
  let readMs = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  try {
    // reading the envelope = the skeleton pass + the check pass (every PJ decoded and discarded)
    const t0 = performance.now();
    const c = await readEnvelope(folderReader(dir), { name: 'gros PES', kind: 'folder', endMarker: 'fichier_termine.txt', metadataStem: 'metadata' });
    readMs = performance.now() - t0;
    const pjs = c.documents.filter((d) => d.metadata?.role === 'piece_justificative');
    assert.equal(pjs.length, PJ_COUNT);
    for (const [i, doc] of pjs.entries()) {
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of await doc.open()) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
        peak = Math.max(peak, process.memoryUsage().rss);
      }
      assert.equal(size, PJ_BYTES);
      assert.equal(hash.digest('hex'), hashes[i], `PJ ${i + 1} intact`);
    }
  } finally {
    clearInterval(sampler);
  }
  const growth = peak - before;
  console.log(`PES ${(pesSize / 1e6).toFixed(1)} MB, ${PJ_COUNT} PJ: read (skeleton + PJ check) in ${readMs.toFixed(0)} ms; peak RSS growth ${(growth / 1048576).toFixed(1)} MiB (RSS ${(before / 1048576).toFixed(0)} → ${(peak / 1048576).toFixed(0)} MiB)`);
  assert.ok(growth < MAX_RSS_GROWTH_BYTES, `RSS grew by ${growth} bytes`);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseConfig } from '../../../shared/config/load';
import type { LauncherOf } from '../../../shared/config/schema';
import { ItemRejectedError, SourceError } from '../../../shared/errors';
import { createAdullactSource, type AdullactItem } from '../../../shared/sources/adullact/adullactSource';
import { readEnvelope, type EnvelopeSpec } from '../../../shared/sources/adullact/envelope';
import { folderReader, type EnvelopeReader } from '../../../shared/sources/adullact/envelopeReader';
import { EnvelopeFormatError } from '../../../shared/sources/adullact/errors';
import { stripPayloads } from '../../../shared/sources/adullact/skeleton';
import { verifyPayloads } from '../../../shared/sources/adullact/verifyPayloads';
import { silentLogger } from '../../../shared/util/log';
import * as B from '../../fixtures/adullact/builders';
import { pesWithBrokenPj } from '../../fixtures/adullact/faults';
import { listFiles, tempDir } from '../../helpers/folders';

const spec = (name: string): EnvelopeSpec => ({ name, kind: 'folder', endMarker: 'fichier_termine.txt', metadataStem: 'metadata' });
const heliosMetadata = { name: 'metadata.json', content: B.metadataJson({ id_coll: '21490001', cod_bud: '01' }, { fichier_pes: ['PES.xml'] }) };

/** A reader over one in-memory file that hands it out in chunks of `size` bytes. */
function chunkedReader(path: string, data: Buffer, size: number): EnvelopeReader {
  const chunks = function* (start = 0, end = data.length) {
    for (let i = start; i < end; i += size) yield data.subarray(i, Math.min(i + size, end));
  };
  return {
    list: async () => [{ path, size: data.length }],
    open: async () => Readable.from(chunks()),
    openRange: async (_p, start, end) => Readable.from(chunks(start, Math.min(end, data.length))),
  };
}

async function checksOf(pes: Buffer) {
  const sk = await stripPayloads(Readable.from([pes]), ['Fichier']);
  return sk.payloads.map((p, i) => ({ start: p.start, end: p.end, gzip: true, label: `PES.xml: PJ n°${i + 1}` }));
}

for (const size of [1, 7, 100, 1 << 20]) {
  test(`verifyPayloads: one streamed pass decodes every PJ, whatever the chunk size (${size} bytes); a corrupt one is named`, async () => {
    const good = B.pesAller({ pjs: B.PJS });
    await verifyPayloads(chunkedReader('PES.xml', good, size), 'PES.xml', await checksOf(good));

    const bad = pesWithBrokenPj(B.PJS, 1, 'gzip');
    await assert.rejects(verifyPayloads(chunkedReader('PES.xml', bad, size), 'PES.xml', await checksOf(bad)), (e: unknown) => {
      assert.ok(e instanceof EnvelopeFormatError, String(e));
      assert.equal(e.code, 'PJ_CORRUPT');
      assert.match(e.message, /^PES\.xml: PJ n°2: the embedded gzip is corrupt \(invalid block type\)$/);
      return true;
    });
  });
}

test('an envelope whose second PJ has a corrupt gzip is refused whole while it is read, naming the PJ', async () => {
  const dir = await B.writeEnvelope(await tempDir(), 'PES cassé', { 'PES.xml': pesWithBrokenPj(B.PJS, 1, 'gzip') }, heliosMetadata);
  await assert.rejects(readEnvelope(folderReader(dir), spec('PES cassé')), (e: unknown) => {
    assert.ok(e instanceof EnvelopeFormatError && e.code === 'PJ_CORRUPT', String(e));
    assert.equal(e.message, 'PES cassé/PES.xml: PJ n°2 "bon de commande.pdf" (IdUnique PJ0002): the embedded gzip is corrupt (invalid block type)');
    return true;
  });
});

test('a PJ whose base64 is broken is refused the same way, naming the PJ', async () => {
  const dir = await B.writeEnvelope(await tempDir(), 'PES b64', { 'PES.xml': pesWithBrokenPj(B.PJS, 2, 'base64') }, heliosMetadata);
  await assert.rejects(readEnvelope(folderReader(dir), spec('PES b64')), (e: unknown) => {
    assert.ok(e instanceof EnvelopeFormatError && e.code === 'BASE64_INVALID', String(e));
    assert.match(e.message, /^PES b64\/PES\.xml: PJ n°3 "facture fournisseur n°1\.pdf" \(IdUnique PJ0003\): "\*" after byte \d+ is not base64$/);
    return true;
  });
});

test('the source: documents() rejects the envelope before giving any document; it goes to quarantine with the PJ named', async () => {
  const root = await tempDir();
  await B.writeEnvelope(root, 'PES cassé', { 'PES.xml': pesWithBrokenPj(B.PJS, 1, 'gzip'), 'ACK.xml': B.pesAcquit('1', '117') }, heliosMetadata);
  const launcher = parseConfig(JSON.stringify({ ezged: { dropFolder: '/unused' }, launchers: [{ id: 'adu', protocol: 'adullact', source: root, delaySeconds: 0, scenarios: [{ waitdir: 'd' }] }] }), {})
    .launchers[0] as LauncherOf<'adullact'>;
  const src = await createAdullactSource({ launcher, state: {}, logger: silentLogger, now: () => new Date() });
  const ready: AdullactItem[] = [];
  for await (const c of src.scan(10)) if (c.verdict === 'ready') ready.push(c.item);
  assert.equal(ready.length, 1);
  const err = await src.documents(ready[0]).then(() => assert.fail('documents() gave documents of a broken envelope'), (e: unknown) => e);
  assert.ok(err instanceof ItemRejectedError, String(err));
  await src.putAside(ready[0], err.message);
  assert.match(await readFile(join(root, '.adullact-quarantine', 'PES cassé.error.txt'), 'utf8'), /PJ n°2 "bon de commande\.pdf" \(IdUnique PJ0002\): the embedded gzip is corrupt/);
  assert.ok((await listFiles(root)).includes('.adullact-quarantine/PES cassé/PES.xml'), 'the whole envelope is put aside');
});

test('a read error during the check is not the envelope’s fault: it is retried, not put aside', async () => {
  const dir = await B.writeEnvelope(await tempDir(), 'PES', { 'PES.xml': B.pesAller({ pjs: B.PJS }) }, heliosMetadata);
  const inner = folderReader(dir);
  let opens = 0;
  const flaky: EnvelopeReader = {
    ...inner,
    async open(path, chunk) {
      if (path !== 'PES.xml' || ++opens === 1) return inner.open(path, chunk); // the skeleton pass reads fine
      return new Readable({ read() { this.destroy(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' })); } });
    },
  };
  await assert.rejects(readEnvelope(flaky, spec('PES')), (e: unknown) => !(e instanceof EnvelopeFormatError) && (e as NodeJS.ErrnoException).code === 'EIO');
  // a file shorter than its skeleton said (changed meanwhile) is retried too
  const good = B.pesAller({ pjs: B.PJS });
  const checks = await checksOf(good);
  await assert.rejects(verifyPayloads(chunkedReader('PES.xml', good.subarray(0, checks[1].start + 10), 64), 'PES.xml', checks), (e: unknown) => e instanceof SourceError && e.code === 'ENVELOPE_CHANGED');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig } from '../../../shared/config/load';
import type { LauncherOf } from '../../../shared/config/schema';
import { ItemRejectedError, SourceError } from '../../../shared/errors';
import { createAdullactSource, type AdullactItem } from '../../../shared/sources/adullact/adullactSource';
import type { Candidate } from '../../../shared/sources/types';
import { silentLogger } from '../../../shared/util/log';
import * as B from '../../fixtures/adullact/builders';
import { listFiles, tempDir } from '../../helpers/folders';

function launcher(source: string, over: Record<string, unknown> = {}): LauncherOf<'adullact'> {
  const text = JSON.stringify({
    ezged: { dropFolder: '/unused' },
    launchers: [{ id: 'adu', protocol: 'adullact', source, delaySeconds: 30, scenarios: [{ waitdir: 'divers' }], ...over }],
  });
  return parseConfig(text, {}).launchers[0] as LauncherOf<'adullact'>;
}

async function scan(source: string, over: Record<string, unknown> = {}, state: Record<string, unknown> = {}, now = new Date()) {
  const src = await createAdullactSource({ launcher: launcher(source, over), state, logger: silentLogger, now: () => now });
  const out: Candidate<AdullactItem>[] = [];
  for await (const c of src.scan(100)) out.push(c);
  return { src, out, ready: out.filter((c) => c.verdict === 'ready').map((c) => (c as { item: AdullactItem }).item), state };
}

test('scan: a folder with its end marker is taken; without marker it waits until unchanged for delaySeconds', async () => {
  const root = await tempDir();
  await B.actesXmlEnvelope(root, 'complet');
  await B.writeEnvelope(root, 'en cours', { 'acte.pdf': B.fakePdf('a') }, undefined, { marker: false });
  await writeFile(join(root, 'stray.pdf'), 'x');
  await B.writeEnvelope(root, '.cachee', { 'a.pdf': 'x' });
  const t0 = new Date();
  const first = await scan(root, {}, {}, t0);
  assert.deepEqual(first.ready.map((i) => i.label), ['complet']);
  const byLabel = Object.fromEntries(first.out.map((c) => [c.label, c.verdict === 'ready' ? 'ready' : `${c.verdict}: ${c.reason}`]));
  assert.match(byLabel['en cours'], /^waiting: no end marker fichier_termine\.txt; first seen now/);
  assert.match(byLabel['stray.pdf'], /^skipped: not an envelope/);
  assert.equal(byLabel['.cachee'], 'skipped: hidden');
  // 10 s later, unchanged: still waiting; 31 s later: taken (no marker needed then)
  const second = await scan(root, {}, first.state, new Date(t0.getTime() + 10_000));
  assert.deepEqual(second.ready.map((i) => i.label), ['complet']);
  const third = await scan(root, {}, second.state, new Date(t0.getTime() + 31_000));
  assert.deepEqual(third.ready.map((i) => i.label).sort(), ['complet', 'en cours']);
});

test('scan: a file added to an unmarked folder restarts its wait', async () => {
  const root = await tempDir();
  const dir = await B.writeEnvelope(root, 'lent', { 'a.pdf': 'A' }, undefined, { marker: false });
  const t0 = new Date();
  const first = await scan(root, {}, {}, t0);
  await writeFile(join(dir, 'b.pdf'), '');
  const old = new Date(t0.getTime() - 3_600_000);
  await utimes(join(dir, 'b.pdf'), old, old); // a copy that keeps old times
  const second = await scan(root, {}, first.state, new Date(t0.getTime() + 31_000));
  assert.equal(second.ready.length, 0);
  assert.match((second.out[0] as { reason: string }).reason, /changed since the last look/);
});

test('item key: envelope name + hash of its metadata; a different envelope under the same name is a new item', async () => {
  const root = await tempDir();
  await B.actesJsonEnvelope(root, 'meme-nom');
  const a = (await scan(root)).ready[0];
  assert.match(a.key, /^meme-nom\|[0-9a-f]{16}$/);
  assert.equal((await scan(root)).ready[0].key, a.key, 'stable across scans');
  await writeFile(join(root, 'meme-nom', 'metadata.json'), B.metadataJson({ acte_nature: '3', objet: 'autre' }));
  assert.notEqual((await scan(root)).ready[0].key, a.key);
});

test('zip mode: a zip is taken once unchanged; an unreadable fresh zip waits, an old one is put aside', async () => {
  const root = await tempDir();
  await writeFile(join(root, 'env.zip'), B.zipOf({ 'a.pdf': B.fakePdf('a'), 'metadata.json': B.metadataJson({ acte_nature: '1' }, { arrete: ['a.pdf'] }) }));
  await writeFile(join(root, 'partial.zip'), Buffer.from('PK\u0003\u0004 half written'));
  const now = new Date();
  const first = await scan(root, { delaySeconds: 0 }, {}, now);
  assert.deepEqual(first.ready.map((i) => i.label), ['env.zip']);
  assert.match((first.out.find((c) => c.label === 'partial.zip') as { reason: string }).reason, /not readable yet/);
  const docs = await first.src.documents(first.ready[0]);
  assert.deepEqual(docs.map((d) => d.name), ['a.pdf', 'metadata.json', 'env.index.json']);

  const later = await scan(root, { delaySeconds: 0 }, {}, new Date(now.getTime() + 120_000));
  const broken = later.ready.find((i) => i.label === 'partial.zip')!;
  await assert.rejects(later.src.documents(broken), (e: unknown) => e instanceof ItemRejectedError && /not a readable zip/.test((e as Error).message));
  await later.src.putAside(broken, 'not a readable zip');
  assert.ok((await listFiles(root)).includes('.adullact-quarantine/partial.zip.error.txt'));
});

test('malformed and billion-laughs envelopes are rejected (put aside with .error.txt), the others stay readable', async () => {
  const root = await tempDir();
  await B.writeEnvelope(root, 'bomb', { 'a.pdf': 'x' }, { name: 'metadata.xml', content: B.billionLaughs() });
  await B.writeEnvelope(root, 'casse', { 'a.pdf': 'x' }, { name: 'metadata.xml', content: Buffer.from('<flux><data name="a" value="b"></flux>') });
  await B.actesJsonEnvelope(root, 'bon');
  const { src, ready } = await scan(root, { quarantineFolder: 'quarantaine' });
  assert.deepEqual(ready.map((i) => i.label).sort(), ['bomb', 'bon', 'casse']);
  for (const item of ready) {
    if (item.label === 'bon') {
      assert.equal((await src.documents(item)).length, 4);
      continue;
    }
    const err = await src.documents(item).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof ItemRejectedError, `${item.label} rejected`);
    await src.putAside(item, err.message);
  }
  const files = await listFiles(root);
  assert.ok(files.includes('quarantaine/bomb/metadata.xml') && files.includes('quarantaine/casse/a.pdf'));
  assert.match(await readFile(join(root, 'quarantaine', 'bomb.error.txt'), 'utf8'), /declares entities/);
  assert.match(await readFile(join(root, 'quarantaine', 'casse.error.txt'), 'utf8'), /malformed XML/);
  assert.ok(files.some((f) => f.startsWith('bon/')));
  // the quarantine folder is never scanned as an envelope
  const again = await scan(root, { quarantineFolder: 'quarantaine' });
  assert.deepEqual(again.ready.map((i) => i.label), ['bon']);
});

test('acknowledge: delete removes the whole envelope; move:<folder> keeps earlier ones of the same name', async () => {
  const root = await tempDir();
  await B.actesJsonEnvelope(root, 'a');
  const del = await scan(root, { delaySeconds: 0 });
  await del.src.documents(del.ready[0]);
  await del.src.acknowledge(del.ready[0]);
  assert.deepEqual(await listFiles(root), []);

  for (let i = 0; i < 2; i++) {
    await B.actesJsonEnvelope(root, 'b');
    const mv = await scan(root, { delaySeconds: 0, afterSuccess: 'move:traites' });
    assert.deepEqual(mv.ready.map((r) => r.label), ['b'], 'the move target is not scanned');
    await mv.src.documents(mv.ready[0]);
    await mv.src.acknowledge(mv.ready[0]);
  }
  const files = await listFiles(root);
  assert.ok(files.includes('traites/b/metadata.json') && files.includes('traites/b_1/metadata.json'), files.join(', '));
});

test('acknowledge refuses to remove an envelope that changed after its documents were read', async () => {
  const root = await tempDir();
  const dir = await B.actesJsonEnvelope(root, 'c');
  const { src, ready } = await scan(root, { delaySeconds: 0 });
  await src.documents(ready[0]);
  await writeFile(join(dir, 'ajout tardif.pdf'), 'late');
  await assert.rejects(src.acknowledge(ready[0]), (e: unknown) => e instanceof SourceError && e.code === 'ENVELOPE_CHANGED');
  assert.ok((await listFiles(root)).includes('c/ajout tardif.pdf'));
});

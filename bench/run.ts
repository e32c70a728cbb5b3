// `npm run bench`: measures the product against baselines run side by side in the same
// process, on the same Azurite, and prints a table then one JSON line {"bench": {...}}.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startAzurite } from '../shared/cli/embeddedAzurite';
import { coldStart } from './coldStart';
import { folderIngest } from './folderIngest';
import { sendDelivery } from './sendDelivery';
import { median, ratio } from './stats';

const ROOT = resolve(__dirname, '..');
const QUICK = process.argv.includes('--quick');

async function main(): Promise<void> {
  const results: Record<string, number> = {};
  const rows: string[][] = [['figure', 'value', 'target', 'detail']];
  const work = await mkdtemp(join(tmpdir(), 'cold-bench-'));
  const azurite = await startAzurite();
  try {
    const files = QUICK ? 300 : 2000;
    const folder = await folderIngest({ files, fileSize: 50 * 1024, rounds: QUICK ? 2 : 3, workDir: work, connectionString: azurite.connectionString });
    results.folder_ingest_ratio = round(ratio(folder));
    results.folder_docs_per_s = round(folder.docs / (median(folder.oursMs) / 1000));
    rows.push(['folder_ingest_ratio', String(results.folder_ingest_ratio), '≤ 1.3', `${files} files of 50 KB; ours ${fmt(folder.oursMs)} ms vs baseline ${fmt(folder.baselineMs)} ms`]);
    rows.push(['folder docs_per_s', String(results.folder_docs_per_s), '', 'information']);

    const sendDocs = QUICK ? 100 : 500;
    const sendOpts = { docs: sendDocs, size: 100 * 1024, rounds: QUICK ? 2 : 3, connectionString: azurite.connectionString };
    const send = await sendDelivery({ ...sendOpts, baseline: 'staging' });
    results.send_ratio = round(ratio(send));
    results.send_docs_per_s = round(send.docs / (median(send.oursMs) / 1000));
    rows.push(['send_ratio', String(results.send_ratio), '≤ 1.2', `${sendDocs} staged documents of 100 KB → EzGED double; ours ${fmt(send.oursMs)} ms vs read from staging + raw multipart ${fmt(send.baselineMs)} ms`]);
    const sendMem = await sendDelivery({ ...sendOpts, baseline: 'memory' });
    results.send_ratio_vs_memory = round(ratio(sendMem));
    rows.push(['send_ratio_vs_memory', String(results.send_ratio_vs_memory), '', `same, against raw multipart uploads of bytes already in memory (no storage): ${fmt(sendMem.baselineMs)} ms`]);
    rows.push(['send docs_per_s', String(results.send_docs_per_s), '', 'information']);
  } finally {
    await azurite.stop();
    await rm(work, { recursive: true, force: true });
  }

  const functionFiles = (await readdir(join(ROOT, 'dist', 'functions'))).filter((f) => f.endsWith('.js') && f !== 'index.js').map((f) => join('dist', 'functions', f));
  const bundled = coldStart(ROOT, ['dist/main.js'], QUICK ? 3 : 7);
  const unbundled = coldStart(ROOT, functionFiles, QUICK ? 3 : 7);
  results.cold_start_ms = round(bundled.ms);
  results.cold_start_unbundled_ms = round(unbundled.ms);
  rows.push(['cold_start_ms', String(results.cold_start_ms), '≤ 300', `dist/main.js, ${bundled.registered} functions registered`]);
  rows.push(['cold_start_unbundled_ms', String(results.cold_start_unbundled_ms), '', `${functionFiles.length} files of dist/functions/`]);

  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  console.log(JSON.stringify({ bench: results }));
}

const round = (n: number) => Math.round(n * 100) / 100;
const fmt = (xs: number[]) => xs.map((x) => Math.round(x)).join('/');

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

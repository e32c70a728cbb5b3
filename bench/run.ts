// `npm run bench`: measures the product against baselines run side by side in the same
// process, on the same Azurite, and prints a table then one JSON line {"bench": {...}}.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startAzurite } from '../shared/cli/embeddedAzurite';
import { dovecotMissingReason, startDovecot } from '../test/helpers/dovecot';
import { coldStart } from './coldStart';
import { folderIngest } from './folderIngest';
import { imapIngest, OVERLAPPED_UPLOADS } from './imapIngest';
import { peakRss } from './peakRss';
import { sendDelivery } from './sendDelivery';
import { median, ratio } from './stats';

const ROOT = resolve(__dirname, '..');
const QUICK = process.argv.includes('--quick');
/** `--only=imap,rss` runs only those scenarios (folder, send, imap, rss, cold). */
const ONLY = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const wanted = (name: string) => !ONLY || ONLY.includes(name);
/** An upload's time in EzGED's own PHP for the informational send figure (an order of magnitude, not a measure). */
const EZGED_UPLOAD_MS = 20;

async function main(): Promise<void> {
  const results: Record<string, number> = {};
  const rows: string[][] = [['figure', 'value', 'target', 'detail']];
  const work = await mkdtemp(join(tmpdir(), 'cold-bench-'));
  const azurite = await startAzurite();
  try {
    if (wanted('folder')) await folderFigures();
    if (wanted('send')) await sendFigures();
    if (wanted('imap') || wanted('rss')) await mailFigures();
  } finally {
    await azurite.stop();
    await rm(work, { recursive: true, force: true });
  }

  async function folderFigures() {
    const files = QUICK ? 300 : 2000;
    const folder = await folderIngest({ files, fileSize: 50 * 1024, rounds: QUICK ? 2 : 3, workDir: work, connectionString: azurite.connectionString });
    results.folder_ingest_ratio = round(ratio(folder));
    results.folder_docs_per_s = round(folder.docs / (median(folder.oursMs) / 1000));
    rows.push(['folder_ingest_ratio', String(results.folder_ingest_ratio), '≤ 1.3', `${files} files of 50 KB; ours ${fmt(folder.oursMs)} ms vs baseline ${fmt(folder.baselineMs)} ms`]);
    rows.push(['folder docs_per_s', String(results.folder_docs_per_s), '', 'information']);
  }

  async function sendFigures() {
    const sendDocs = QUICK ? 100 : 500;
    const sendOpts = { docs: sendDocs, size: 100 * 1024, rounds: QUICK ? 2 : 3, connectionString: azurite.connectionString };
    const send = await sendDelivery({ ...sendOpts, baseline: 'staging' });
    results.send_ratio = round(ratio(send));
    results.send_docs_per_s = round(send.docs / (median(send.oursMs) / 1000));
    rows.push(['send_ratio', String(results.send_ratio), '≤ 1.2', `${sendDocs} staged documents of 100 KB → EzGED double; ours ${fmt(send.oursMs)} ms vs read from staging + raw multipart ${fmt(send.baselineMs)} ms`]);
    const sendMem = await sendDelivery({ ...sendOpts, baseline: 'memory' });
    results.send_ratio_vs_memory = round(ratio(sendMem));
    rows.push(['send_ratio_vs_memory', String(results.send_ratio_vs_memory), '', `same, against raw multipart uploads of bytes already in memory (no storage): ${fmt(sendMem.baselineMs)} ms`]);
    const sendSlow = await sendDelivery({ ...sendOpts, baseline: 'staging', uploadDelayMs: EZGED_UPLOAD_MS });
    results.send_ratio_ezged_20ms = round(ratio(sendSlow));
    rows.push(['send_ratio_ezged_20ms', String(results.send_ratio_ezged_20ms), '', `same as send_ratio, the double answering each upload ${EZGED_UPLOAD_MS} ms later (both sides): ours ${fmt(sendSlow.oursMs)} ms vs ${fmt(sendSlow.baselineMs)} ms`]);
    rows.push(['send docs_per_s', String(results.send_docs_per_s), '', 'information']);
  }

  async function mailFigures() {
    const missing = dovecotMissingReason();
    if (missing) {
      rows.push(['imap_ingest_ratio', 'n/a', '≤ 1.5', `not measured: ${missing}`]);
      rows.push(['peak_rss_mb_200mb_attachment', 'n/a', '≤ 200', `not measured: ${missing}`]);
      return;
    }
    const dovecot = await startDovecot();
    try {
      if (wanted('imap')) {
        const messages = QUICK ? 100 : 500;
        const imap = await imapIngest({ messages, attachmentSize: 100 * 1024, rounds: QUICK ? 2 : 3, dovecot, connectionString: azurite.connectionString });
        results.imap_ingest_ratio = round(ratio(imap));
        results.imap_docs_per_s = round(imap.docs / (median(imap.oursMs) / 1000));
        results.imap_ingest_ratio_vs_overlapped = round(median(imap.oursMs) / median(imap.overlappedMs));
        rows.push(['imap_ingest_ratio', String(results.imap_ingest_ratio), '≤ 1.5', `${messages} mails with a 100 KB PDF → staged; ours ${fmt(imap.oursMs)} ms vs one FETCH 1:* BODY.PEEK[] + uploads one at a time ${fmt(imap.baselineMs)} ms`]);
        rows.push(['imap_ingest_ratio_vs_overlapped', String(results.imap_ingest_ratio_vs_overlapped), '', `same, against the FETCH with ${OVERLAPPED_UPLOADS} uploads in flight: ${fmt(imap.overlappedMs)} ms`]);
        rows.push(['imap docs_per_s', String(results.imap_docs_per_s), '', 'information']);
      }
      if (wanted('rss')) {
        const rss = await peakRss({ attachmentBytes: 200 * 1024 * 1024, dovecot, connectionString: azurite.connectionString });
        results.peak_rss_mb_200mb_attachment = round(rss.runMb);
        results.peak_rss_mb_idle_run = round(rss.idleRunMb);
        results.peak_rss_mb_node = round(rss.nodeMb);
        rows.push(['peak_rss_mb_200mb_attachment', String(results.peak_rss_mb_200mb_attachment), '≤ 200', `cold-launcher run --once: 1 mail, 200 MB PDF, IMAP → staging → EzGED double (${Math.round(rss.runMs / 1000)} s)`]);
        results.peak_rss_mb_200mb_attachment_default_flags = round(rss.defaultFlagsMb);
        rows.push(['… with Node defaults', String(results.peak_rss_mb_200mb_attachment_default_flags), '', 'the same run without the product\'s Node flags (shared/runtime/nodeFlags.ts)']);
        rows.push(['peak_rss_mb_idle_run', String(results.peak_rss_mb_idle_run), '', 'the same command with nothing to do (code loaded, connections made)']);
        rows.push(['peak_rss_mb_node', String(results.peak_rss_mb_node), '', 'node -e "" (any Node process)']);
      }
    } finally {
      await dovecot.stop();
    }
  }

  if (wanted('cold')) {
    const functionFiles = (await readdir(join(ROOT, 'dist', 'functions'))).filter((f) => f.endsWith('.js') && f !== 'index.js').map((f) => join('dist', 'functions', f));
    const bundled = coldStart(ROOT, ['dist/main.js'], QUICK ? 3 : 7);
    const unbundled = coldStart(ROOT, functionFiles, QUICK ? 3 : 7);
    results.cold_start_ms = round(bundled.ms);
    results.cold_start_unbundled_ms = round(unbundled.ms);
    rows.push(['cold_start_ms', String(results.cold_start_ms), '≤ 300', `dist/main.js, ${bundled.registered} functions registered`]);
    rows.push(['cold_start_unbundled_ms', String(results.cold_start_unbundled_ms), '', `${functionFiles.length} files of dist/functions/`]);
  }

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

import { spawn } from 'node:child_process';
import { NODE_FLAGS } from '../shared/runtime/nodeFlags';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BlobStore } from '../shared/staging/blobStore';
import { deliverToMaildir, imapLauncherOn, testImapClient, type RunningDovecot } from '../test/helpers/dovecot';
import { startEzgedDouble } from '../test/fakes/ezgedDouble';
import { writeLargeMail } from '../test/helpers/largeMail';
import { BENCH_EZGED_LOGIN as LOGIN, BENCH_EZGED_PASSWORD as PASSWORD } from './ezgedAccount';

const ROOT = resolve(__dirname, '..');
const BIN = join(ROOT, 'bin', 'cold-launcher.js');
const PROBE = join(__dirname, 'peakRssProbe.cjs');

export interface PeakRssResult {
  /** Peak RSS (MB) of `cold-launcher run --once` ingesting and delivering the large mail. */
  runMb: number;
  /** The same run with Node's default flags instead of the product's (nodeFlags.ts). */
  defaultFlagsMb: number;
  /** The same command with nothing to do (the mail is already filed): code and connections. */
  idleRunMb: number;
  /** `node -e ""`: the floor of any Node process. */
  nodeMb: number;
  attachmentMb: number;
  runMs: number;
}

/**
 * Peak RSS of the real command (`cold-launcher run --once`, built) that takes one mail with
 * an attachment of `attachmentBytes` from IMAP, stages it in Azurite and delivers it to the
 * EzGED double over pupload (which only hashes what it receives). The mail is written into
 * the Maildir directly (an APPEND of 270 MB of base64 would dominate the time).
 */
export async function peakRss(o: { attachmentBytes: number; dovecot: RunningDovecot; connectionString: string }): Promise<PeakRssResult> {
  const work = await mkdtemp(join(tmpdir(), 'cold-bench-rss-'));
  const double = await startEzgedDouble({ accounts: [{ login: LOGIN, password: PASSWORD }], waitdirs: ['w'], storeFiles: false, sessionIdleMs: 600_000 });
  try {
    const d = o.dovecot;
    // Storage as a new install has it: the command delivers whatever is in staging.
    const store = BlobStore.fromConnectionString(o.connectionString);
    for await (const c of store.service.listContainers()) await store.service.deleteContainer(c.name);
    let sha256 = '';
    await deliverToMaildir(d, async (path) => {
      sha256 = await writeLargeMail(path, o.attachmentBytes, { fileName: 'large.pdf' });
    });
    await writeFile(
      join(work, 'launchers.json'),
      JSON.stringify({
        ezged: { url: double.url, login: LOGIN, password: '%BENCH_EZGED_PASSWORD%', allowInsecureHttp: true },
        launchers: [
          {
            id: 'large',
            ...imapLauncherOn(d, '%BENCH_IMAP_PASSWORD%'),
            timeoutSeconds: 300,
            scenarios: [{ waitdir: 'w' }],
          },
        ],
      }),
    );
    const env = { AzureWebJobsStorage: o.connectionString, BENCH_EZGED_PASSWORD: PASSWORD, BENCH_IMAP_PASSWORD: d.password };
    const t0 = Date.now();
    const run = await measured(work, [BIN, 'run', '--once'], env);
    const runMs = Date.now() - t0;
    if (run.code !== 0) throw new Error(`the large run failed (${run.code}): ${run.stderr.slice(-2000)}`);
    const files = [...double.files.values()];
    if (files.length !== 1 || files[0]!.sha256 !== sha256 || files[0]!.size !== o.attachmentBytes) {
      throw new Error(`the double should hold the attachment alone, intact: it holds ${files.length} file(s): ${files.slice(0, 3).map((f) => `${f.name} (${f.size} bytes)`).join(', ')}`);
    }
    const idle = await measured(work, [BIN, 'run', '--once'], env);
    if (idle.code !== 0) throw new Error(`the idle run failed (${idle.code}): ${idle.stderr.slice(-2000)}`);
    const node = await measured(work, ['-e', ''], {});
    // The same run with Node's default flags, for comparison: the mail unread again, storage empty.
    const client = await testImapClient(d);
    try {
      await client.mailboxOpen('INBOX');
      await client.messageFlagsRemove('1:*', ['\\Seen']);
    } finally {
      await client.logout();
    }
    for await (const c of store.service.listContainers()) await store.service.deleteContainer(c.name);
    const defaults = await measured(work, [BIN, 'run', '--once'], env, []);
    if (defaults.code !== 0 || double.file('w', files[0]!.name)?.writes !== 2) throw new Error(`the run with default flags failed (${defaults.code}): ${defaults.stderr.slice(-2000)}`);
    const defaultFlagsMb = defaults.mb;
    return { runMb: run.mb, defaultFlagsMb, idleRunMb: idle.mb, nodeMb: node.mb, attachmentMb: o.attachmentBytes / 1048576, runMs };
  } finally {
    await double.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** Runs `node -r probe ...args` and returns its exit code and peak RSS in MB. */
async function measured(cwd: string, args: string[], extraEnv: Record<string, string>, nodeFlags: readonly string[] = NODE_FLAGS): Promise<{ code: number | null; mb: number; stderr: string }> {
  const out = join(cwd, `peak-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv, PEAK_RSS_OUT: out };
  delete env.NODE_OPTIONS; // the parent's tsx loader is not part of what is measured
  const child = spawn(process.execPath, [...nodeFlags, '-r', PROBE, ...args], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-20_000)));
  const code = await new Promise<number | null>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolvePromise(c));
  });
  const probe = JSON.parse(await readFile(out, 'utf8')) as { maxRssKb: number; vmHwmKb?: number };
  await rm(out, { force: true });
  // VmHWM is this process's own high-water mark. getrusage's maxRSS is the fallback only:
  // on Linux it survives execve, so it may show the RSS of the parent that forked us.
  return { code, mb: (probe.vmHwmKb ?? probe.maxRssKb) / 1024, stderr };
}

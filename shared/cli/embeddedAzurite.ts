import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { dirname, join } from 'node:path';
import { ColdError } from '../errors';

/** Azurite's well-known development account (public, documented by Microsoft). */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const START_TIMEOUT_MS = 20_000;
const WATCH_PARENT = [
  "process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM')).resume();",
  "require(process.argv[1]);",
].join('\n');

export interface RunningAzurite {
  connectionString: string;
  port: number;
  stop(): Promise<void>;
}

export interface AzuriteOptions {
  /** Folder where blobs persist across restarts; in memory when absent. */
  location?: string;
  port?: number;
}

/**
 * Starts Azurite's blob service as a child process (the real server, not npx) on a free
 * loopback port, with telemetry off. Azurite is a development dependency: a production
 * install must set AzureWebJobsStorage instead.
 */
export async function startAzurite(opts: AzuriteOptions = {}): Promise<RunningAzurite> {
  let entry: string;
  try {
    entry = join(dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'blob', 'main.js');
  } catch {
    throw new ColdError('AZURITE_MISSING', 'AzureWebJobsStorage is not set and Azurite is not installed: run `npm install` (development dependencies) or set AzureWebJobsStorage');
  }
  const port = opts.port ?? (await freePort());
  const args = [entry, '--blobHost', '127.0.0.1', '--blobPort', String(port), '--silent', '--skipApiVersionCheck', '--disableTelemetry', '--loose'];
  if (opts.location) {
    await mkdir(opts.location, { recursive: true });
    args.push('--location', opts.location);
  } else args.push('--inMemoryPersistence');
  // The child watches its stdin: when this process dies (even by SIGKILL) the pipe closes
  // and Azurite shuts down instead of living on as an orphan holding the data folder.
  const child = spawn(process.execPath, ['-e', WATCH_PARENT, ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  await waitForPort(port, child, () => stderr);
  return {
    port,
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};` +
      `BlobEndpoint=http://127.0.0.1:${port}/${DEV_ACCOUNT};`,
    stop: () => stopChild(child),
  };
}

/**
 * A port nothing listens on. Chosen at random below Linux's ephemeral range (32768+), where
 * the OS hands out ports for outgoing connections and `listen(0)`, and never the same twice
 * in one process: two servers started one after the other (or by two processes at once)
 * do not end up on the same port between the check and the bind.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < FREE_PORT_TRIES; i++) {
    const port = FREE_PORT_MIN + Math.floor(Math.random() * (FREE_PORT_MAX - FREE_PORT_MIN));
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new ColdError('NO_FREE_PORT', `no free port found between ${FREE_PORT_MIN} and ${FREE_PORT_MAX}`);
}

const FREE_PORT_MIN = 10_000;
const FREE_PORT_MAX = 32_000;
const FREE_PORT_TRIES = 100;
const handedOut = new Set<number>();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new ColdError('AZURITE_FAILED', `Azurite exited with code ${child.exitCode}: ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new ColdError('AZURITE_FAILED', `Azurite did not listen on port ${port} within ${START_TIMEOUT_MS / 1000} s: ${stderr()}`);
}

/** Stops gracefully (Azurite saves its metadata on SIGTERM), then forcefully. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningDovecot } from './dovecot';

const DOVECOT_BIN = process.env.DOVECOT_BIN ?? '/usr/sbin/dovecot';
const STOP_TIMEOUT_MS = 10_000;
const START_TIMEOUT_MS = 10_000;

export interface DovecotRestarter {
  /**
   * Stops the running Dovecot as `systemctl restart` would (SIGTERM to the master and to every
   * process under it, so open IMAP/POP3 sessions are cut off), waits `downMs`, starts it again.
   */
  restart(downMs?: number): Promise<void>;
  restarts: number;
  /** Stops the Dovecot this restarter started (call before the RunningDovecot's own stop()). */
  stop(): Promise<void>;
}

/**
 * Restarts a test Dovecot (test/helpers/dovecot.ts) in place: same config, ports, users and
 * Maildir. The master's pid comes from `<base_dir>/master.pid`, so the first restart works on
 * the Dovecot that startDovecot spawned, and later ones on the one started here.
 */
export function dovecotRestarter(d: RunningDovecot): DovecotRestarter {
  let child: ChildProcess | undefined;
  const r: DovecotRestarter = {
    restarts: 0,
    async restart(downMs = 0) {
      await stopMaster(d);
      if (downMs > 0) await sleep(downMs);
      child = spawn(DOVECOT_BIN, ['-F', '-c', join(d.dir, 'dovecot.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
      await waitForPort(d.imapPort, child, () => stderr);
      r.restarts++;
    },
    async stop() {
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child?.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  return r;
}

async function stopMaster(d: RunningDovecot): Promise<void> {
  const pid = Number((await readFile(join(d.dir, 'run', 'master.pid'), 'utf8')).trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no Dovecot master pid in ${d.dir}/run/master.pid`);
  // Dovecot's own SIGTERM leaves logged-in imap processes serving their clients: a service
  // restart (systemd kills the whole control group) does not, so every process goes.
  const all = [pid, ...(await descendants(pid))];
  for (const p of all) signal(p, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (all.some(alive)) {
    if (Date.now() > deadline) {
      for (const p of all) signal(p, 'SIGKILL');
      break;
    }
    await sleep(20);
  }
  // The listeners close with the master; wait until the port refuses connections.
  while (await listening(d.imapPort)) {
    if (Date.now() > deadline) throw new Error(`Dovecot still listens on ${d.imapPort} after SIGTERM`);
    await sleep(20);
  }
}

/** Pids of every process below `root` (Linux /proc). */
async function descendants(root: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid) parents.set(Number(entry), ppid);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parents) {
      if (parent === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(root);
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Dovecot exited with code ${child.exitCode} on restart: ${stderr()}`);
    if (await listening(port)) return;
    await sleep(50);
  }
  throw new Error(`Dovecot did not listen on ${port} again within ${START_TIMEOUT_MS / 1000} s: ${stderr()}`);
}

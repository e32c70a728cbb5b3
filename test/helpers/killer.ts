import { spawn } from 'node:child_process';
import { BIN } from './cli';

export interface KillLoopResult {
  runs: number;
  kills: number;
  lastCode: number | null;
  lastStderr: string;
}

/**
 * Runs `cold-launcher run --once` again and again, killing each run with SIGKILL after a
 * random delay, until a run is left to finish on its own and exits 0 (or `maxRuns`).
 * The delays come from a seeded generator so that a failure can be replayed.
 */
export async function killUntilDone(opts: {
  cwd: string;
  env: Record<string, string | undefined>;
  args?: string[];
  seed: number;
  kills: number;
  minDelayMs: number;
  maxDelayMs: number;
  maxRuns?: number;
}): Promise<KillLoopResult> {
  const random = mulberry32(opts.seed);
  const result: KillLoopResult = { runs: 0, kills: 0, lastCode: null, lastStderr: '' };
  const maxRuns = opts.maxRuns ?? opts.kills + 10;
  while (result.runs < maxRuns) {
    const killAfter = result.kills < opts.kills ? opts.minDelayMs + random() * (opts.maxDelayMs - opts.minDelayMs) : undefined;
    const { code, killed, stderr } = await runOnce(opts.cwd, opts.env, opts.args ?? ['run', '--once'], killAfter);
    result.runs++;
    if (killed) {
      result.kills++;
      continue;
    }
    result.lastCode = code;
    result.lastStderr = stderr;
    if (code === 0) break;
  }
  return result;
}

function runOnce(cwd: string, extraEnv: Record<string, string | undefined>, args: string[], killAfterMs?: number): Promise<{ code: number | null; killed: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, ...extraEnv };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
    let killed = false;
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => {
      killed = child.exitCode === null;
      child.kill('SIGKILL');
    }, killAfterMs);
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, killed, stderr });
    });
  });
}

/** A small seeded PRNG (public domain), for replayable kill times. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

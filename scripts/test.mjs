// Runs the test files with Node's own test runner (TypeScript through tsx).
// `node scripts/test.mjs [unit|integration|e2e ...]` limits the run to those folders.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ALL = ['unit', 'integration', 'e2e'];
// 'faults' (npm run test:faults) runs only when asked: it kills processes for minutes.
const groups = process.argv.slice(2).length ? process.argv.slice(2) : ALL;

function files(dir) {
  let out = [];
  let entries = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(files(p));
    else if (e.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const testFiles = groups.flatMap((g) => files(join('test', g))).sort();
if (testFiles.length === 0) {
  console.error(`no test files under test/{${groups.join(',')}}`);
  process.exit(1);
}
const res = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...testFiles],
  { stdio: 'inherit' },
);
process.exit(res.status ?? 1);

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { median } from './stats';

/** The worker provides @azure/functions-core; here a stub records registrations. */
const PROBE = `
const Module = require('module');
const orig = Module._load;
let registered = 0;
Module._load = function (request, ...rest) {
  if (request === '@azure/functions-core') return { registerFunction: () => { registered++; return { dispose() {} }; }, registerHook: () => ({ dispose() {} }), setProgrammingModel() {}, getProgrammingModel() {} };
  return orig.call(this, request, ...rest);
};
const t0 = process.hrtime.bigint();
require(process.argv[1]);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
process.stdout.write('\\n' + JSON.stringify({ ms, registered }));
`;

/** Median load time (registration included) of an entry point in fresh node processes. */
export function coldStart(root: string, entries: string[], runs: number): { ms: number; registered: number } {
  const times: number[] = [];
  let registered = 0;
  for (let i = 0; i < runs; i++) {
    let total = 0;
    for (const entry of entries) {
      const r = spawnSync(process.execPath, ['-e', PROBE, join(root, entry)], { cwd: root, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`loading ${entry} failed: ${r.stderr}`);
      // The last line: @azure/functions itself prints a line when a function asks for deferred binding.
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; registered: number };
      total += out.ms;
      registered = out.registered;
    }
    times.push(total);
  }
  return { ms: median(times), registered };
}

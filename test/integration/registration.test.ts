import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coldStart } from '../../bench/coldStart';
import { SETTINGS } from '../../shared/runtime/settingNames';
import { CONTAINERS } from '../../shared/staging/containers';
import {
  FUNCTION_APP_BICEP,
  MAIN_BICEP,
  REPO,
  bicepSetting,
  declaredAppSettings,
  exampleSettings,
  isNcrontab,
  literalString,
  loadBicep,
} from '../unit/infra/bicepModel';

// Loads the built app (dist/main.js, the file Azure Functions loads) the way the worker
// does, with `@azure/functions-core` replaced by a recorder, and checks what it registers
// against infra/ and local.settings.json.example. The bundle is copied out of the
// repository first, so that it also proves the package needs no node_modules.

interface Binding {
  type: string;
  direction: string;
  schedule?: string;
  runOnStartup?: boolean;
  path?: string;
  source?: string;
  connection?: string;
  [key: string]: unknown;
}
interface Registration {
  metadata: { name: string; bindings: Record<string, Binding>; retryOptions?: unknown };
  callback: string;
}

const BUNDLE = join(REPO, 'dist', 'main.js');
const SETTING_REF = /%([A-Za-z_][A-Za-z0-9_.-]*)%/g;

/** The recorder the worker's `@azure/functions-core` is replaced with, then the bundle. */
const LOADER = `
const Module = require('node:module');
const calls = [];
const core = {
  registerFunction(metadata, callback) { calls.push({ metadata, callback: typeof callback }); return { dispose() {} }; },
  setProgrammingModel() {},
  registerHook() { return { dispose() {} }; },
  log() {},
};
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (request === '@azure/functions-core') return core;
  return load.apply(this, arguments);
};
require(process.argv[2]);
process.stdout.write('\\n@@REGISTRATIONS@@' + JSON.stringify(calls) + '\\n');
`;

let registrations: Registration[] = [];

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const s = statSync(p);
    if (s.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.endsWith('.ts')) newest = Math.max(newest, s.mtimeMs);
  }
  return newest;
}

/** dist/main.js as `npm run build` makes it; bundled again here only when older than the sources. */
function ensureBundle(): void {
  let built = 0;
  try {
    built = statSync(BUNDLE).mtimeMs;
  } catch {
    // not built yet
  }
  const sources = Math.max(newestSource(join(REPO, 'functions')), newestSource(join(REPO, 'shared')), statSync(join(REPO, 'scripts', 'bundle.mjs')).mtimeMs);
  if (built >= sources) return;
  const res = spawnSync(process.execPath, ['scripts/bundle.mjs'], { cwd: REPO, encoding: 'utf8' });
  assert.equal(res.status, 0, `bundling dist/main.js failed:\n${res.stderr}`);
}

before(() => {
  ensureBundle();
  const dir = mkdtempSync(join(tmpdir(), 'cold-registration-'));
  try {
    copyFileSync(BUNDLE, join(dir, 'main.js'));
    writeFileSync(join(dir, 'loader.cjs'), LOADER);
    // No app settings: registering must not depend on them.
    const res = spawnSync(process.execPath, [join(dir, 'loader.cjs'), join(dir, 'main.js')], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
      timeout: 60_000,
    });
    assert.equal(res.status, 0, `loading the bundle outside the repository failed:\n${res.stderr}`);
    const line = res.stdout.split('\n').find((l) => l.startsWith('@@REGISTRATIONS@@'));
    assert.ok(line, `the bundle did not finish loading:\n${res.stdout}\n${res.stderr}`);
    registrations = JSON.parse(line.slice('@@REGISTRATIONS@@'.length)) as Registration[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function trigger(r: Registration): Binding {
  const t = Object.values(r.metadata.bindings).find((b) => b.direction === 'in' && b.type.endsWith('Trigger'));
  assert.ok(t, `${r.metadata.name} has no trigger`);
  return t;
}

/** Launcher types infra/ knows: the <TYPE>_SCHEDULE app settings of functionApp.bicep. */
function knownLauncherTypes(): string[] {
  return [...declaredAppSettings().keys()]
    .filter((k) => /^[A-Z0-9]+_SCHEDULE$/.test(k) && k !== 'RETRY_SCHEDULE')
    .map((k) => k.slice(0, -'_SCHEDULE'.length).toLowerCase());
}

test('every function registers once, with a handler', () => {
  assert.ok(registrations.length >= 2, `expected at least folderLauncher and coldSender, got ${registrations.map((r) => r.metadata.name).join(', ')}`);
  const names = registrations.map((r) => r.metadata.name);
  assert.deepEqual([...new Set(names)].sort(), [...names].sort(), 'a function name is registered twice');
  for (const r of registrations) assert.equal(r.callback, 'function', `${r.metadata.name} has no handler`);
});

test('one timer per launcher type, each on its own %<TYPE>_SCHEDULE% app setting known to infra/', (t) => {
  const timers = registrations.filter((r) => trigger(r).type === 'timerTrigger');
  assert.ok(timers.some((r) => r.metadata.name === 'folderLauncher'), 'folderLauncher is not registered');
  assert.ok(timers.some((r) => r.metadata.name === 'coldRetry'), 'coldRetry (delivers what the sender could not) is not registered');
  const known = knownLauncherTypes();
  const seen = new Set<string>();
  for (const r of timers) {
    const name = r.metadata.name;
    const b = trigger(r);
    if (name === 'coldRetry') {
      assert.equal(b.schedule, '%RETRY_SCHEDULE%');
      assert.equal(b.runOnStartup, false);
      continue;
    }
    const type = /^([a-z0-9]+)Launcher$/.exec(name)?.[1];
    assert.ok(type, `timer ${name} is not named <type>Launcher`);
    assert.ok(!seen.has(type), `two timers for launcher type ${type}`);
    seen.add(type);
    assert.equal(b.schedule, `%${type.toUpperCase()}_SCHEDULE%`, `${name} must read its schedule from app setting ${type.toUpperCase()}_SCHEDULE`);
    assert.equal(b.runOnStartup, false, `${name}: runOnStartup would poll at every cold start and scale-out`);
    assert.ok(known.includes(type), `${name} is registered but infra/ declares no ${type.toUpperCase()}_SCHEDULE: add it to functionApp.bicep and main.bicep`);
  }
  const pending = known.filter((k) => !seen.has(k));
  if (pending.length) t.diagnostic(`launcher types declared in infra/ but not in this build yet: ${pending.join(', ')}`);
});

test('the sender is a blob trigger on the staging container through Event Grid', () => {
  const blobs = registrations.filter((r) => trigger(r).type === 'blobTrigger');
  assert.equal(blobs.length, 1, `expected one blob trigger, got ${blobs.map((r) => r.metadata.name).join(', ')}`);
  const sender = blobs[0]!;
  const b = trigger(sender);
  assert.equal(b.path, `${CONTAINERS.staging}/{name}`);
  assert.equal(b.source, 'EventGrid', 'Flex Consumption only runs the Event Grid blob trigger');
  assert.equal(b.connection, SETTINGS.storage);
  assert.deepEqual(b.properties, { supportsDeferredBinding: 'true' }, 'the host passes a reference to the blob, not its content');
  // The worker turns that reference into the trigger's value through a registry singleton:
  // the bundle must hold one copy of it, shared by the worker and coldSender's factory.
  const registries = readFileSync(BUNDLE, 'utf8').match(/class ResourceFactoryResolver\d*\s*\{/g) ?? [];
  assert.equal(registries.length, 1, 'one ResourceFactoryResolver in dist/main.js');
  assert.equal(sender.metadata.retryOptions, undefined, 'retry policies are not supported on blob triggers: host.json poisonBlobThreshold governs');
  // The Event Grid subscription's endpoint names the function: the script and infra must agree.
  const script = readFileSync(join(REPO, 'infra', 'scripts', 'create-eventgrid-subscription.sh'), 'utf8');
  assert.match(script, new RegExp(`COLD_SENDER_FUNCTION:-${sender.metadata.name}\\}`));
  assert.match(script, new RegExp(`STAGING_CONTAINER:-${CONTAINERS.staging}\\}`));
  const output = loadBicep(MAIN_BICEP).outputs.get('COLD_SENDER_FUNCTION');
  assert.equal(output && literalString(output.namedChildren[2]!), sender.metadata.name);
});

test('every %SETTING% the app reads has a default in Bicep and in local.settings.json.example', () => {
  const example = exampleSettings();
  const problems: string[] = [];
  const referenced = new Set<string>();
  const walk = (v: unknown) => {
    if (typeof v === 'string') for (const m of v.matchAll(SETTING_REF)) referenced.add(m[1]!);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  registrations.forEach((r) => walk(r.metadata.bindings));
  assert.ok(referenced.size > 0, 'no %SETTING% found: the schedules should be app settings');
  for (const name of referenced) {
    const b = bicepSetting(name);
    if (b.kind === 'unset') problems.push(`Bicep: ${b.why}`);
    else if (name.endsWith('_SCHEDULE') && !(b.kind === 'literal' && isNcrontab(b.value))) problems.push(`Bicep: ${name} default is not a six-field NCRONTAB`);
    if (!example[name]) problems.push(`local.settings.json.example has no ${name}`);
    else if (name.endsWith('_SCHEDULE') && !isNcrontab(example[name])) problems.push(`local.settings.json.example: ${name} is not a six-field NCRONTAB`);
  }
  assert.deepEqual(problems, []);
});

test('every storage connection a binding names is declared in Bicep (identity-based) and in the example', () => {
  const declared = declaredAppSettings(loadBicep(FUNCTION_APP_BICEP));
  const example = exampleSettings();
  const identity = (c: string) => [`${c}__blobServiceUri`, `${c}__accountName`, `${c}__serviceUri`];
  for (const r of registrations) {
    for (const b of Object.values(r.metadata.bindings)) {
      if (typeof b.connection !== 'string') continue;
      const c = b.connection;
      assert.ok(declared.has(c) || identity(c).some((k) => declared.has(k)), `${r.metadata.name}: connection ${c} is not declared in functionApp.bicep`);
      assert.ok(example[c] || identity(c).some((k) => example[k]), `${r.metadata.name}: connection ${c} is not in local.settings.json.example`);
    }
  }
});

test("the bench's cold-start probe reads the bundle (whatever the library prints while registering)", () => {
  const { ms, registered } = coldStart(REPO, ['dist/main.js'], 1);
  assert.equal(registered, 7);
  assert.ok(ms > 0);
});

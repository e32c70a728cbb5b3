import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import yauzl from 'yauzl';
import { REPO } from './bicepModel';

// What `azd up` and `npm run package` ship: host.json, package.json and the dist/main.js
// bundle, never the rest of the working tree (node_modules with dev dependencies, test/,
// .cold-launcher/ local data with the O365 token cache, inbox/...).

const SCRIPT = join(REPO, 'infra', 'scripts', 'package-app.sh');
const PACKAGE_FILES = ['dist/main.js', 'dist/main.js.map', 'host.json', 'package.json'];

interface AzureYaml {
  services: Record<string, { project?: string; host?: string; dist?: string; remoteBuild?: boolean; hooks?: Record<string, { posix?: { run?: string; shell?: string } }> }>;
}

test('azure.yaml deploys only the package folder that `npm run package` fills, and git ignores it', () => {
  const yaml = parse(readFileSync(join(REPO, 'azure.yaml'), 'utf8')) as AzureYaml;
  const api = yaml.services.api;
  assert.ok(api, 'azure.yaml has no api service');
  assert.equal(api.host, 'function');
  assert.equal(api.remoteBuild, false, 'the bundle needs no remote build');
  assert.equal(api.dist, '.deploy', 'without dist, azd zips the whole project, node_modules included');
  // azd's package step runs `npm run build`, not `npm run package`: a hook fills the folder.
  assert.equal(api.hooks?.prepackage?.posix?.run, 'npm run package');

  const scripts = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  assert.match(scripts.package ?? '', /^sh infra\/scripts\/package-app\.sh --dir (\S+)$/);
  assert.equal(/--dir (\S+)$/.exec(scripts.package!)![1], api.dist, 'npm run package writes the folder azd deploys');

  const ignored = readFileSync(join(REPO, '.gitignore'), 'utf8').split(/\r?\n/).map((l) => l.trim());
  assert.ok(ignored.some((l) => ['.deploy', '.deploy/', '/.deploy', '/.deploy/'].includes(l)), '.gitignore does not ignore .deploy/');
});

test('the package is runnable: package.json points at the bundle the package holds', () => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { main: string };
  assert.ok(PACKAGE_FILES.includes(pkg.main), `package.json main ${pkg.main} is not shipped`);
  assert.ok(existsSync(join(REPO, 'host.json')));
});

/** A throwaway copy of the repository layout, with junk that must stay out of the package. */
function fakeRepo(): { root: string; npmLog: string; run: (args: string[], env?: Record<string, string>) => ReturnType<typeof spawnSync> } {
  const root = mkdtempSync(join(tmpdir(), 'cold-pkg-'));
  const write = (path: string, content: string) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  };
  mkdirSync(join(root, 'infra', 'scripts'), { recursive: true });
  copyFileSync(SCRIPT, join(root, 'infra', 'scripts', 'package-app.sh'));
  write('host.json', '{"version":"2.0"}');
  write('package.json', '{"name":"x","main":"dist/main.js"}');
  write('functions/index.ts', 'export {};');
  write('shared/a.ts', 'export {};');
  write('node_modules/typescript/index.js', 'dev dependency');
  write('test/unit/a.test.ts', '');
  write('bench/run.ts', '');
  write('.cold-launcher/o365/msal-cache.bin', 'token cache');
  write('inbox/facture.pdf', '%PDF');
  write('local.settings.json', '{"Values":{}}');
  write('dist/main.js', 'old bundle');
  write('dist/main.js.map', '{}');
  write('dist/shared/a.js', 'tsc output, not shipped');
  // The sources are older than the bundle (no build needed), and the bundle older than now
  // (a source written by a test is newer, whatever the file system's time resolution).
  const hourAgo = new Date(Date.now() - 3_600_000);
  const minuteAgo = new Date(Date.now() - 60_000);
  for (const p of ['functions/index.ts', 'shared/a.ts', 'shared', 'functions', 'package.json']) utimesSync(join(root, p), hourAgo, hourAgo);
  utimesSync(join(root, 'dist/main.js'), minuteAgo, minuteAgo);
  // A fake npm records its calls; `npm run build` writes a new bundle.
  const bin = join(root, '.fakebin');
  const npmLog = join(root, 'npm.log');
  mkdirSync(bin);
  writeFileSync(
    join(bin, 'npm'),
    `#!/bin/sh\necho "$*" >> "${npmLog}"\nif [ "$1 $2" = "run build" ]; then echo "new bundle" > dist/main.js; fi\n`,
  );
  chmodSync(join(bin, 'npm'), 0o755);
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync('sh', [join(root, 'infra', 'scripts', 'package-app.sh'), ...args], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ...env },
    });
  return { root, npmLog, run };
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

test('package-app.sh --dir copies only host.json, package.json and the bundle, and builds only when needed', (t) => {
  const repo = fakeRepo();
  t.after(() => rmSync(repo.root, { recursive: true, force: true }));

  let r = repo.run(['--dir', '.deploy']);
  assert.equal(r.status, 0, String(r.stderr));
  assert.deepEqual(filesUnder(join(repo.root, '.deploy')), PACKAGE_FILES);
  assert.equal(existsSync(repo.npmLog), false, 'the bundle was up to date: no build');
  assert.equal(readFileSync(join(repo.root, '.deploy', 'dist', 'main.js'), 'utf8'), 'old bundle');

  // A source newer than the bundle: built again, and the folder replaced.
  writeFileSync(join(repo.root, 'shared', 'a.ts'), 'export const changed = 1;');
  r = repo.run(['--dir', '.deploy']);
  assert.equal(r.status, 0, String(r.stderr));
  assert.match(readFileSync(repo.npmLog, 'utf8'), /^run build$/m);
  assert.equal(readFileSync(join(repo.root, '.deploy', 'dist', 'main.js'), 'utf8').trim(), 'new bundle');
  assert.deepEqual(filesUnder(join(repo.root, '.deploy')), PACKAGE_FILES);
});

test('package-app.sh --no-build refuses a stale bundle; a folder it did not write is never emptied', (t) => {
  const repo = fakeRepo();
  t.after(() => rmSync(repo.root, { recursive: true, force: true }));
  writeFileSync(join(repo.root, 'functions', 'index.ts'), 'export const changed = 1;');
  let r = repo.run(['--no-build', '--dir', 'out']);
  assert.notEqual(r.status, 0);
  assert.match(String(r.stderr), /older than the sources/);
  assert.equal(existsSync(join(repo.root, 'out')), false);

  r = repo.run(['--dir', 'shared']);
  assert.notEqual(r.status, 0, 'a source folder must not be taken as the package folder');
  assert.match(String(r.stderr), /did not write/);
  assert.ok(existsSync(join(repo.root, 'shared', 'a.ts')));
});

/** The names of a zip's entries (yauzl, a dependency: no unzip tool needed). */
function zipEntries(path: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const names: string[] = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        names.push(entry.fileName);
        zip.readEntry();
      });
      zip.once('end', () => resolve(names));
      zip.once('error', reject);
      zip.readEntry();
    });
  });
}

test('package-app.sh <zip> zips the same files', async (t) => {
  const repo = fakeRepo();
  t.after(() => rmSync(repo.root, { recursive: true, force: true }));
  const r = repo.run(['app.zip']);
  assert.equal(r.status, 0, String(r.stderr));
  const entries = await zipEntries(join(repo.root, 'app.zip'));
  assert.deepEqual(
    entries.filter((l) => l && !l.endsWith('/')).sort(),
    PACKAGE_FILES,
  );
});

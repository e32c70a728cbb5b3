import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './bicepModel';

// infra/scripts/create-eventgrid-subscription.sh run against a fake `az` that records its
// calls: az keeps its own sign-in and default subscription, apart from azd's, so the script
// must select the subscription azd deployed to before anything else.

const SCRIPT = join(REPO, 'infra', 'scripts', 'create-eventgrid-subscription.sh');
const KEY = 'secret-blobs-extension-key';

function runScript(args: string[], env: Record<string, string>): { status: number | null; stdout: string; stderr: string; calls: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'cold-evg-'));
  try {
    const log = join(dir, 'az.log');
    mkdirSync(join(dir, 'bin'));
    writeFileSync(
      join(dir, 'bin', 'az'),
      [
        '#!/bin/sh',
        `echo "$*" >> "${log}"`,
        'case "$1 $2" in',
        '  "functionapp show") echo func-cold-abc.azurewebsites.net ;;',
        `  "functionapp keys") echo ${KEY} ;;`,
        'esac',
        'exit 0',
        '',
      ].join('\n'),
    );
    chmodSync(join(dir, 'bin', 'az'), 0o755);
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(AZURE_|RESOURCE_GROUP|EVENTGRID_)/.test(k)),
    ) as Record<string, string>;
    const r = spawnSync('sh', [SCRIPT, ...args], {
      encoding: 'utf8',
      env: {
        ...clean,
        PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
        AZURE_FUNCTION_APP_NAME: 'func-cold-abc',
        EVENTGRID_SYSTEM_TOPIC_NAME: 'evgt-cold-abc',
        ...env,
      },
    });
    const calls = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the post-deploy script selects AZURE_SUBSCRIPTION_ID (which azd exports) before any other az call', () => {
  const r = runScript([], { AZURE_SUBSCRIPTION_ID: '11111111-2222-3333-4444-555555555555', RESOURCE_GROUP: 'rg-cold' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.calls[0], 'account set -s 11111111-2222-3333-4444-555555555555');
  assert.equal(r.calls.filter((c) => c.startsWith('account set')).length, 1);
  assert.ok(r.calls.some((c) => c.startsWith('eventgrid system-topic event-subscription update -g rg-cold')), r.calls.join('\n'));
  assert.ok(!r.stdout.includes(KEY) && !r.stderr.includes(KEY), 'the key is never printed');
});

test('-s <subscription> wins over AZURE_SUBSCRIPTION_ID; without either, az keeps its default', () => {
  const flag = runScript(['-g', 'rg-cold', '-s', 'sub-from-flag'], { AZURE_SUBSCRIPTION_ID: 'sub-from-env' });
  assert.equal(flag.status, 0, flag.stderr);
  assert.equal(flag.calls[0], 'account set -s sub-from-flag');

  const none = runScript(['-g', 'rg-cold'], {});
  assert.equal(none.status, 0, none.stderr);
  assert.ok(!none.calls.some((c) => c.startsWith('account set')), none.calls.join('\n'));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INFRA, MAIN_BICEP, allowedValues, bicepFiles, bodyObject, literalString, loadBicep, objectEntries, rel } from './bicepModel';

// What a Bicep compiler would reject in the wiring between files, checked by hand since
// none can run here: module parameters and outputs, and the parameter file.

test('each module call passes only parameters the module declares, and every one it requires', () => {
  const problems: string[] = [];
  for (const f of bicepFiles()) {
    for (const call of loadBicep(f).modules) {
      if (!existsSync(call.file)) {
        problems.push(`${rel(f)}: module ${call.symbol} points at a missing file ${rel(call.file)}`);
        continue;
      }
      const mod = loadBicep(call.file);
      for (const name of call.params.keys()) {
        if (!mod.params.has(name)) problems.push(`${rel(f)}: module ${call.symbol} passes ${name}, which ${rel(call.file)} does not declare`);
      }
      for (const p of mod.params.values()) {
        if (!p.defaultValue && !call.params.has(p.name)) problems.push(`${rel(f)}: module ${call.symbol} does not pass ${p.name}, required by ${rel(call.file)}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('every <module>.outputs.<NAME> used exists in that module', () => {
  const problems: string[] = [];
  for (const f of bicepFiles()) {
    const file = loadBicep(f);
    const modules = new Map(file.modules.map((m) => [m.symbol, m]));
    for (const m of file.source.matchAll(/\b([A-Za-z_]\w*)\.outputs\.([A-Za-z_]\w*)/g)) {
      const call = modules.get(m[1]!);
      if (!call) continue; // a resource's own outputs (none today)
      if (!loadBicep(call.file).outputs.has(m[2]!)) problems.push(`${rel(f)}: ${m[0]} is not an output of ${rel(call.file)}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('parameters carry @description and outputs are UPPER_SNAKE (azd reads them as environment variables)', () => {
  const problems: string[] = [];
  for (const f of bicepFiles()) {
    const file = loadBicep(f);
    for (const p of file.params.values()) if (!p.decorators.includes('description')) problems.push(`${rel(f)}: param ${p.name} has no @description`);
    for (const name of file.outputs.keys()) if (!/^[A-Z][A-Z0-9_]*$/.test(name)) problems.push(`${rel(f)}: output ${name} is not UPPER_SNAKE`);
  }
  assert.deepEqual(problems, []);
});

test('main.parameters.json names only parameters of main.bicep, with allowed values', () => {
  const main = loadBicep(MAIN_BICEP);
  const file = JSON.parse(readFileSync(join(INFRA, 'main.parameters.json'), 'utf8')) as { parameters: Record<string, { value: unknown }> };
  const problems: string[] = [];
  for (const [name, { value }] of Object.entries(file.parameters)) {
    const p = main.params.get(name);
    if (!p) {
      problems.push(`${name} is not a parameter of main.bicep`);
      continue;
    }
    const allowed = allowedValues(p);
    if (allowed && !allowed.includes(String(value))) problems.push(`${name} = ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
    const expected = p.type === 'int' ? 'number' : p.type === 'bool' ? 'boolean' : p.type === 'array' ? 'array' : p.type === 'object' ? 'object' : 'string';
    const actual = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
    if (expected !== actual) problems.push(`${name} should be a ${expected}, is a ${actual}`);
  }
  assert.deepEqual(problems, []);
});

test('every role assignment is in rbac.bicep, named with guid()', () => {
  const problems: string[] = [];
  for (const f of bicepFiles()) {
    for (const r of loadBicep(f).resources) {
      const type = literalString(r.namedChildren[1]!) ?? '';
      if (!type.startsWith('Microsoft.Authorization/roleAssignments@')) continue;
      const symbol = r.namedChildren[0]!.text;
      if (!f.endsWith('rbac.bicep')) problems.push(`${rel(f)}: role assignment ${symbol} outside rbac.bicep`);
      const name = bodyObject(r) && objectEntries(bodyObject(r)!).get('name');
      if (!name || !/^guid\(/.test(name.text)) problems.push(`${rel(f)}: role assignment ${symbol} is not named with guid()`);
    }
  }
  assert.deepEqual(problems, []);
  assert.match(readFileSync(join(INFRA, 'modules', 'rbac.bicep'), 'utf8'), /roleAssignments@/);
});

test('the outputs the post-deploy script and azd rely on exist', () => {
  const outputs = loadBicep(MAIN_BICEP).outputs;
  const script = readFileSync(join(INFRA, 'scripts', 'create-eventgrid-subscription.sh'), 'utf8');
  for (const name of ['RESOURCE_GROUP', 'AZURE_FUNCTION_APP_NAME', 'EVENTGRID_SYSTEM_TOPIC_NAME']) {
    assert.ok(outputs.has(name), `main.bicep has no output ${name}`);
    assert.match(script, new RegExp(`\\$\\{?${name}`), `the script does not read ${name}`);
  }
});

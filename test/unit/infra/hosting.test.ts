import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DELIVERY_CONCURRENCY } from '../../../shared/delivery/deliverAll';
import { SETTINGS } from '../../../shared/runtime/settingNames';
import {
  FLEX_DEPRECATED_SITE_PROPERTIES,
  FUNCTION_APP_BICEP,
  MAIN_BICEP,
  allowedValues,
  bicepSetting,
  bodyObject,
  decoratorArgument,
  exampleSettings,
  literalString,
  loadBicep,
  nestedKeys,
  parseSource,
  resourceOfType,
} from './bicepModel';

// Hosting choices the reviewer's deployment checks asked for: a supported Node.js, the
// coldRetry concurrency as an app setting, and no site property Flex Consumption rejects.

test('the workers default to a supported Node.js (22), 20 is refused, 24 may be chosen', () => {
  // Node 20 left Azure Functions support on 30 April 2026.
  for (const file of [MAIN_BICEP, FUNCTION_APP_BICEP]) {
    const p = loadBicep(file).params.get('nodeVersion');
    assert.ok(p, `${file} has no nodeVersion parameter`);
    assert.deepEqual(allowedValues(p), ['22', '24'], `${file}: allowed Node.js versions`);
    assert.equal(p.defaultValue && literalString(p.defaultValue), '22', `${file}: default Node.js version`);
  }
  const call = loadBicep(MAIN_BICEP).modules.find((m) => m.file === FUNCTION_APP_BICEP);
  assert.equal(call?.params.get('nodeVersion')?.text, 'nodeVersion', 'main.bicep passes its nodeVersion to the function app');
  const site = resourceOfType(loadBicep(FUNCTION_APP_BICEP), 'Microsoft.Web/sites');
  assert.match(site?.text ?? '', /runtime: \{\s*name: 'node'\s*version: nodeVersion\s*\}/, 'functionAppConfig.runtime takes nodeVersion');
});

test('DELIVERY_CONCURRENCY (read by coldRetry) is an app setting with the code\'s default', () => {
  assert.deepEqual(bicepSetting(SETTINGS.deliveryConcurrency), { kind: 'literal', value: String(DEFAULT_DELIVERY_CONCURRENCY) });
  assert.equal(exampleSettings()[SETTINGS.deliveryConcurrency], String(DEFAULT_DELIVERY_CONCURRENCY));
  const main = loadBicep(MAIN_BICEP);
  const call = main.modules.find((m) => m.file === FUNCTION_APP_BICEP);
  assert.equal(call?.params.get('deliveryConcurrency')?.text, 'deliveryConcurrency', 'main.bicep passes deliveryConcurrency on');
  for (const file of [main, loadBicep(FUNCTION_APP_BICEP)]) {
    const p = file.params.get('deliveryConcurrency');
    assert.ok(p, `${file.file} has no deliveryConcurrency parameter`);
    assert.equal(p.type, 'int');
    // 0 would leave no upload slot: coldRetry would never deliver.
    assert.equal(decoratorArgument(p, 'minValue'), '1', `${file.file}: deliveryConcurrency needs @minValue(1)`);
  }
});

test('the function app sets no site property Flex Consumption deprecates (ftpsState...)', () => {
  const site = resourceOfType(loadBicep(FUNCTION_APP_BICEP), 'Microsoft.Web/sites');
  assert.ok(site, 'functionApp.bicep declares no Microsoft.Web/sites');
  const keys = nestedKeys(bodyObject(site)!);
  assert.ok(keys.includes('functionAppConfig') && keys.includes('minTlsVersion'), 'the walk reaches functionAppConfig and siteConfig');
  assert.deepEqual(keys.filter((k) => FLEX_DEPRECATED_SITE_PROPERTIES.includes(k)), []);
  // The check itself sees a property nested in siteConfig.
  const sample = parseSource("resource s 'Microsoft.Web/sites@2024-04-01' = {\n  properties: {\n    siteConfig: {\n      ftpsState: 'Disabled'\n    }\n  }\n}\n");
  const sampleSite = sample.namedChildren.find((n) => n.type === 'resource_declaration')!;
  assert.ok(nestedKeys(bodyObject(sampleSite)!).includes('ftpsState'));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DEFAULT_ARCHIVE_RETENTION_DAYS, DEFAULT_LAUNCHERS_BLOB, SETTINGS } from '../../../shared/runtime/settingNames';
import { CONTAINERS } from '../../../shared/staging/containers';
import { storageConnection } from '../../../shared/runtime/storeFromSettings';
import {
  FLEX_DEPRECATED,
  FUNCTION_APP_BICEP,
  INFRA,
  MAIN_BICEP,
  bicepSetting,
  declaredAppSettings,
  exampleSettings,
  isNcrontab,
  literalString,
  loadBicep,
} from './bicepModel';

test('every setting the product reads has a default in Bicep and in local.settings.json.example', () => {
  const example = exampleSettings();
  const problems: string[] = [];
  for (const name of Object.values(SETTINGS)) {
    if (name === SETTINGS.storage) continue;
    const b = bicepSetting(name);
    if (b.kind === 'unset') problems.push(`Bicep: ${b.why}`);
    if (!example[name]) problems.push(`local.settings.json.example: ${name} has no value`);
  }
  assert.deepEqual(problems, []);
});

test('the Bicep defaults agree with the code\'s defaults', () => {
  assert.deepEqual(bicepSetting(SETTINGS.launchersConfig), { kind: 'literal', value: DEFAULT_LAUNCHERS_BLOB });
  assert.deepEqual(bicepSetting(SETTINGS.archiveRetentionDays), { kind: 'literal', value: String(DEFAULT_ARCHIVE_RETENTION_DAYS) });
  assert.equal(exampleSettings()[SETTINGS.archiveRetentionDays], String(DEFAULT_ARCHIVE_RETENTION_DAYS));
  // One parameter feeds both the lifecycle rule and the app setting.
  const main = loadBicep(MAIN_BICEP);
  const passed = (mod: string) => main.modules.find((m) => m.file.endsWith(mod))?.params.get('archiveRetentionDays')?.text;
  assert.equal(passed('storage.bicep'), 'archiveRetentionDays');
  assert.equal(passed('functionApp.bicep'), 'archiveRetentionDays');
});

test('Bicep declares an identity-based AzureWebJobsStorage that storeFromSettings understands, and no account key', () => {
  const declared = declaredAppSettings();
  assert.ok(!declared.has(SETTINGS.storage), 'AzureWebJobsStorage as a connection string would need shared-key access');
  const settings: Record<string, string> = {};
  for (const name of declared.keys()) {
    if (!name.startsWith(`${SETTINGS.storage}__`)) continue;
    const v = bicepSetting(name);
    assert.notEqual(v.kind, 'unset', `${name}: ${v.kind === 'unset' ? v.why : ''}`);
    // Deployment-time values (endpoints, client id) stand in as plausible ones.
    settings[name] = v.kind === 'literal' ? v.value : name.endsWith('Uri') ? 'https://stcold.blob.core.windows.net/' : '00000000-0000-0000-0000-000000000001';
  }
  assert.deepEqual(storageConnection(settings), {
    kind: 'identity',
    blobServiceUri: 'https://stcold.blob.core.windows.net/',
    credential: 'managedIdentity',
    clientId: '00000000-0000-0000-0000-000000000001',
    resourceId: undefined,
  });
  assert.deepEqual(storageConnection(exampleSettings()), { kind: 'connectionString', connectionString: 'UseDevelopmentStorage=true' });
});

test('every timer schedule in Bicep and in the example is a valid six-field NCRONTAB', () => {
  const example = exampleSettings();
  const schedules = [...declaredAppSettings().keys()].filter((k) => k.endsWith('_SCHEDULE'));
  assert.ok(schedules.length >= 5, `expected the five launcher schedules, found ${schedules.join(', ')}`);
  for (const name of schedules) {
    const b = bicepSetting(name);
    assert.equal(b.kind, 'literal', `${name} has no literal default in Bicep`);
    assert.ok(b.kind === 'literal' && isNcrontab(b.value), `${name} default "${b.kind === 'literal' ? b.value : ''}" is not NCRONTAB`);
    assert.ok(isNcrontab(example[name] ?? ''), `${name} in local.settings.json.example is not NCRONTAB`);
  }
  assert.equal(isNcrontab('*/15 * * * *'), false, 'a five-field (no seconds) schedule must be refused');
  assert.equal(isNcrontab('0 */1 * * * * *'), false, 'an EzGED seven-field row is not a timer schedule');
});

test('secrets are Key Vault references, and no Flex-deprecated setting is declared', () => {
  const fa = loadBicep(FUNCTION_APP_BICEP);
  const secrets = fa.variables.get('secretSettings');
  assert.ok(secrets, 'functionApp.bicep has no secretSettings');
  assert.match(secrets.text, /@Microsoft\.KeyVault\(SecretUri=\$\{keyVaultUri\}secrets\//);
  const site = fa.resources.find((r) => literalString(r.namedChildren[1]!)?.startsWith('Microsoft.Web/sites@'));
  assert.match(site?.text ?? '', /keyVaultReferenceIdentity: identityId/, 'Key Vault references must resolve with the user-assigned identity');
  const declared = declaredAppSettings();
  for (const name of FLEX_DEPRECATED) assert.ok(!declared.has(name), `${name} is deprecated on Flex Consumption`);
  assert.match(fa.source, /APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=\$\{identityClientId\};Authorization=AAD'/);
});

test('the storage account has the product\'s containers and the two retention rules', () => {
  const storage = loadBicep(join(INFRA, 'modules', 'storage.bicep'));
  const list = storage.variables.get('productContainers');
  assert.ok(list, 'storage.bicep has no productContainers');
  assert.deepEqual(list.namedChildren.map((n) => literalString(n)).sort(), Object.values(CONTAINERS).sort());
  assert.match(storage.source, /allowSharedKeyAccess: false/);
  const prefixes = [...storage.source.matchAll(/prefixMatch: \[\s*'([^']+)'/g)].map((m) => m[1]);
  assert.deepEqual(prefixes.sort(), [`${CONTAINERS.archive}/`]);
  const archiveRule = storage.source.indexOf(`'${CONTAINERS.archive}/'`);
  assert.ok(storage.source.indexOf('daysAfterModificationGreaterThan: archiveRetentionDays', archiveRule) > archiveRule);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { ConfigError } from '../../../shared/errors';
import { storageConnection, storeFromSettings } from '../../../shared/runtime/storeFromSettings';

// The storage connection as the Functions host reads AzureWebJobsStorage: a connection
// string, or identity-based settings (what infra/ deploys). No request is made here.

test('a connection string wins over identity-based settings', () => {
  const conn = storageConnection({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', AzureWebJobsStorage__accountName: 'stcold' });
  assert.deepEqual(conn, { kind: 'connectionString', connectionString: 'UseDevelopmentStorage=true' });
});

test('__accountName gives the public blob endpoint and the developer\'s own credential', () => {
  assert.deepEqual(storageConnection({ AzureWebJobsStorage__accountName: 'stcold123' }), {
    kind: 'identity',
    blobServiceUri: 'https://stcold123.blob.core.windows.net',
    credential: 'default',
    clientId: undefined,
    resourceId: undefined,
  });
});

test('__blobServiceUri with __credential=managedidentity and __clientId is a user-assigned identity', () => {
  const settings = {
    AzureWebJobsStorage__blobServiceUri: 'https://stcold.blob.core.windows.net/',
    AzureWebJobsStorage__queueServiceUri: 'https://stcold.queue.core.windows.net/',
    AzureWebJobsStorage__credential: 'managedidentity',
    AzureWebJobsStorage__clientId: '11111111-2222-3333-4444-555555555555',
  };
  assert.deepEqual(storageConnection(settings), {
    kind: 'identity',
    blobServiceUri: 'https://stcold.blob.core.windows.net/',
    credential: 'managedIdentity',
    clientId: '11111111-2222-3333-4444-555555555555',
    resourceId: undefined,
  });
  const store = storeFromSettings(settings);
  assert.equal(store.service.url, 'https://stcold.blob.core.windows.net/');
  assert.ok(store.service.credential instanceof ManagedIdentityCredential);
  assert.equal(storeFromSettings({ ...settings }), store, 'one client per process and connection');
  const dev = storeFromSettings({ AzureWebJobsStorage__accountName: 'stdev' });
  assert.ok(dev.service.credential instanceof DefaultAzureCredential);
});

test('bad identity-based settings are a ConfigError naming each setting', () => {
  try {
    storageConnection({
      AzureWebJobsStorage__accountName: 'Not_An_Account',
      AzureWebJobsStorage__credential: 'clientsecret',
      AzureWebJobsStorage__clientId: 'a',
      AzureWebJobsStorage__managedIdentityResourceId: 'b',
    });
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.problems.map((p) => p.path).sort(), [
      'AzureWebJobsStorage__accountName',
      'AzureWebJobsStorage__clientId',
      'AzureWebJobsStorage__credential',
    ]);
  }
  assert.throws(() => storageConnection({ AzureWebJobsStorage__blobServiceUri: 'stcold.blob.core.windows.net' }), ConfigError);
});

test('no storage setting at all: undefined, and storeFromSettings says which settings to set', () => {
  assert.equal(storageConnection({ AzureWebJobsStorage: '  ' }), undefined);
  assert.throws(
    () => storeFromSettings({}),
    (err: unknown) => err instanceof ConfigError && /AzureWebJobsStorage__accountName/.test(err.message) && err.code === 'CONFIG_INVALID',
  );
});

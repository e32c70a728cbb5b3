import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { CACHE_KEY_SETTING, cacheKeyFromSettings, decryptCache, encryptCache } from '../../../shared/sources/o365/cacheCrypto';

const key = randomBytes(32);
const cache = JSON.stringify({ RefreshToken: { x: { secret: 'rt.very-secret-refresh-token' } } });

test('the token cache is encrypted at rest and decrypts back', () => {
  const blob = encryptCache(cache, key, 'boite-alice');
  assert.ok(!blob.toString('latin1').includes('very-secret'), 'no clear text');
  assert.equal(decryptCache(blob, key, 'boite-alice'), cache);
  assert.notDeepEqual(encryptCache(cache, key, 'boite-alice'), blob, 'a fresh IV every time');
});

test('a tampered blob, another key or another launcher does not decrypt', () => {
  const blob = encryptCache(cache, key, 'boite-alice');
  const tampered = Buffer.from(blob);
  tampered[tampered.length - 20]! ^= 1;
  assert.throws(() => decryptCache(tampered, key, 'boite-alice'), { code: 'O365_CACHE_UNREADABLE' });
  assert.throws(() => decryptCache(blob, randomBytes(32), 'boite-alice'), /O365_CACHE_KEY changed/);
  assert.throws(() => decryptCache(blob, key, 'autre-launcher'), { code: 'O365_CACHE_UNREADABLE' });
  assert.throws(() => decryptCache(Buffer.from('{"Account":{}}'), key, 'boite-alice'), /not in the expected encrypted format/);
});

test('the key comes from the O365_CACHE_KEY setting, with clear errors', () => {
  assert.deepEqual(cacheKeyFromSettings({ [CACHE_KEY_SETTING]: key.toString('base64') }), key);
  assert.throws(() => cacheKeyFromSettings({}), (err: Error & { code?: string }) => err.code === 'O365_CACHE_KEY_MISSING' && /O365_CACHE_KEY is not set/.test(err.message));
  assert.throws(() => cacheKeyFromSettings({ [CACHE_KEY_SETTING]: randomBytes(16).toString('base64') }), { code: 'O365_CACHE_KEY_INVALID' });
  assert.throws(() => cacheKeyFromSettings({ [CACHE_KEY_SETTING]: 'not base64 at all!' }), { code: 'O365_CACHE_KEY_INVALID' });
});

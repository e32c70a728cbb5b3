import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createConnection, dataUrlOf, md5Hex } from '../../../shared/ezged/connection';
import { EzgedError } from '../../../shared/ezged/errors';
import { retryDelayMs, withRetry } from '../../../shared/ezged/retry';
import { cookieOf } from '../../../shared/ezged/session';
import { safeUrl } from '../../../shared/ezged/exchange';
import { redact } from '../../../shared/util/secrets';

const base = { login: 'cold', password: 'p4ssw0rd-unit', domain: '', uploadToken: 'tok-unit-1234', timeoutSeconds: 120, allowInsecureHttp: false, tls: { rejectUnauthorized: true } };

test('the data URL is {url}/data/, however the url is written', () => {
  for (const url of ['https://ged.example.fr/ezged3', 'https://ged.example.fr/ezged3/', 'https://ged.example.fr/ezged3/data', 'https://ged.example.fr/ezged3/data/?x=1#y']) {
    assert.equal(dataUrlOf(url).href, 'https://ged.example.fr/ezged3/data/');
  }
  assert.equal(dataUrlOf('https://ged.example.fr').href, 'https://ged.example.fr/data/');
  assert.equal(safeUrl('https://h/ezged3/data/service.php?service=sec/authenticate&pwd=abc'), 'https://h/ezged3/data/service.php');
});

test('pwd is the MD5 of the password, or the password itself with a domain; secrets are registered for redaction', () => {
  const c = createConnection({ ...base, url: 'https://ged.example.fr/ezged3' });
  assert.equal(c.pwd, md5Hex('p4ssw0rd-unit'));
  assert.equal(c.uploadToken, 'tok-unit-1234');
  assert.equal(c.timeoutMs, 120_000);
  assert.equal(redact(`a ${md5Hex('p4ssw0rd-unit')} b p4ssw0rd-unit tok-unit-1234`), 'a *** b *** ***');
  assert.equal(c.scrub(`x ${md5Hex('p4ssw0rd-unit')}`), 'x ***');
  c.agent.destroy();
  const d = createConnection({ ...base, url: 'https://ged.example.fr/ezged3', domain: 'CORP' });
  assert.equal(d.pwd, 'p4ssw0rd-unit');
  assert.notEqual(d.key, c.key);
  d.agent.destroy();
});

test('http:// needs allowInsecureHttp; a missing tls.ca file is a clear, permanent error', () => {
  assert.throws(() => createConnection({ ...base, url: 'http://ged/ezged3' }), (e: EzgedError) => e.code === 'EZGED_CONFIG' && !e.transient);
  createConnection({ ...base, url: 'http://ged/ezged3', allowInsecureHttp: true }).agent.destroy();
  assert.throws(
    () => createConnection({ ...base, url: 'https://ged/ezged3', tls: { rejectUnauthorized: true, ca: '/nonexistent/ca.pem' } }),
    (e: EzgedError) => e.code === 'EZGED_TLS_CA' && /"tls.ca" is neither a PEM certificate nor a readable file \(\/nonexistent\/ca\.pem: ENOENT\)/.test(e.message),
  );
});

test('Set-Cookie lines become one Cookie header', () => {
  assert.equal(cookieOf(['PHPSESSID=abc; path=/ezged3/; HttpOnly', 'lang=fr; path=/', 'PHPSESSID=def; path=/']), 'PHPSESSID=def; lang=fr');
  assert.equal(cookieOf(undefined), '');
});

test('retry delays grow exponentially, are capped, jittered, and honour Retry-After', () => {
  const p = { tries: 5, firstDelayMs: 100, maxDelayMs: 1_000 };
  assert.equal(retryDelayMs(1, p, undefined, () => 0), 50);
  assert.equal(retryDelayMs(1, p, undefined, () => 1), 100);
  assert.equal(retryDelayMs(3, p, undefined, () => 1), 400);
  assert.equal(retryDelayMs(10, p, undefined, () => 1), 1_000);
  assert.equal(retryDelayMs(1, p, 700, () => 0), 700);
  assert.equal(retryDelayMs(1, p, 60_000, () => 0), 1_000);
});

test('withRetry stops at once on a permanent error and after `tries` on a transient one', async () => {
  let calls = 0;
  const policy = { tries: 3, firstDelayMs: 1, maxDelayMs: 2 };
  await assert.rejects(withRetry(async () => { calls++; throw new Error('perm'); }, policy, () => false), /perm/);
  assert.equal(calls, 1);
  calls = 0;
  await assert.rejects(withRetry(async () => { calls++; throw new Error('again'); }, policy, () => true), /again/);
  assert.equal(calls, 3);
  calls = 0;
  assert.equal(await withRetry(async (n) => { calls++; if (n < 2) throw new Error('once'); return 'ok'; }, policy, () => true), 'ok');
  assert.equal(calls, 2);
});

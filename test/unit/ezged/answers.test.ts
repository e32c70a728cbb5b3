import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readServiceAnswer, readUploadAnswer } from '../../../shared/ezged/answers';
import { EzgedError, errorForNetwork } from '../../../shared/ezged/errors';
import type { ExchangeAnswer } from '../../../shared/ezged/exchange';

const answer = (status: number, body: unknown, headers: Record<string, string> = {}): ExchangeAnswer => ({
  status,
  headers,
  text: typeof body === 'string' ? body : JSON.stringify(body),
});
const scrub = (t: string) => t.split('s3cret').join('***');
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof EzgedError, String(err));
    return { code: err.code, transient: err.transient, message: err.message, retryAfterMs: err.retryAfterMs };
  }
  return undefined;
};

test('service answers: errorcode 0 is success, -18 and 401 are transient, HTTP errors are classified', () => {
  assert.deepEqual(readServiceAnswer(answer(200, { errorcode: 0, errormsg: 'Ok', rows: { sessionid: '1' }, count: 1 }), 'x', scrub), {
    errorcode: 0,
    errormsg: 'Ok',
    rows: { sessionid: '1' },
    count: 1,
  });
  assert.equal(readServiceAnswer(answer(200, { errorcode: -1, errormsg: 'bad s3cret' }), 'x', scrub).errormsg, 'bad ***');
  assert.deepEqual(code(() => readServiceAnswer(answer(200, { errorcode: -18, errormsg: 'max' }), 'x', scrub))?.code, 'EZGED_TOO_MANY_SESSIONS');
  assert.equal(code(() => readServiceAnswer(answer(200, { errorcode: -18, errormsg: 'max' }), 'x', scrub))?.transient, true);
  assert.equal(code(() => readServiceAnswer(answer(200, { errorcode: 401, errormsg: 'no' }), 'x', scrub))?.code, 'EZGED_SESSION_EXPIRED');
  assert.equal(code(() => readServiceAnswer(answer(401, '<html>'), 'x', scrub))?.code, 'EZGED_SESSION_EXPIRED');
  assert.deepEqual(code(() => readServiceAnswer(answer(503, '<html>'), 'x', scrub))?.code, 'EZGED_SERVER_ERROR');
  assert.deepEqual(code(() => readServiceAnswer(answer(429, '', { 'retry-after': '3' }), 'x', scrub)), {
    code: 'EZGED_THROTTLED',
    transient: true,
    message: 'x: EzGED answered 429 (too many requests)',
    retryAfterMs: 3000,
  });
  assert.deepEqual(code(() => readServiceAnswer(answer(404, '<html>'), 'x', scrub))?.transient, false);
  assert.deepEqual(code(() => readServiceAnswer(answer(302, ''), 'x', scrub))?.code, 'EZGED_REDIRECTED');
  assert.deepEqual(code(() => readServiceAnswer(answer(403, ''), 'x', scrub))?.transient, false);
  assert.deepEqual(code(() => readServiceAnswer(answer(200, 'Warning: PHP said {"errorcode":0}'), 'x', scrub))?.code, 'EZGED_BAD_ANSWER');
});

test('upload answers: only {"success": true} is a success', () => {
  assert.deepEqual(readUploadAnswer(answer(200, { success: true, filePath: 'C:\\w\\a.pdf' }), 'x', scrub), { filePath: 'C:\\w\\a.pdf' });
  assert.deepEqual(readUploadAnswer(answer(200, { success: true }), 'x', scrub), { filePath: undefined });
  const refused = code(() => readUploadAnswer(answer(200, { success: false, message: 'Wait directory x does not exist (s3cret)' }), 'x', scrub));
  assert.deepEqual(refused, { code: 'EZGED_UPLOAD_REFUSED', transient: false, message: 'x: EzGED refused the document (Wait directory x does not exist (***))', retryAfterMs: undefined });
  assert.equal(code(() => readUploadAnswer(answer(200, { success: 'yes' }), 'x', scrub))?.code, 'EZGED_UPLOAD_REFUSED');
  const unreadable = code(() => readUploadAnswer(answer(200, '<html>ok</html>'), 'x', scrub));
  assert.equal(unreadable?.transient, false);
  assert.match(unreadable!.message, /may have been written/);
  assert.equal(code(() => readUploadAnswer(answer(401, { success: false, message: 'No valid session' }), 'x', scrub))?.code, 'EZGED_SESSION_EXPIRED');
  assert.equal(code(() => readUploadAnswer(answer(502, '<html>'), 'x', scrub))?.transient, true);
  // EzGED's codes in a 200 answer, as service.php gives them: transient, not a refusal.
  assert.deepEqual(
    [401, -18].map((c) => code(() => readUploadAnswer(answer(200, { success: false, errorcode: c, errormsg: 'x' }), 'x', scrub))).map((e) => [e?.code, e?.transient]),
    [['EZGED_SESSION_EXPIRED', true], ['EZGED_TOO_MANY_SESSIONS', true]],
  );
  assert.equal(code(() => readUploadAnswer(answer(200, { errorcode: 401 }), 'x', scrub))?.code, 'EZGED_SESSION_EXPIRED');
  assert.match(code(() => readUploadAnswer(answer(403, { success: false, message: 'Invalid token' }), 'x', scrub))!.message, /403 \(Invalid token\)/);
});

test('network failures are transient, certificate refusals are not', () => {
  const reset = errorForNetwork(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'x', true);
  assert.equal(reset.code, 'EZGED_CONNECTION');
  assert.equal(reset.transient, true);
  assert.equal(reset.replayable, true);
  const tls = errorForNetwork(Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'x', false);
  assert.equal(tls.code, 'EZGED_TLS');
  assert.equal(tls.transient, false);
  assert.equal(errorForNetwork(Object.assign(new Error('Hostname/IP does not match'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), 'x', false).transient, false);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ColdError } from '../../../shared/errors';
import { createLogger, type LogFields } from '../../../shared/util/log';
import { registerSecret } from '../../../shared/util/secrets';

test('child loggers carry their fields; secrets and errors are made safe', () => {
  const lines: { level: string; msg: string; fields: LogFields }[] = [];
  registerSecret('s3cr3t-password');
  const log = createLogger((level, msg, fields) => lines.push({ level, msg, fields }), { invocationId: 'inv-1' });
  const child = log.child({ launcherId: '12' });
  child.error('login refused with s3cr3t-password', { err: new ColdError('AUTH', 'bad s3cr3t-password'), item: 'x' });
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.msg, 'login refused with ***');
  assert.deepEqual(lines[0]!.fields, { invocationId: 'inv-1', launcherId: '12', err: 'AUTH: bad ***', item: 'x' });
});

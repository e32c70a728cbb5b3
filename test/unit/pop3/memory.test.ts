import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePairs } from '../../../shared/sources/pop3/listing';
import { forgetGone, pop3Memory, recordFailure } from '../../../shared/sources/pop3/memory';

test('the memory is created in place and kept for the same account', () => {
  const state: Record<string, unknown> = {};
  const { memory, reset } = pop3Memory(state, 'a@pop.example.org');
  assert.equal(reset, false);
  memory.filed.u1 = '2025-01-01T00:00:00.000Z';
  const again = pop3Memory(state, 'a@pop.example.org');
  assert.deepEqual([again.reset, again.memory.filed], [false, { u1: '2025-01-01T00:00:00.000Z' }]);
});

test('another account starts afresh (UIDLs are unique per mailbox only)', () => {
  const state: Record<string, unknown> = {};
  pop3Memory(state, 'a@pop.example.org').memory.filed.u1 = 'x';
  const { memory, reset } = pop3Memory(state, 'b@pop.example.org');
  assert.deepEqual([reset, memory.filed, memory.account], [true, {}, 'b@pop.example.org']);
});

test('messages gone from the server are forgotten, in every record', () => {
  const { memory } = pop3Memory({}, 'a@s');
  memory.filed = { a: 't', b: 't' };
  memory.setAside = { b: { at: 't', reason: 'r' }, c: { at: 't', reason: 'r' } };
  memory.failures = { c: { count: 1, at: 't' }, d: { count: 2, at: 't' } };
  forgetGone(memory, new Set(['a', 'c']));
  assert.deepEqual([Object.keys(memory.filed), Object.keys(memory.setAside), Object.keys(memory.failures)], [['a'], ['c'], ['c']]);
});

test('failures count runs and keep the last error, shortened', () => {
  const { memory } = pop3Memory({}, 'a@s');
  const now = new Date('2025-03-03T10:00:00Z');
  recordFailure(memory, 'u', now, new Error('x'.repeat(1000)));
  recordFailure(memory, 'u', now, new Error('stream broke'), false);
  assert.deepEqual([memory.failures.u!.count, memory.failures.u!.lastError], [1, 'stream broke']);
  recordFailure(memory, 'u', now);
  assert.equal(memory.failures.u!.count, 2);
  recordFailure(memory, 'v', now, new Error('y'.repeat(1000)));
  assert.equal(memory.failures.v!.lastError!.length, 300);
});

test('UIDL and LIST lines', () => {
  assert.deepEqual(parsePairs(['1 0000000158a1b2c3', '2 abc+/=', ' 10 x'], 'UIDL'), [[1, '0000000158a1b2c3'], [2, 'abc+/='], [10, 'x']]);
  assert.throws(() => parsePairs(['garbage'], 'LIST'), /unexpected line in the answer to LIST/);
});

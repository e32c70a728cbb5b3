import assert from 'node:assert/strict';
import { test } from 'node:test';
import { O365_MAX_REMEMBERED, O365_MEMORY_DAYS, memoryKey, o365Memory, rejection } from '../../../shared/sources/o365/memory';

const NOW = new Date('2026-11-20T08:00:00Z');
const daysAgo = (n: number) => new Date(NOW.getTime() - n * 86_400_000).toISOString();

test('memory keys: short, stable, per mailbox', () => {
  const id = `AAkALg${'x'.repeat(140)}AAA=`;
  assert.equal(memoryKey('/users/a%40b.fr', id), memoryKey('/users/a%40b.fr', id));
  assert.equal(memoryKey('/users/a%40b.fr', id).length, 20);
  assert.notEqual(memoryKey('/users/a%40b.fr', id), memoryKey('/me', id));
});

test('memory: created in the state, entries not seen for the retention period forgotten', () => {
  const state: Record<string, unknown> = {
    handled: { old: daysAgo(O365_MEMORY_DAYS + 1), recent: daysAgo(3) },
    rejected: { old: { at: daysAgo(O365_MEMORY_DAYS + 1), reason: 'x' }, recent: rejection('nothing to file', new Date(daysAgo(1))) },
  };
  const m = o365Memory(state, NOW);
  assert.deepEqual(Object.keys(m.handled), ['recent']);
  assert.deepEqual(Object.keys(m.rejected), ['recent']);
  assert.equal(state.handled, m.handled, 'pruned in place, persisted with the launcher state');
  assert.deepEqual(o365Memory({}, NOW), { handled: {}, rejected: {} });
});

test('memory: bounded, the most recently seen kept', () => {
  const handled: Record<string, string> = {};
  for (let i = 0; i < O365_MAX_REMEMBERED + 5; i++) handled[`k${i}`] = new Date(NOW.getTime() - (O365_MAX_REMEMBERED + 5 - i) * 1000).toISOString();
  const m = o365Memory({ handled }, NOW);
  assert.equal(Object.keys(m.handled).length, O365_MAX_REMEMBERED);
  assert.ok(!('k0' in m.handled) && !('k4' in m.handled));
  assert.ok(`k${O365_MAX_REMEMBERED + 4}` in m.handled);
});

test('a rejection keeps a bounded reason', () => {
  assert.equal(rejection('r'.repeat(1000), NOW).reason.length, 300);
  assert.equal(rejection('why', NOW).at, NOW.toISOString());
});

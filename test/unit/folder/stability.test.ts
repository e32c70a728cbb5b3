import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StabilityTracker } from '../../../shared/sources/folder/stability';

const t0 = new Date('2026-11-28T10:00:00Z');
const later = (s: number) => new Date(t0.getTime() + s * 1000);

test('a file seen for the first time waits, even with an old modification time', () => {
  const tracker = new StabilityTracker({}, 30, t0);
  const v = tracker.check('a.pdf', 100, Date.parse('2020-01-01'));
  assert.equal(v.stable, false);
  assert.ok(tracker.result()['a.pdf']);
});

test('taken once a later look saw it unchanged for delaySeconds', () => {
  const first = new StabilityTracker({}, 30, t0);
  first.check('a.pdf', 100, 1);
  const early = new StabilityTracker(first.result(), 30, later(10));
  assert.equal(early.check('a.pdf', 100, 1).stable, false);
  const enough = new StabilityTracker(early.result(), 30, later(31));
  assert.equal(enough.check('a.pdf', 100, 1).stable, true);
  assert.equal(enough.result()['a.pdf'], undefined, 'a taken file is forgotten');
});

test('a change restarts the wait', () => {
  const first = new StabilityTracker({}, 30, t0);
  first.check('a.pdf', 100, 1);
  const grown = new StabilityTracker(first.result(), 30, later(40));
  assert.equal(grown.check('a.pdf', 200, 2).stable, false);
  const again = new StabilityTracker(grown.result(), 30, later(60));
  assert.equal(again.check('a.pdf', 200, 2).stable, false);
  assert.equal(new StabilityTracker(again.result(), 30, later(71)).check('a.pdf', 200, 2).stable, true);
});

test('delaySeconds 0 takes at once', () => {
  assert.equal(new StabilityTracker({}, 0, t0).check('a.pdf', 1, 1).stable, true);
});

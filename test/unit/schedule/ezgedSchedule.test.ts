import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSchedule, ScheduleSyntaxError } from '../../../shared/schedule/ezgedSchedule';

const at = (iso: string) => new Date(iso);

test('* * * * * * */15 fires every 15 seconds', () => {
  const s = parseSchedule(['* * * * * * */15'], 'UTC');
  assert.deepEqual(s.next(at('2026-11-28T10:00:01Z')), at('2026-11-28T10:00:15Z'));
  assert.deepEqual(s.next(at('2026-11-28T10:00:45Z')), at('2026-11-28T10:01:00Z'));
});

test('fields are in EzGED order: years months weekdays days hours minutes seconds', () => {
  // 2027, March, any weekday, the 5th, 08:30:00
  const s = parseSchedule(['2027 3 * 5 8 30 0'], 'UTC');
  assert.deepEqual(s.next(at('2026-11-28T00:00:00Z')), at('2027-03-05T08:30:00Z'));
});

test('weekdays 1-5 at 07:00 skip the weekend', () => {
  const s = parseSchedule(['* * 1-5 * 7 0 0'], 'UTC');
  // 2026-11-28 is a Saturday
  assert.deepEqual(s.next(at('2026-11-28T08:00:00Z')), at('2026-11-30T07:00:00Z'));
});

test('isDue: a first run waits for an occurrence (within the hour); then only when a row fell in (since, now]', () => {
  const s = parseSchedule(['* * * * * 0 0'], 'UTC'); // every hour on the hour
  assert.equal(s.isDue(undefined, at('2026-11-28T10:20:00Z')), true);
  const weekdays = parseSchedule(['* * 1-5 * 7-19 */10 0'], 'UTC');
  assert.equal(weekdays.isDue(undefined, at('2026-11-28T23:00:00Z')), false, 'deployed on a Saturday night: waits for Monday');
  assert.equal(weekdays.isDue(undefined, at('2026-11-30T07:00:30Z')), true);
  assert.equal(parseSchedule(['* * * * * * *']).isDue(undefined, at('2026-11-28T23:00:00Z')), true, 'the default schedule runs at once');
  assert.equal(weekdays.isDue(at('2026-11-20T19:50:00Z'), at('2026-11-28T23:00:00Z')), true, 'a run missed during an outage is made once');
  assert.equal(parseSchedule(['* * 1 1 * * 0'], 'UTC').isDue(at('2026-11-29T23:59:00Z'), at('2026-11-30T00:00:30Z')), true, 'days and weekdays: either matches (cron rule)');
  assert.equal(s.isDue(at('2026-11-28T10:00:00Z'), at('2026-11-28T10:59:59Z')), false);
  assert.equal(s.isDue(at('2026-11-28T10:00:00Z'), at('2026-11-28T11:00:00Z')), true);
});

test('several rows: the earliest wins', () => {
  const s = parseSchedule(['* * * * 12 0 0', '* * * * 8 0 0'], 'UTC');
  assert.deepEqual(s.next(at('2026-11-28T07:00:00Z')), at('2026-11-28T08:00:00Z'));
});

test('schedule rows are read in the given time zone', () => {
  const s = parseSchedule(['* * * * 8 0 0'], 'Europe/Paris');
  assert.deepEqual(s.next(at('2026-11-28T00:00:00Z')), at('2026-11-28T07:00:00Z'));
});

test('errors name the field at fault', () => {
  const cases: [string, string | undefined, RegExp][] = [
    ['* * * * * 75 *', 'minutes', /"75" is out of range \(0-59\)/],
    ['* 13 * * * * *', 'months', /"13" is out of range \(1-12\)/],
    ['* * * * 24 * *', 'hours', /out of range \(0-23\)/],
    ['* * * 0 * * *', 'days', /out of range \(1-31\)/],
    ['* * * * * *', undefined, /needs 7 fields/],
    ['* * mon * * * *', 'weekdays', /not a number, list, range or step/],
  ];
  for (const [row, field, message] of cases) {
    assert.throws(() => parseSchedule([row]), (err: unknown) => {
      assert.ok(err instanceof ScheduleSyntaxError, row);
      assert.equal(err.field, field, row);
      assert.match(err.message, message, row);
      return true;
    });
  }
});

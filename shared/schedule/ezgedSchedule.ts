import { Cron } from 'croner';

/**
 * EzGED schedule rows: seven fields in EzGED's order
 *   years months weekdays days hours minutes seconds
 * (`*`, lists, ranges, steps `*\/n`), e.g. `* * * * * * *\/15` = every 15 seconds.
 * Parsing and next-occurrence arithmetic are croner's (7-part mode: second minute hour
 * day month weekday year); this module only reorders the fields and names them. When
 * both days and weekdays are restricted, a time matching either fires (cron's rule).
 */
export const EZGED_FIELDS = ['years', 'months', 'weekdays', 'days', 'hours', 'minutes', 'seconds'] as const;
export type EzgedField = (typeof EZGED_FIELDS)[number];

/** The croner position of each EzGED field. */
const CRONER_ORDER: EzgedField[] = ['seconds', 'minutes', 'hours', 'days', 'months', 'weekdays', 'years'];
const FIELD_SYNTAX = /^[0-9*,\-/]+$/;
const FIELD_RANGE: Record<EzgedField, string> = {
  years: '1-9999', months: '1-12', weekdays: '0-7, 0 and 7 = Sunday', days: '1-31',
  hours: '0-23', minutes: '0-59', seconds: '0-59',
};

export class ScheduleSyntaxError extends Error {
  constructor(
    readonly field: EzgedField | undefined,
    message: string,
  ) {
    super(message);
  }
}

export interface Schedule {
  rows: string[];
  /**
   * True when an occurrence of one row falls in (since, now]: a run missed while nothing
   * looked (an outage) is made once, at the next look, as systemd's `Persistent=` timers
   * do. Never run (`since` undefined): an occurrence in the last FIRST_RUN_LOOKBACK_MS,
   * so a new launcher waits for its first time instead of running at once.
   */
  isDue(since: Date | undefined, now: Date): boolean;
  /** The next occurrence after `after`, or undefined if there is none. */
  next(after: Date): Date | undefined;
}

/** How far back a launcher that never ran looks for an occurrence of its rows. */
const FIRST_RUN_LOOKBACK_MS = 60 * 60_000;

function toCronerPattern(row: string): string {
  const fields = row.trim().split(/\s+/);
  if (fields.length !== 7) {
    throw new ScheduleSyntaxError(undefined, `needs 7 fields (${EZGED_FIELDS.join(' ')}), got ${fields.length}`);
  }
  const byName = Object.fromEntries(EZGED_FIELDS.map((f, i) => [f, fields[i]!])) as Record<EzgedField, string>;
  for (const f of EZGED_FIELDS) {
    if (!FIELD_SYNTAX.test(byName[f])) throw new ScheduleSyntaxError(f, `"${byName[f]}" is not a number, list, range or step`);
  }
  // Validate field by field, so the message can name the field at fault.
  for (const f of CRONER_ORDER) {
    const probe = CRONER_ORDER.map((g) => (g === f ? byName[f] : '*')).join(' ');
    try {
      new Cron(probe, { paused: true, mode: '7-part' });
    } catch (err) {
      throw new ScheduleSyntaxError(f, `"${byName[f]}" is out of range (${FIELD_RANGE[f]}): ${(err as Error).message}`);
    }
  }
  return CRONER_ORDER.map((f) => byName[f]).join(' ');
}

/** Parses EzGED rows; throws ScheduleSyntaxError naming the field at fault. */
export function parseSchedule(rows: readonly string[], timezone?: string): Schedule {
  const crons = rows.map((r) => new Cron(toCronerPattern(r), { paused: true, mode: '7-part', timezone }));
  const next = (after: Date): Date | undefined => {
    let best: Date | undefined;
    for (const c of crons) {
      const n = c.nextRun(after);
      if (n && (!best || n < best)) best = n;
    }
    return best;
  };
  return {
    rows: [...rows],
    next,
    isDue(since, now) {
      const n = next(since ?? new Date(now.getTime() - FIRST_RUN_LOOKBACK_MS));
      return n !== undefined && n.getTime() <= now.getTime();
    },
  };
}

/** Every time the type's timer looks: the default when a launcher gives no schedule. */
export const ALWAYS = '* * * * * * *';

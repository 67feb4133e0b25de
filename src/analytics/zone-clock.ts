import { ValidationError } from '../errors.js';
import { describe } from '../support/describe.js';
import { DAY_MS, daysFromCivil } from './civil-days.js';

/**
 * The local calendar of one IANA time zone, read through Intl.DateTimeFormat (Node's full ICU),
 * so the zone rules are the runtime's tz database with no date library.
 */
export interface ZoneClock {
  readonly timeZone: string;
  /** The local calendar day (days since 1970-01-01) that instant `ms` falls on. */
  localDay(ms: number): number;
  /**
   * The first instant of local day `day`: its midnight, or, where daylight saving skips midnight,
   * the first instant after the skipped span (the transition itself).
   */
  dayStart(day: number): number;
}

const HOUR_MS = 3_600_000;
// No zone's offset has ever exceeded ±16 h (the extremes are local mean times near ±15:57).
const MAX_OFFSET_MS = 16 * HOUR_MS;

const clocks = new Map<string, ZoneClock>();

/** The clock of an IANA zone name (validated by Intl); a ValidationError for an unknown one. */
export function zoneClock(timeZone: unknown, path = 'timezone'): ZoneClock {
  if (typeof timeZone === 'string') {
    const known = clocks.get(timeZone);
    if (known) return known;
  }
  let format: Intl.DateTimeFormat;
  try {
    if (typeof timeZone !== 'string' || timeZone === '') throw new RangeError('not a name');
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    });
  } catch {
    throw new ValidationError(
      path,
      `must be an IANA time-zone name like "Europe/London" or "America/New_York", got ${describe(timeZone)}`,
      'INVALID_OPTION',
    );
  }
  const clock = makeClock(timeZone, format);
  clocks.set(timeZone, clock);
  return clock;
}

function makeClock(timeZone: string, format: Intl.DateTimeFormat): ZoneClock {
  /** Local wall time of `ms` written as if it were UTC: wallMs - ms is the zone's offset then. */
  const wallMs = (ms: number): number => {
    let era = 'AD';
    let year = 0;
    let month = 0;
    let day = 0;
    let hour = 0;
    let minute = 0;
    let second = 0;
    for (const part of format.formatToParts(ms)) {
      if (part.type === 'era') era = part.value;
      else if (part.type === 'year') year = Number(part.value);
      else if (part.type === 'month') month = Number(part.value);
      else if (part.type === 'day') day = Number(part.value);
      else if (part.type === 'hour') hour = Number(part.value);
      else if (part.type === 'minute') minute = Number(part.value);
      else if (part.type === 'second') second = Number(part.value);
    }
    if (era === 'BC' || era === 'B') year = 1 - year;
    const fraction = ms - Math.floor(ms / 1000) * 1000;
    return (
      daysFromCivil(year, month, day) * DAY_MS + hour * HOUR_MS + minute * 60_000 + second * 1000 + fraction
    );
  };
  const localDay = (ms: number): number => Math.floor(wallMs(ms) / DAY_MS);
  const startsDay = (ms: number, day: number): boolean => localDay(ms) >= day && localDay(ms - 1) < day;

  const dayStart = (day: number): number => {
    // Usually two offset look-ups land on local midnight; verify, because a transition near
    // midnight (skipped or repeated) can make the guess miss the day's first instant.
    const midnight = day * DAY_MS;
    const guess = midnight - (wallMs(midnight) - midnight);
    const first = midnight - (wallMs(guess) - guess);
    for (const candidate of [first, guess]) if (startsDay(candidate, day)) return candidate;
    // Otherwise the first instant whose local day is `day` or later, by bisection (local days only
    // move forward in time in every zone these functions are documented for).
    let low = midnight - MAX_OFFSET_MS - HOUR_MS; // local day < `day` here
    let high = midnight + MAX_OFFSET_MS + HOUR_MS; // local day >= `day` here
    while (high - low > 1) {
      const mid = low + Math.floor((high - low) / 2);
      if (localDay(mid) >= day) high = mid;
      else low = mid;
    }
    return high;
  };

  return Object.freeze({ timeZone, localDay, dayStart });
}

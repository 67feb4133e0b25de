/**
 * Time buckets (src/analytics/time-bucket.ts) against oracles written from the documented rules,
 * sharing no code with it: UTC widths by a direct modular formula and JavaScript Date's calendar;
 * time-zone widths by walking from the instant itself over Intl-formatted local dates (step back
 * an hour at a time while the local date is the same, then bisect to the millisecond), and
 * calendar arithmetic on those dates with Date's UTC calendar.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBucketWidth } from '../../src/analytics/bucket-width.js';
import { bucketGrid, bucketRange, bucketStart, nextBucket } from '../../src/analytics/time-bucket.js';
import { ValidationError } from '../../src/errors.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// Sao Paulo (until 2019) and the Azores move their clocks at midnight: a skipped midnight, and
// (Azores, autumn) a midnight that happens twice, where the day starts at the first one.
const ZONES = [
  'America/New_York',
  'Europe/London',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'Pacific/Chatham',
  'America/Sao_Paulo',
  'Atlantic/Azores',
];
const RUNS = { numRuns: 150 };

// ---- oracles -------------------------------------------------------------------------------

const UNIT_MS: Record<string, number> = { ms: 1, s: SECOND, m: MINUTE, h: HOUR, d: DAY, w: 7 * DAY };
const MONDAY_1969_12_29 = -3 * DAY;

function utcDate(year: number, monthIndex: number, day: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, day);
  return date.getTime();
}

/** The UTC rules: t minus its distance past the grid line below it. */
function oracleUtc(t: number, count: number, unit: string): { start: number; next: number } {
  if (unit === 'mo' || unit === 'y') {
    const date = new Date(t);
    const months = (date.getUTCFullYear() - 1970) * 12 + date.getUTCMonth();
    const size = unit === 'y' ? 12 * count : count;
    const first = months - (((months % size) + size) % size);
    return { start: utcDate(1970, first, 1), next: utcDate(1970, first + size, 1) };
  }
  const size = count * (UNIT_MS[unit] as number);
  const anchor = unit === 'w' ? MONDAY_1969_12_29 : 0;
  const start = t - ((((t - anchor) % size) + size) % size);
  return { start, next: start + size };
}

const partsFormats = new Map<string, Intl.DateTimeFormat>();
function localParts(t: number, zone: string): { y: number; m: number; d: number; hms: string } {
  let format = partsFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      calendar: 'gregory',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hour12: false,
    });
    partsFormats.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(t).map((p) => [p.type, p.value]));
  return {
    y: Number(parts.year),
    m: Number(parts.month),
    d: Number(parts.day),
    hms: `${parts.hour}:${parts.minute}:${parts.second}`,
  };
}
/** The local date of t as a day ordinal (Date's UTC calendar does the counting). */
function localOrdinal(t: number, zone: string): number {
  const { y, m, d } = localParts(t, zone);
  return utcDate(y, m - 1, d) / DAY;
}

/** The first instant of the local date t falls on: back an hour at a time, then bisect. */
function oracleDayStart(t: number, zone: string): number {
  const date = localOrdinal(t, zone);
  let high = t;
  while (localOrdinal(high - HOUR, zone) === date) high -= HOUR;
  let low = high - HOUR;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (localOrdinal(mid, zone) === date) high = mid;
    else low = mid;
  }
  return high;
}

/** The first instant of local date `ordinal`, walking from an instant t near it. */
function oracleStartOfDate(ordinal: number, t: number, zone: string): number {
  let x = t + (ordinal - localOrdinal(t, zone)) * DAY;
  while (localOrdinal(x, zone) > ordinal) x -= HOUR;
  while (localOrdinal(x, zone) < ordinal) x += HOUR;
  return oracleDayStart(x, zone);
}

function firstOrdinal(ordinal: number, count: number, unit: string): { first: number; following: number } {
  if (unit === 'd') {
    const first = ordinal - (((ordinal % count) + count) % count);
    return { first, following: first + count };
  }
  if (unit === 'w') {
    const date = new Date(ordinal * DAY);
    const monday = ordinal - ((date.getUTCDay() + 6) % 7);
    const weeks = Math.round((monday * DAY - MONDAY_1969_12_29) / (7 * DAY));
    const first = monday - (((weeks % count) + count) % count) * 7;
    return { first, following: first + 7 * count };
  }
  const { start, next } = oracleUtc(ordinal * DAY, count, unit);
  return { first: start / DAY, following: next / DAY };
}

function oracleZone(t: number, count: number, unit: string, zone: string): { start: number; next: number } {
  if (unit === 'd' || unit === 'w' || unit === 'mo' || unit === 'y') {
    const { first, following } = firstOrdinal(localOrdinal(t, zone), count, unit);
    return { start: oracleStartOfDate(first, t, zone), next: oracleStartOfDate(following, t, zone) };
  }
  const size = count * (UNIT_MS[unit] as number);
  const dayStart = oracleDayStart(t, zone);
  const nextDayStart = oracleDayStart(dayStart + 25 * HOUR + 30 * MINUTE, zone);
  const start = dayStart + Math.floor((t - dayStart) / size) * size;
  return { start, next: Math.min(start + size, nextDayStart) };
}

// ---- arbitraries ---------------------------------------------------------------------------

const UNITS = ['ms', 's', 'm', 'h', 'd', 'w', 'mo', 'y'] as const;
const width = fc.record({
  unit: fc.constantFrom(...UNITS),
  count: fc.oneof(fc.constantFrom(1, 2, 3, 5, 6, 7, 12, 15, 30), fc.integer({ min: 1, max: 100 })),
});
const subDayWidth = fc.record({
  unit: fc.constantFrom('ms', 's', 'm', 'h'),
  count: fc.constantFrom(1, 7, 15, 30, 45, 90, 1000, 5),
});
/** UTC instants over nearly the whole Date range, pre-1970 included. */
const utcInstant = fc.oneof(
  fc.integer({ min: -8e15, max: 8e15 }),
  fc.integer({ min: -3e12, max: 5e12 }),
  fc.integer({ min: -100, max: 100 }).map((n) => n * HOUR),
);
/** Instants for time-zone tests: 1800-2200, far future (year 9000+), and daylight-saving days. */
const DST_DAYS = [
  '2024-03-10',
  '2024-11-03',
  '1974-01-06',
  '1918-03-31', // New York (1974: year-round DST start)
  '2024-03-31',
  '2024-10-27',
  '1968-02-18',
  '1971-10-31', // London (1968-71: British Standard Time)
  '2024-04-07',
  '2024-10-06',
  '1990-03-04', // Lord Howe: 30-minute shifts
  '1942-09-01',
  '1945-10-15', // Kolkata: war time
  '2024-04-07',
  '2024-09-29', // Chatham
  '2018-11-04',
  '2019-02-17', // Sao Paulo: midnight skipped; 23:00 repeated
  '2024-03-31',
  '2024-10-27', // Azores: midnight skipped; 00:00-01:00 repeated
];
const zoneInstant = fc.oneof(
  fc.integer({ min: Date.UTC(1800, 0, 1), max: Date.UTC(2200, 0, 1) }),
  fc.integer({ min: Date.UTC(9000, 0, 1), max: Date.UTC(9999, 0, 1) }),
  fc
    .tuple(fc.constantFrom(...DST_DAYS), fc.integer({ min: -36 * HOUR, max: 36 * HOUR }))
    .map(([day, delta]) => Date.parse(`${day}T12:00:00Z`) + delta),
);
const zone = fc.constantFrom(...ZONES);

const text = (w: { count: number; unit: string }): string => `${w.count}${w.unit}`;

// ---- properties ----------------------------------------------------------------------------

describe('time buckets in UTC', () => {
  it('match the direct formula, also at and around bucket edges', () => {
    fc.assert(
      fc.property(utcInstant, width, fc.constantFrom(0, -1, 1, null), (t, w, edge) => {
        const at = edge === null ? t : oracleUtc(t, w.count, w.unit).start + edge;
        expect({ start: bucketStart(at, text(w)), next: nextBucket(at, text(w)) }).toEqual(
          oracleUtc(at, w.count, w.unit),
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('contain their instant, are idempotent and tile the line', () => {
    fc.assert(
      fc.property(utcInstant, width, (t, w) => {
        const grid = bucketGrid(text(w));
        const start = grid.start(t);
        const next = grid.next(start);
        expect(start).toBeLessThanOrEqual(t);
        expect(t).toBeLessThan(next);
        expect(grid.start(start)).toBe(start);
        expect(grid.start(next - 1)).toBe(start);
        expect(grid.start(next)).toBe(next);
      }),
      { numRuns: 1000 },
    );
  });

  it('with an origin run through it', () => {
    fc.assert(
      fc.property(utcInstant, fc.integer({ min: -1e13, max: 1e13 }), subDayWidth, (t, origin, w) => {
        const size = w.count * (UNIT_MS[w.unit] as number);
        const start = bucketStart(t, text(w), { origin });
        expect((((start - origin) % size) + size) % size).toBe(0);
        expect(start <= t && t < start + size).toBe(true);
        expect(nextBucket(start, text(w), { origin })).toBe(start + size);
      }),
    );
  });
});

describe('time buckets in a time zone', () => {
  it('match the oracle that walks Intl-formatted local dates', () => {
    fc.assert(
      fc.property(zoneInstant, fc.oneof(width, subDayWidth), zone, (t, w, timezone) => {
        const grid = bucketGrid(text(w), { timezone });
        expect({ start: grid.start(t), next: grid.next(t) }).toEqual(
          oracleZone(t, w.count, w.unit, timezone),
        );
      }),
      RUNS,
    );
  });

  it('contain their instant, are idempotent and tile the line, at edges too', () => {
    fc.assert(
      fc.property(
        zoneInstant,
        fc.oneof(width, subDayWidth),
        zone,
        fc.constantFrom(0, -1, 1),
        (t, w, timezone, edge) => {
          const grid = bucketGrid(text(w), { timezone });
          const at = grid.start(t) + edge;
          const start = grid.start(at);
          const next = grid.next(start);
          expect(start <= at && at < next).toBe(true);
          expect(grid.start(start)).toBe(start);
          expect(grid.start(next - 1)).toBe(start);
          expect(grid.start(next)).toBe(next);
          expect(grid.next(next - 1)).toBe(next);
        },
      ),
      RUNS,
    );
  });

  it('start a day at local midnight, or at the transition where midnight is skipped', () => {
    fc.assert(
      fc.property(zoneInstant, zone, (t, timezone) => {
        const start = bucketStart(t, '1d', { timezone });
        expect(localOrdinal(start - 1, timezone)).toBe(localOrdinal(start, timezone) - 1);
        const { hms } = localParts(start, timezone);
        if (hms !== '00:00:00') {
          // Midnight was skipped: the wall clock jumped forward across it at `start`.
          expect(localParts(start - 1, timezone).hms > hms).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('make a daylight-saving day one bucket of 23, 25, 23.5 or 24.5 hours', () => {
    const cases: [string, string, number][] = [
      ['America/New_York', '2024-03-10', 23],
      ['America/New_York', '2024-11-03', 25],
      ['Europe/London', '2024-03-31', 23],
      ['Europe/London', '2024-10-27', 25],
      ['Australia/Lord_Howe', '2024-04-07', 24.5],
      ['Australia/Lord_Howe', '2024-10-06', 23.5],
      ['Pacific/Chatham', '2024-04-07', 25],
      ['Pacific/Chatham', '2024-09-29', 23],
      ['Asia/Kolkata', '2024-03-10', 24],
      ['America/Sao_Paulo', '2019-02-16', 25],
      ['Atlantic/Azores', '2024-10-27', 25],
    ];
    for (const [timezone, day, hours] of cases) {
      const noon = Date.parse(`${day}T12:00:00Z`);
      const t = oracleStartOfDate(Date.parse(`${day}T00:00:00Z`) / DAY, noon, timezone) + HOUR;
      const start = bucketStart(t, '1d', { timezone });
      expect(localParts(start, timezone).hms).toBe('00:00:00');
      expect(nextBucket(start, '1d', { timezone }) - start).toBe(hours * HOUR);
      // The hour buckets of that day are its hours: 23, 25, ... of them (24.5 → 25 with a half one).
      const hoursOfDay = bucketRange(start, nextBucket(start, '1d', { timezone }), '1h', { timezone });
      expect(hoursOfDay.length).toBe(Math.ceil(hours));
    }
  });
});

describe('sub-day buckets in a time zone (the documented choice)', () => {
  it('count elapsed time from local midnight, cut at the next one', () => {
    // Kolkata (+05:30): 7h buckets start at local 00:00, 07:00, 14:00, 21:00; the last is 3 hours.
    const kolkataMidnight = Date.parse('2024-03-09T18:30:00Z');
    expect(bucketRange(kolkataMidnight, kolkataMidnight + DAY, '7h', { timezone: 'Asia/Kolkata' })).toEqual([
      kolkataMidnight,
      kolkataMidnight + 7 * HOUR,
      kolkataMidnight + 14 * HOUR,
      kolkataMidnight + 21 * HOUR,
    ]);
    expect(nextBucket(kolkataMidnight + 21 * HOUR, '7h', { timezone: 'Asia/Kolkata' })).toBe(
      kolkataMidnight + DAY,
    );
    // Lord Howe, 2024-10-06: 02:00 (+10:30) becomes 02:30 (+11). Midnight is 2024-10-05T13:30Z;
    // hours keep counting elapsed time, so after the shift they start at :30 local.
    const lordHoweMidnight = Date.parse('2024-10-05T13:30:00Z');
    const hours = bucketRange(lordHoweMidnight, lordHoweMidnight + 4 * HOUR, '1h', {
      timezone: 'Australia/Lord_Howe',
    });
    expect(hours).toEqual([0, 1, 2, 3].map((n) => lordHoweMidnight + n * HOUR));
    expect(hours.map((start) => localParts(start, 'Australia/Lord_Howe').hms)).toEqual([
      '00:00:00',
      '01:00:00',
      '02:30:00',
      '03:30:00',
    ]);
  });
});

describe('DuckDB time_bucket values in UTC', () => {
  // Each expected value is worked out by hand: 2024-03-10 is day 19 792 after 1970-01-01
  // (54 years with 13 leap days = 19 723 days to 2024-01-01, + 31 + 29 + 9), so its midnight is
  // 19 792 × 86 400 000 = 1 710 028 800 000 ms. t is 12:34:56.789 that day.
  const midnight = 1_710_028_800_000;
  const t = midnight + 12 * HOUR + 34 * MINUTE + 56 * SECOND + 789;

  it('agree for widths that divide a day', () => {
    expect(bucketStart(t, '1h')).toBe(1_710_072_000_000); // time_bucket(INTERVAL 1 HOUR, ...) → 12:00
    expect(bucketStart(t, '15m')).toBe(midnight + 12 * HOUR + 30 * MINUTE); // → 12:30
    expect(bucketStart(t, '10s')).toBe(midnight + 12 * HOUR + 34 * MINUTE + 50 * SECOND); // → 12:34:50
    expect(bucketStart(t, '1d')).toBe(midnight); // → 2024-03-10
    expect(bucketStart(t, '6h')).toBe(midnight + 12 * HOUR); // → 12:00
    expect(bucketStart(t, '250ms')).toBe(t - 39); // → 12:34:56.750
  });

  it('agree for weeks (Monday), months and years', () => {
    // 2024-03-10 is a Sunday: its ISO week began Monday 2024-03-04, 6 days earlier.
    expect(bucketStart(t, '1w')).toBe(midnight - 6 * DAY);
    expect(bucketStart(t, '1mo')).toBe(midnight - 9 * DAY); // 2024-03-01
    expect(bucketStart(t, '1y')).toBe(midnight - (31 + 29 + 9) * DAY); // 2024-01-01
    expect(bucketStart(t, '3mo')).toBe(midnight - (31 + 29 + 9) * DAY); // quarter from January
  });

  it('agree before 1970', () => {
    // 1969-07-20 20:17:40 UTC: 165 days before 1970-01-01 at 20:17:40.
    const landing = -165 * DAY + 20 * HOUR + 17 * MINUTE + 40 * SECOND;
    expect(bucketStart(landing, '1d')).toBe(-165 * DAY);
    expect(bucketStart(landing, '1h')).toBe(-165 * DAY + 20 * HOUR);
    expect(bucketStart(landing, '1mo')).toBe(-165 * DAY - 19 * DAY); // 1969-07-01
  });
});

describe('bad input', () => {
  it('refuses bad widths, zones, origins and ranges with a ValidationError naming the value', () => {
    for (const bad of ['', '0h', '1.5h', '1M', 'h', '-1d', '1 h', '1hours', 5, null]) {
      expect(() => parseBucketWidth(bad)).toThrow(ValidationError);
      expect(() => parseBucketWidth(bad)).toThrow(/bucket width like/);
    }
    expect(() => bucketStart(0, '1d', { timezone: 'Mars/Olympus' })).toThrow(
      /timezone: must be an IANA.*Mars/,
    );
    expect(() => bucketStart(0, '1mo', { origin: 5 })).toThrow(/origin: applies only/);
    expect(() => bucketStart(0, '1h', { origin: 5, timezone: 'UTC' })).toThrow(/origin: applies only/);
    expect(() => bucketStart(1.5, '1h')).toThrow(ValidationError);
    expect(() => bucketRange(10, 5, '1h')).toThrow(/from: must not be after to/);
    expect(() => bucketRange(0, DAY * 30, '1ms')).toThrow(/more than 1000000 buckets/);
  });

  it('freezes a parsed width', () => {
    const spec = parseBucketWidth('3mo');
    expect(spec).toEqual({ text: '3mo', count: 3, unit: 'mo', fixedMs: null });
    expect(Object.isFrozen(spec)).toBe(true);
    expect(parseBucketWidth('2w').fixedMs).toBe(14 * DAY);
  });

  it('lists the buckets overlapping a range, the first one at or before from', () => {
    expect(bucketRange(90 * MINUTE, 4 * HOUR, '1h')).toEqual([HOUR, 2 * HOUR, 3 * HOUR]);
    expect(bucketRange(5, 5, '1h')).toEqual([]);
  });
});

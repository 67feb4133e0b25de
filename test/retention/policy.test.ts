import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/index.js';
import { formatDuration, parseDuration } from '../../src/events/duration.js';
import { RetentionPolicy } from '../../src/retention/policy.js';

const DAY = 86_400_000;

describe('durations', () => {
  it('parses every unit and plain milliseconds', () => {
    expect(parseDuration('7d', 'x')).toBe(7 * DAY);
    expect(parseDuration('12h', 'x')).toBe(12 * 3_600_000);
    expect(parseDuration('1.5h', 'x')).toBe(5_400_000);
    expect(parseDuration('15m', 'x')).toBe(900_000);
    expect(parseDuration('30s', 'x')).toBe(30_000);
    expect(parseDuration('250ms', 'x')).toBe(250);
    expect(parseDuration('2w', 'x')).toBe(14 * DAY);
    expect(parseDuration('1y', 'x')).toBe(365 * DAY);
    expect(parseDuration(1234, 'x')).toBe(1234);
  });

  it.each([['30'], ['d'], ['-1d'], ['0d'], [0], [-5], [Number.NaN], [Infinity], [null], [{}], ['7 days']])(
    'rejects %j naming the option',
    (value) => {
      const error = (() => {
        try {
          parseDuration(value, 'retention.maxAge');
        } catch (caught) {
          return caught;
        }
      })() as ValidationError;
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.code).toBe('INVALID_OPTION');
      expect(error.message).toMatch(/^retention\.maxAge: must be a duration like "30d"/);
    },
  );

  it('formats back to the largest exact unit', () => {
    expect(formatDuration(30 * DAY)).toBe('30d');
    expect(formatDuration(14 * DAY)).toBe('2w');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(1500)).toBe('1500ms');
  });
});

describe('retention policies', () => {
  it('with no policy nothing expires', () => {
    const policy = RetentionPolicy.from(undefined);
    expect(policy.active).toBe(false);
    expect(policy.maxAgeOf('ANY')).toBe(Infinity);
  });

  it('exact types beat patterns, longer patterns beat shorter ones, the default covers the rest', () => {
    const policy = RetentionPolicy.from({
      maxAge: '30d',
      types: { 'DEBUG.*': '7d', 'DEBUG.TRACE.*': '1d', 'DEBUG.KEEP': 'forever', 'AUDIT.*': '365d' },
    });
    expect(policy.maxAgeOf('DEBUG.X')).toBe(7 * DAY);
    expect(policy.maxAgeOf('DEBUG.TRACE.SQL')).toBe(DAY);
    expect(policy.maxAgeOf('DEBUG.KEEP')).toBe(Infinity);
    expect(policy.maxAgeOf('AUDIT.LOGIN')).toBe(365 * DAY);
    expect(policy.maxAgeOf('ORDER.PLACED')).toBe(30 * DAY);
    // A dot in a pattern is literal, not "any character".
    expect(policy.maxAgeOf('DEBUGxX')).toBe(30 * DAY);
    expect(policy.describe()).toEqual({
      maxAge: '30d',
      types: { 'DEBUG.KEEP': 'forever', 'DEBUG.TRACE.*': '1d', 'AUDIT.*': '1y', 'DEBUG.*': '1w' },
      maxEvents: null,
      archive: null,
      schedule: '0 * * * *',
      cleanupThreshold: 0.2,
      onExpired: 'reject',
    });
  });

  it('knows its archive directory, if one is set; an archive alone expires nothing', () => {
    expect(RetentionPolicy.none().archiveDir).toBeUndefined();
    expect(RetentionPolicy.from({ maxAge: '1d' }).archiveDir).toBeUndefined();
    const policy = RetentionPolicy.from({ archive: { dir: './cold' } });
    expect(policy.archiveDir).toBe('./cold');
    expect(policy.active).toBe(false);
  });

  it.each([
    [{ schedule: 'every hour' }, 'retention.schedule'],
    [{ cleanupThreshold: 1.5 }, 'retention.cleanupThreshold'],
    [{ cleanupThreshold: '20%' }, 'retention.cleanupThreshold'],
    [{ schedule: true }, 'retention.schedule'],
    [{ maxAge: '30' }, 'retention.maxAge'],
    [{ types: { 'DEBUG.*': 'soon' } }, 'retention.types["DEBUG.*"]'],
    [{ types: { '': '1d' } }, 'retention.types[""]'],
    [{ types: ['x'] }, 'retention.types'],
    [{ maxEvents: 0 }, 'retention.maxEvents'],
    [{ maxEvents: 1.5 }, 'retention.maxEvents'],
    [{ maxAges: '1d' }, 'retention.maxAges'],
    [{ archive: './archive' }, 'retention.archive'],
    [{ archive: { dir: '' } }, 'retention.archive.dir'],
    [{ archive: { dir: 3 } }, 'retention.archive.dir'],
    [{ archive: { dir: './a', compress: true } }, 'retention.archive.compress'],
    ['30d', 'retention'],
  ])('rejects %j at %s', (input, path) => {
    expect(() => RetentionPolicy.from(input)).toThrow(ValidationError);
    expect(() => RetentionPolicy.from(input)).toThrow(new RegExp(`^${path.replace(/[[\]."*]/g, '\\$&')}: `));
  });
});

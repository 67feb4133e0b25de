import { ValidationError } from '../../errors.js';
import type { MonitorOptions } from '../../store/store-monitor.js';
import { describe } from '../../support/describe.js';

/** The monitor's settings, every one filled in. */
export type MonitorSettings = Required<MonitorOptions>;

export const MONITOR_DEFAULTS: MonitorSettings = Object.freeze({
  slowQueryMs: 100,
  outlierFactor: 10,
  outlierFloorMs: 1,
  slowQueryLogSize: 1000,
  slowQueryFileBytes: 10 * 1024 * 1024,
  slowQueryFiles: 4,
  maxShapes: 100,
  indexUsageDays: 31,
  snapshotIntervalMs: 10_000,
});

/** Each setting: whether it must be a whole number, and its least value. */
const RULES: Record<keyof MonitorSettings, { integer: boolean; min: number; expected: string }> = {
  slowQueryMs: { integer: false, min: 0, expected: 'a number of milliseconds ≥ 0' },
  outlierFactor: { integer: false, min: 0, expected: 'a factor ≥ 1, or 0 to turn outlier detection off' },
  outlierFloorMs: { integer: false, min: 0, expected: 'a number of milliseconds ≥ 0' },
  slowQueryLogSize: { integer: true, min: 1, expected: 'a whole number of entries ≥ 1' },
  slowQueryFileBytes: { integer: true, min: 1024, expected: 'a whole number of bytes ≥ 1024' },
  slowQueryFiles: { integer: true, min: 0, expected: 'a whole number of rotated files ≥ 0' },
  maxShapes: { integer: true, min: 1, expected: 'a whole number of query shapes ≥ 1' },
  indexUsageDays: { integer: true, min: 1, expected: 'a whole number of days ≥ 1' },
  snapshotIntervalMs: { integer: false, min: 0, expected: 'a number of milliseconds ≥ 0 (0: only at close)' },
};

/**
 * Checks openEventStore's `monitor` option: undefined or true (the defaults), false (off), or an
 * object of known settings. A bad one throws INVALID_OPTION naming `monitor.<setting>`.
 */
export function resolveMonitorOptions(value: unknown): MonitorSettings | false {
  if (value === false) return false;
  if (value === undefined || value === true) return MONITOR_DEFAULTS;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError(
      'monitor',
      `must be false (off) or an object of settings (${Object.keys(RULES).join(', ')}), got ${describe(value)}`,
      'INVALID_OPTION',
    );
  }
  const settings: Record<string, number> = { ...MONITOR_DEFAULTS };
  for (const [key, given] of Object.entries(value as Record<string, unknown>)) {
    const rule = RULES[key as keyof MonitorSettings];
    if (rule === undefined) {
      throw new ValidationError(
        `monitor.${key}`,
        `is not a monitor setting; expected one of ${Object.keys(RULES).join(', ')}`,
        'INVALID_OPTION',
      );
    }
    if (given === undefined) continue;
    const bad =
      typeof given !== 'number' ||
      !Number.isFinite(given) ||
      given < rule.min ||
      (rule.integer && !Number.isInteger(given)) ||
      (key === 'outlierFactor' && given > 0 && given < 1);
    if (bad) {
      throw new ValidationError(
        `monitor.${key}`,
        `must be ${rule.expected}, got ${describe(given)}`,
        'INVALID_OPTION',
      );
    }
    settings[key] = given;
  }
  return settings as MonitorSettings;
}

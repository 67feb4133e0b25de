/** Number and unit formatting shared by the CLI and the demo, so both read the same way. */

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 1234567 → `1,234,567`. */
export function formatInt(value: number): string {
  return integer.format(value);
}

/** A value with a fixed number of decimals and thousands separators. */
export function formatFixed(value: number, decimals: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** Bytes in binary units: `512 B`, `1.5 KiB`, `52.3 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Milliseconds as `850 ms`, `2.41 s` or `3 min 12 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : ms.toFixed(0)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms - minutes * 60_000) / 1000)} s`;
}

/** Items per second over `ms`, guarded against a zero elapsed time. */
export function formatRate(count: number, ms: number, unit: string): string {
  const perSecond = ms > 0 ? (count * 1000) / ms : 0;
  return `${formatInt(perSecond)} ${unit}/s`;
}

/** `1 event`, `2 events`. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${formatInt(count)} ${count === 1 ? singular : pluralForm}`;
}

// Percentiles, ratios and plain-text / Markdown tables.

/** Nearest-rank percentile of an ascending-sorted numeric array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** Summarises latency samples given in nanoseconds; the result is in microseconds. */
export function summarize(samplesNs) {
  const us = Float64Array.from(samplesNs, (ns) => ns / 1000).sort();
  let sum = 0;
  for (const v of us) sum += v;
  return {
    n: us.length,
    p50: percentile(us, 50),
    p95: percentile(us, 95),
    p99: percentile(us, 99),
    mean: us.length ? sum / us.length : NaN,
    max: us.length ? us[us.length - 1] : NaN,
  };
}

/** How many times slower `other` is than `base` (>1: base is faster). */
export function ratio(other, base) {
  if (!Number.isFinite(other) || !Number.isFinite(base) || base <= 0) return NaN;
  return other / base;
}

export function fmtNum(v, digits = 0) {
  if (v === undefined || v === null || Number.isNaN(v)) return '—';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Latency in µs with sensible precision. */
export function fmtUs(v) {
  if (v === undefined || v === null || Number.isNaN(v)) return '—';
  if (v < 10) return v.toFixed(2);
  if (v < 100) return v.toFixed(1);
  return fmtNum(v);
}

export function fmtRatio(v) {
  if (v === undefined || v === null || Number.isNaN(v)) return '—';
  return v >= 100 ? `${fmtNum(v)}×` : `${v.toFixed(v >= 10 ? 1 : 2)}×`;
}

export const fmtMB = (bytes) =>
  bytes === undefined || Number.isNaN(bytes) ? '—' : fmtNum(bytes / 1048576, 1);

export function fmtCount(n) {
  if (n >= 1e6 && n % 1e6 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 1e3 === 0) return `${n / 1e3}K`;
  return fmtNum(n);
}

const isNumeric = (s) => /^[-+]?[\d,.]+(\s?[%×KMµs]*)?$/.test(s) || s === '—';

/** A fixed-width text table; numeric-looking cells are right-aligned. */
export function textTable(headers, rows) {
  const cells = [headers, ...rows].map((r) => r.map((c) => String(c ?? '')));
  const widths = headers.map((_, k) => Math.max(...cells.map((r) => (r[k] ?? '').length)));
  const line = (r) =>
    r.map((c, k) => (k > 0 && isNumeric(c) ? c.padStart(widths[k]) : c.padEnd(widths[k]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join(
    '\n',
  );
}

/** align: 'l' or 'r' per column; default: the first column left, the others right. */
export function markdownTable(headers, rows, align = headers.map((_, k) => (k === 0 ? 'l' : 'r'))) {
  const esc = (c) => String(c ?? '').replace(/\|/g, '\\|');
  const rule = align.map((a) => (a === 'r' ? '---:' : '---'));
  return [headers, rule, ...rows].map((r) => `| ${r.map(esc).join(' | ')} |`).join('\n');
}

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

/**
 * Latencies in fixed memory: log buckets 1% wide from 0.1 µs (up to 40 minutes), so a run of any
 * length keeps the same few kilobytes per series, and percentiles come out within 1% (the upper
 * bound of the bucket holding the nearest rank). An hour-long soak keeping every sample in arrays
 * grew its own JS heap by tens of MiB, which blurred the memory it reports.
 */
export class LatencyHistogram {
  static #GROWTH = Math.log(1.01);
  static #MIN_US = 0.1;
  #counts = new Float64Array(2400);
  #n = 0;
  #sum = 0;
  #max = NaN;

  add(us) {
    const bucket =
      us <= LatencyHistogram.#MIN_US
        ? 0
        : Math.min(
            this.#counts.length - 1,
            Math.ceil(Math.log(us / LatencyHistogram.#MIN_US) / LatencyHistogram.#GROWTH),
          );
    this.#counts[bucket]++;
    this.#n++;
    this.#sum += us;
    if (!(us <= this.#max)) this.#max = us;
  }

  percentile(p) {
    if (this.#n === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#n));
    let seen = 0;
    for (let bucket = 0; bucket < this.#counts.length; bucket++) {
      seen += this.#counts[bucket];
      if (seen >= rank)
        return Math.min(this.#max, LatencyHistogram.#MIN_US * Math.exp(bucket * LatencyHistogram.#GROWTH));
    }
    return this.#max;
  }

  /** The same fields as summarize(). */
  summary() {
    return {
      n: this.#n,
      p50: this.percentile(50),
      p95: this.percentile(95),
      p99: this.percentile(99),
      mean: this.#n ? this.#sum / this.#n : NaN,
      max: this.#max,
    };
  }
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

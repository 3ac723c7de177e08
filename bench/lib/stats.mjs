// Small statistics over samples (milliseconds, KiB, …).

/** Nearest-rank percentile (p in 0..100) of the samples; undefined for none. */
export function percentile(samples, p) {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

export function median(samples) {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function mean(samples) {
  return samples.length === 0 ? undefined : samples.reduce((a, b) => a + b, 0) / samples.length;
}

export function max(samples) {
  return samples.length === 0 ? undefined : Math.max(...samples);
}

export function min(samples) {
  return samples.length === 0 ? undefined : Math.min(...samples);
}

/** p50, p90, p99, max, mean and count of latency samples. */
export function summarize(samples) {
  return {
    count: samples.length,
    p50: percentile(samples, 50),
    p90: percentile(samples, 90),
    p99: percentile(samples, 99),
    max: max(samples),
    mean: mean(samples),
  };
}

export function round(x, digits = 1) {
  if (x === undefined || x === null || Number.isNaN(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

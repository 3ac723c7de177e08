/** Byte order, and binary search in arrays kept in it. */

/** Byte-order comparison of strings (what Go's sort.Strings does), not locale order. */
export function compareBytes(a: string, b: string): number {
  // UTF-16 code unit order is UTF-8 byte order except astral characters against U+E000–U+FFFF,
  // which keys (host names, CIDRs) do not hold.
  return a < b ? -1 : a > b ? 1 : 0;
}

/** lowerBound's `by` for an array of the strings themselves. */
export function itself(text: string): string {
  return text;
}

/** The first index whose element's `by` is not below `target`. */
export function lowerBound<T>(sorted: readonly T[], target: string, by: (item: T) => string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (by(sorted[mid] as T) < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Go-style durations ("250ms", "1.5s", "2m", "1h"), the form confd users already write. */
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds, or undefined when `text` is not a duration. A bare number means seconds. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(trimmed); m !== null; m = re.exec(trimmed)) {
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
    end = re.lastIndex;
  }
  if (end === 0 || end !== trimmed.length) return undefined;
  return Math.round(total);
}

export interface WaitWindow {
  /** Render once the store has been quiet this long. */
  minMs: number;
  /** …and at the latest this long after the first change of a burst. */
  maxMs: number;
}

/** "MIN[:MAX]"; MAX defaults to 10 × MIN and may not be below MIN. */
export function parseWait(text: string): WaitWindow | string {
  const [minText, maxText, extra] = text.split(":");
  if (extra !== undefined) return `wait must be MIN or MIN:MAX, got ${JSON.stringify(text)}`;
  const minMs = parseDuration(minText ?? "");
  if (minMs === undefined) return `wait: ${JSON.stringify(minText)} is not a duration (like "100ms" or "1s")`;
  if (maxText === undefined) return { minMs, maxMs: minMs * 10 };
  const maxMs = parseDuration(maxText);
  if (maxMs === undefined) return `wait: ${JSON.stringify(maxText)} is not a duration (like "100ms" or "1s")`;
  if (maxMs < minMs) return `wait: MAX ${maxText} is shorter than MIN ${minText}`;
  return { minMs, maxMs };
}

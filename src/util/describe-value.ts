/**
 * A value as an error message shows it: strings JSON-quoted (so newlines and quotes stay visible),
 * anything else as JSON, clipped so a whole document cannot flood a log line.
 */

/** Enough of a bad value to recognise it. */
const MAX_SHOWN = 80;

export function describeValue(value: unknown): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  const chars = Array.from(text);
  const clipped = chars.length > MAX_SHOWN ? chars.slice(0, MAX_SHOWN).join("") : text;
  const shown = typeof value === "string" ? JSON.stringify(clipped) : clipped;
  return clipped === text ? shown : `${shown}...`;
}

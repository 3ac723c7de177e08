/**
 * A store key as far as a static look can know it: literal text, environment variables (`getenv "NODENAME"`,
 * `//NODENAME`) and unknown runs (a name from `ls`), so `perch check` flags only a read that cannot be inside `keys`.
 */
import { globToRegExp } from "../mirror/glob.js";

export type PatternPart = { text: string } | { env: string } | { any: true };
export type KeyPattern = readonly PatternPart[];

/** How a store helper reads: one exact key, a glob of keys, or the children of a path. */
export type ReadKind = "key" | "glob" | "tree";

export function textPattern(text: string): KeyPattern {
  return text === "" ? [] : [{ text }];
}

export const ANY: KeyPattern = [{ any: true }];

/** The parts one after the other, adjacent text merged (so a literal stays one part). */
export function joinPatterns(...patterns: KeyPattern[]): KeyPattern {
  const out: PatternPart[] = [];
  for (const part of patterns.flat()) {
    const last = out[out.length - 1];
    if ("text" in part && last !== undefined && "text" in last) out[out.length - 1] = { text: last.text + part.text };
    else if (!("text" in part) || part.text !== "") out.push(part);
  }
  return out;
}

/** The text of a pattern that is all literal, else undefined. */
export function literalText(pattern: KeyPattern): string | undefined {
  if (!pattern.every((p) => "text" in p)) return undefined;
  return pattern.map((p) => (p as { text: string }).text).join("");
}

/** `<NODENAME>` for an environment variable, `*` for an unknown name. */
export function showPattern(pattern: KeyPattern): string {
  return pattern.map((p) => ("text" in p ? p.text : "env" in p ? `<${p.env}>` : "*")).join("");
}

/** A resource key or prefix with Calico's `//NODENAME` kept symbolic. */
export function resourcePattern(path: string): KeyPattern {
  const pieces = path.split("//NODENAME");
  return joinPatterns(...pieces.flatMap((piece, i) => (i === 0 ? [textPattern(piece)] : [textPattern("/"), [{ env: "NODENAME" }], textPattern(piece)])));
}

type Segment = PatternPart[];

/** Path segments (empty ones dropped, so `/a//b` and `a/b` both give [a, b]). */
function segments(pattern: KeyPattern): Segment[] {
  const out: Segment[] = [[]];
  for (const part of pattern) {
    if (!("text" in part)) {
      (out[out.length - 1] as Segment).push(part);
      continue;
    }
    part.text.split("/").forEach((piece, i) => {
      if (i > 0) out.push([]);
      if (piece !== "") (out[out.length - 1] as Segment).push({ text: piece });
    });
  }
  return out.filter((s) => s.length > 0);
}

/** Whether a segment of a read may name the same segment as one of a resource key (unknowns may). */
function mayMatch(read: Segment, key: Segment, glob: boolean): boolean {
  const readText = literalText(read);
  const keyText = literalText(key);
  if (readText === undefined || keyText === undefined) return true;
  if (!glob) return readText === keyText;
  try {
    return globToRegExp(readText).test(keyText);
  } catch {
    // A glob that only parses whole (a class around "/"): no verdict for this segment.
    return true;
  }
}

/**
 * Whether a read can see anything under one of `keys` (whole segments): a key or glob must lie at or below a key
 * path; a listing's path and a key path must be one above the other.
 */
export function mayReadInside(read: KeyPattern, kind: ReadKind, keys: readonly KeyPattern[]): boolean {
  const r = segments(read);
  return keys.some((keyPattern) => {
    const k = segments(keyPattern);
    if (kind !== "tree" && r.length < k.length) return false;
    const shared = Math.min(r.length, k.length);
    for (let i = 0; i < shared; i++) if (!mayMatch(r[i] as Segment, k[i] as Segment, kind === "glob")) return false;
    return true;
  });
}

/**
 * Go's `path.Match` globs, as confd's `gets`/`getvs` take them: `*` is any run of non-`/` characters,
 * `?` one non-`/` character, `[...]` a class (`^` negates, `a-z` ranges), `\` escapes.
 */
import { PerchError } from "../errors.js";
import { boundedCache } from "../util/bounded-cache.js";
import { escapeRegExp } from "../util/escape-regexp.js";

/** Templates repeat a few patterns on every render, but one built from store values is a new entry per value. */
export const GLOB_CACHE_MAX = 1000;

// "u": `?` and `*` count code points, as Go's path.Match counts runes (without it, `?` would
// match half of a character outside the BMP and "/?" would not match "/😀").
export const globToRegExp = boundedCache(GLOB_CACHE_MAX, (pattern) => new RegExp(`^${translate(pattern)}$`, "su"));

/** The part of a pattern before its first metacharacter: the range a sorted index must scan. */
export function literalPrefix(pattern: string): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "*" || c === "?" || c === "[") return out;
    if (c === "\\") {
      i++;
      if (i < pattern.length) out += pattern[i];
      continue;
    }
    out += c;
  }
  return out;
}

function translate(pattern: string): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "\\") {
      i++;
      if (i >= pattern.length) throw badPattern(pattern, "trailing backslash");
      out += escapeRegExp(pattern[i] as string);
    } else if (c === "[") {
      const end = classEnd(pattern, i);
      out += translateClass(pattern, pattern.slice(i + 1, end));
      i = end;
    } else out += escapeRegExp(c);
  }
  return out;
}

function classEnd(pattern: string, open: number): number {
  let i = open + 1;
  if (pattern[i] === "^") i++;
  for (; i < pattern.length; i++) {
    if (pattern[i] === "\\") i++;
    else if (pattern[i] === "]" && i > open + 1 + (pattern[open + 1] === "^" ? 1 : 0)) return i;
  }
  throw badPattern(pattern, "unclosed character class");
}

function translateClass(pattern: string, body: string): string {
  let negate = false;
  let i = 0;
  if (body[0] === "^") {
    negate = true;
    i = 1;
  }
  if (i >= body.length) throw badPattern(pattern, "empty character class");
  let out = "";
  for (; i < body.length; i++) {
    let c = body[i] as string;
    if (c === "\\") c = body[++i] ?? "";
    if (c === "") throw badPattern(pattern, "trailing backslash in character class");
    if (c === "-" && out === "") throw badPattern(pattern, "range without a start");
    out += c === "-" ? "-" : escapeClassChar(c);
  }
  if (out.endsWith("-")) throw badPattern(pattern, "range without an end");
  // Go's classes never match '/', negated or not.
  return negate ? `[^/${out}]` : `(?!/)[${out}]`;
}

function badPattern(pattern: string, why: string): PerchError {
  return new PerchError(`bad glob pattern ${JSON.stringify(pattern)}: ${why}`, { key: pattern });
}

function escapeClassChar(c: string): string {
  return c.replace(/[\]\\^-]/g, "\\$&");
}

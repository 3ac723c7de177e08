// Over 300 lines: one table, so the whole helper set reads in one place; each entry is a few lines.
/**
 * The general helpers, with Go's semantics where confd's function map has them (what authors know), except that
 * where Go prints an error marker (`%!d(string=x)`) they throw: a bad value fails the render, not the BIRD config.
 */
import { createHash } from "node:crypto";
import { PerchError, errorMessage } from "../../errors.js";
import type { HelperSpec, HelperTable, RenderScope } from "../helper-spec.js";
import { valueError } from "./formatters.js";
import { integer } from "./integer.js";
import { printfHelper } from "./printf.js";

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Go template truth: false, 0, "", nil, and empty collections are false. */
function truthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isObject(value)) return Object.keys(value).length > 0;
  return true;
}

/** Scalars read as text; anything else is a template mistake worth failing on. */
function text(helper: string, value: unknown, scope: RenderScope): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw valueError(`${helper}: expected a string, got`, value, scope);
}

/*
 * Helpers index their argument lists rather than destructure them: destructuring runs the array
 * iterator, which costs on every call until the optimizing compiler takes over (a cold render).
 */

function arithmetic(
  name: string,
  doc: string,
  op: (a: number, b: number) => number,
  divides = false,
): HelperSpec {
  return {
    arity: [2, 2],
    doc,
    fn: (args, scope) => {
      const x = integer(name, args[0], scope);
      const y = integer(name, args[1], scope);
      if (divides && y === 0) throw new PerchError(`${name}: division by zero`);
      // `+ 0` turns -0 into 0: Go ints have no negative zero, and it would print as "0" anyway.
      const result = op(x, y) + 0;
      if (!Number.isSafeInteger(result)) throw new PerchError(`${name}: result out of range: ${result}`);
      return result;
    },
  };
}

function comparable(helper: string, value: unknown, scope: RenderScope): string | number {
  if (typeof value === "string" || typeof value === "number") return value;
  if (typeof value === "boolean") return String(value);
  throw valueError(`${helper}: cannot compare`, value, scope);
}

/** Numbers numerically when both are numbers, otherwise as strings in (UTF-8) byte order, like Go. */
function compare(helper: string, a: unknown, b: unknown, scope: RenderScope): number {
  const x = comparable(helper, a, scope);
  const y = comparable(helper, b, scope);
  if (typeof x === "number" && typeof y === "number") return x < y ? -1 : x > y ? 1 : 0;
  return compareUtf8(String(x), String(y));
}

function isSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdfff;
}

/**
 * Buffer.compare of the UTF-8 bytes, encoding only around surrogates (pairs, and lone ones that encode as U+FFFD):
 * elsewhere UTF-16 units are in code point order, which UTF-8 keeps.
 */
function compareUtf8(x: string, y: string): number {
  if (x === y) return 0;
  const common = Math.min(x.length, y.length);
  let i = 0;
  while (i < common && x.charCodeAt(i) === y.charCodeAt(i)) i++;
  const a = i < x.length ? x.charCodeAt(i) : -1;
  const b = i < y.length ? y.charCodeAt(i) : -1;
  if (!isSurrogate(a) && !isSurrogate(b)) return a < b ? -1 : 1;
  return Buffer.compare(Buffer.from(x), Buffer.from(y));
}

function isNil(value: unknown): value is null | undefined {
  return value === null || value === undefined;
}

/** nil equals only nil, so a missing value never compares equal to "" or 0. */
function equal(helper: string, a: unknown, b: unknown, scope: RenderScope): boolean {
  if (isNil(a) || isNil(b)) return isNil(a) && isNil(b);
  return compare(helper, a, b, scope) === 0;
}

function ordering(name: string, doc: string, holds: (order: number) => boolean): HelperSpec {
  return { arity: [2, 2], doc, fn: (args, scope) => holds(compare(name, args[0], args[1], scope)) };
}

/** Go's `and`/`or`: the first argument whose truth is `stopAt`, else the last argument. */
function decide(args: unknown[], stopAt: boolean): unknown {
  for (const arg of args) if (truthy(arg) === stopAt) return arg;
  return args[args.length - 1];
}

function stringPair(name: string, doc: string, op: (s: string, t: string) => unknown): HelperSpec {
  return { arity: [2, 2], doc, fn: (args, scope) => op(text(name, args[0], scope), text(name, args[1], scope)) };
}

function stringMap(name: string, doc: string, map: (s: string) => string): HelperSpec {
  return { arity: [1, 1], doc, fn: (args, scope) => map(text(name, args[0], scope)) };
}

/** Go path.Clean: collapse slashes, drop ".", resolve ".." lexically; "" becomes ".". */
function goClean(path: string): string {
  const rooted = path.startsWith("/");
  const out: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment !== "..") out.push(segment);
    else if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else if (!rooted) out.push("..");
  }
  const joined = out.join("/");
  return rooted ? `/${joined}` : joined || ".";
}

function goBase(path: string): string {
  if (path === "") return ".";
  const trimmed = path.replace(/\/+$/, "");
  return trimmed === "" ? "/" : trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

function goDir(path: string): string {
  return goClean(path.slice(0, path.lastIndexOf("/") + 1));
}

/** Go strings.Split: an empty separator splits into characters (code points). */
function goSplit(s: string, sep: string): string[] {
  return sep === "" ? Array.from(s) : s.split(sep);
}

/**
 * Go strings.Replace: the first `n` non-overlapping matches (all when n < 0). An empty `old`
 * matches at the start and after every character.
 */
function goReplace(s: string, old: string, replacement: string, n: number): string {
  const parts = old === "" ? ["", ...Array.from(s), ""] : s.split(old);
  const count = n < 0 ? parts.length - 1 : Math.min(n, parts.length - 1);
  return [parts.slice(0, count + 1).join(replacement), ...parts.slice(count + 1)].join(old);
}

/** unicode.IsSpace, which unlike JS's trim excludes U+FEFF and includes U+0085. */
const GO_SPACE = "[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const GO_TRIM = new RegExp(`^${GO_SPACE}+|${GO_SPACE}+$`, "g");

/**
 * Record where every string inside a parsed document came from, so a formatter rejecting a field
 * can name the key. Iterative: a hostile value could nest deeper than the call stack.
 */
function recordLeaves(document: unknown, key: string, provenance: Map<string, string>): void {
  const pending: unknown[] = [document];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === "string") provenance.set(value, key);
    else if (Array.isArray(value) || isObject(value)) {
      // One push per child: spreading a huge array into push() would overflow the stack too.
      for (const child of Object.values(value)) pending.push(child);
    }
  }
}

function parseJson(helper: string, value: unknown, scope: RenderScope): unknown {
  const source = text(helper, value, scope);
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch (err) {
    throw valueError(`${helper}: invalid JSON`, value, scope, errorMessage(err));
  }
  const key = typeof value === "string" ? scope.provenance.keyOf(value) : undefined;
  if (key !== undefined) recordLeaves(parsed, key, scope.provenance);
  return parsed;
}

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return "an array: use jsonArray for an array";
  return typeof value === "number" ? "a number" : typeof value === "string" ? "a string" : "a boolean";
}

function index(collection: unknown, key: unknown, scope: RenderScope): unknown {
  if (Array.isArray(collection)) return collection[integer("index", key, scope)];
  // Own properties only: a key from the store must not reach `constructor` or `__proto__`.
  if (isObject(collection)) {
    const name = text("index", key, scope);
    return Object.hasOwn(collection, name) ? collection[name] : undefined;
  }
  throw valueError("index: cannot index", collection, scope);
}

const helpers: HelperTable = {
  json: {
    arity: [1, 1],
    doc: "json s: the parsed JSON object in s (JSON null is nothing, as in confd); anything else is an error; its strings remember s's key for error messages",
    fn: (args, scope) => {
      const s = args[0];
      const parsed = parseJson("json", s, scope);
      // confd unmarshals into map[string]interface{}: null leaves the map nil, any other non-object is an error.
      if (parsed !== null && !isObject(parsed)) throw valueError("json: expected a JSON object, got", s, scope, jsonKind(parsed));
      return parsed;
    },
  },
  jsonArray: {
    arity: [1, 1],
    doc: "jsonArray s: the parsed JSON array in s (JSON null is an empty list, as in confd); anything else is an error",
    fn: (args, scope) => {
      const s = args[0];
      const parsed = parseJson("jsonArray", s, scope);
      // Go's json.Unmarshal of null into a slice leaves it empty; Calico writes "null" for an empty family.
      if (parsed === null) return [];
      if (!Array.isArray(parsed)) throw valueError("jsonArray: expected a JSON array, got", s, scope);
      return parsed;
    },
  },
  split: stringPair(
    "split",
    'split s sep: the parts of s between seps (Go strings.Split: "" gives [""])',
    goSplit,
  ),
  join: {
    arity: [2, 2],
    doc: "join list sep: the list's items joined with sep",
    fn: (args, scope) => {
      const list = args[0];
      if (!Array.isArray(list)) throw valueError("join: expected a list, got", list, scope);
      return list.map((item: unknown) => text("join", item, scope)).join(text("join", args[1], scope));
    },
  },
  base: stringMap("base", 'base path: the last element of path (Go path.Base; base "" is ".")', goBase),
  dir: stringMap(
    "dir",
    'dir path: all but the last element of path, cleaned (Go path.Dir: "/a/b" gives "/a")',
    goDir,
  ),
  eq: {
    arity: [2, Infinity],
    doc: "eq a b...: whether a equals b (or any later argument, like Go's eq)",
    fn: (args, scope) => {
      for (let i = 1; i < args.length; i++) if (equal("eq", args[0], args[i], scope)) return true;
      return false;
    },
  },
  ne: {
    arity: [2, 2],
    doc: "ne a b: whether a differs from b",
    fn: (args, scope) => !equal("ne", args[0], args[1], scope),
  },
  lt: ordering("lt", "lt a b: a < b (numerically if both are numbers, else as strings)", (o) => o < 0),
  le: ordering("le", "le a b: a <= b (numerically if both are numbers, else as strings)", (o) => o <= 0),
  gt: ordering("gt", "gt a b: a > b (numerically if both are numbers, else as strings)", (o) => o > 0),
  ge: ordering("ge", "ge a b: a >= b (numerically if both are numbers, else as strings)", (o) => o >= 0),
  and: {
    arity: [2, Infinity],
    doc: "and a b...: the first falsy argument, else the last (Go's and)",
    fn: (args) => decide(args, false),
  },
  or: {
    arity: [2, Infinity],
    doc: "or a b...: the first truthy argument, else the last (Go's or)",
    fn: (args) => decide(args, true),
  },
  not: {
    arity: [1, 1],
    doc: "not a: whether a is falsy (Go truth: empty lists and maps are false)",
    fn: (args) => !truthy(args[0]),
  },
  len: {
    arity: [1, 1],
    doc: "len x: a string's length in UTF-8 bytes (like Go), a list's items, a map's keys",
    fn: (args, scope) => {
      const x = args[0];
      if (typeof x === "string") return Buffer.byteLength(x);
      if (Array.isArray(x)) return x.length;
      if (isObject(x)) return Object.keys(x).length;
      throw valueError("len: no length for", x, scope);
    },
  },
  index: {
    arity: [2, Infinity],
    doc: "index coll key...: coll[key][key2]...; a missing item is undefined, indexing nothing an error",
    fn: (args, scope) => {
      let value = args[0];
      for (let i = 1; i < args.length; i++) value = index(value, args[i], scope);
      return value;
    },
  },
  add: arithmetic("add", "add a b: a + b (integers)", (a, b) => a + b),
  sub: arithmetic("sub", "sub a b: a - b (integers)", (a, b) => a - b),
  mul: arithmetic("mul", "mul a b: a * b (integers)", (a, b) => a * b),
  div: arithmetic("div", "div a b: a / b rounded toward zero, like Go", (a, b) => Math.trunc(a / b), true),
  mod: arithmetic("mod", "mod a b: a % b with the sign of a, like Go", (a, b) => a % b, true),
  toUpper: stringMap("toUpper", "toUpper s: s in upper case", (s) => s.toUpperCase()),
  toLower: stringMap("toLower", "toLower s: s in lower case", (s) => s.toLowerCase()),
  trim: stringMap("trim", "trim s: s without leading and trailing white space (Go strings.TrimSpace)", (s) =>
    s.replace(GO_TRIM, ""),
  ),
  contains: stringPair("contains", "contains s sub: whether sub occurs in s", (s, t) => s.includes(t)),
  hasPrefix: stringPair("hasPrefix", "hasPrefix s p: whether s starts with p", (s, t) => s.startsWith(t)),
  hasSuffix: stringPair("hasSuffix", "hasSuffix s p: whether s ends with p", (s, t) => s.endsWith(t)),
  trimPrefix: stringPair("trimPrefix", "trimPrefix s p: s without a leading p", (s, p) =>
    s.startsWith(p) ? s.slice(p.length) : s,
  ),
  trimSuffix: stringPair("trimSuffix", "trimSuffix s p: s without a trailing p", (s, p) =>
    s.endsWith(p) ? s.slice(0, s.length - p.length) : s,
  ),
  replace: {
    arity: [3, 4],
    doc: "replace s old new [n]: s with the first n (default all) old replaced by new (Go strings.Replace)",
    fn: (args, scope) =>
      goReplace(
        text("replace", args[0], scope),
        text("replace", args[1], scope),
        text("replace", args[2], scope),
        // n is -1 (all) when it is left out or undefined.
        integer("replace", args[3] === undefined ? -1 : args[3], scope),
      ),
  },
  printf: printfHelper,
  concat: {
    arity: [2, Infinity],
    doc: "concat a b...: the arguments joined as strings",
    fn: (args, scope) => args.map((arg) => text("concat", arg, scope)).join(""),
  },
  default: {
    arity: [2, 2],
    doc: "default value fallback: value, or fallback when value is falsy (Go truth)",
    fn: (args) => (truthy(args[0]) ? args[0] : args[1]),
  },
  hashToIPv4: {
    arity: [1, 1],
    doc: "hashToIPv4 s: the first four bytes of SHA-256(s) as a dotted quad (Calico's router id hash)",
    fn: (args, scope) => {
      const digest = createHash("sha256").update(text("hashToIPv4", args[0], scope)).digest();
      return digest.subarray(0, 4).join(".");
    },
  },
};

/**
 * Helpers whose result is made from their first argument's text (a block's CIDR from its key's name): the result
 * remembers that key, so a formatter rejecting it still names it. The latest entry wins: it is what a formatter asks about.
 */
const DERIVING = ["split", "join", "base", "dir", "trim", "toUpper", "toLower", "trimPrefix", "trimSuffix", "replace"];

function sourceKey(value: unknown, scope: RenderScope): string | undefined {
  if (typeof value === "string") return scope.provenance.keyOf(value);
  if (Array.isArray(value)) {
    for (const item of value) {
      const key = typeof item === "string" ? scope.provenance.keyOf(item) : undefined;
      if (key !== undefined) return key;
    }
  }
  return undefined;
}

function keepProvenance(spec: HelperSpec): HelperSpec {
  return {
    ...spec,
    fn: (args, scope) => {
      const result = spec.fn(args, scope);
      const key = sourceKey(args[0], scope);
      if (key === undefined) return result;
      if (typeof result === "string") scope.provenance.set(result, key);
      else if (Array.isArray(result)) {
        for (let i = 0; i < result.length; i++) {
          const item: unknown = result[i];
          if (typeof item === "string") scope.provenance.set(item, key);
        }
      }
      return result;
    },
  };
}

export const generalHelpers: HelperTable = Object.fromEntries(
  Object.entries(helpers).map(([name, spec]) => [name, DERIVING.includes(name) ? keepProvenance(spec) : spec]),
);

// Over 300 lines: the format's parser and each verb's formatting are one reading of Go's fmt, kept side by side.
/**
 * printf: Go's fmt.Sprintf for the verbs, flags, widths and precisions confd templates use. Where Go
 * would print an error marker into the output (`%!d(string=x)`, `%!d(MISSING)`), perch throws: a bad
 * value fails the render instead of landing in a configuration file. `parsePrintfFormat` is the one
 * parser of formats, for the helper and for `perch check` (a literal format is checked before rendering).
 */
import { PerchError } from "../../errors.js";
import type { HelperSpec, RenderScope } from "../helper-spec.js";
import { boundedCache } from "../../util/bounded-cache.js";
import { valueError } from "./formatters.js";
import { formatDigits } from "./go-float.js";
import { integer } from "./integer.js";

export interface PrintfFlags {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  zero: boolean;
  space: boolean;
}

/** One `%…` of a format: its flags, width, precision and verb. */
export interface PrintfDirective {
  flags: PrintfFlags;
  width: number | undefined;
  precision: number | undefined;
  verb: string;
  /** Where the directive starts in the format (UTF-16 offset of its "%"). */
  offset: number;
}

/** A format cut at its directives: literals[i] comes before directives[i], the last literal after the last. */
export interface PrintfFormat {
  literals: string[];
  directives: PrintfDirective[];
}

/** Why a format cannot be used, and where in it. */
export interface PrintfFormatError {
  message: string;
  offset: number;
}

export type ParsedPrintfFormat = { ok: true; format: PrintfFormat } | { ok: false; error: PrintfFormatError };

const SUPPORTED = "%s %v %d %q %x %X %f %F %e %E %g %G %t %%";
/** The flags each verb takes besides `-`, `0` and width (Go ignores the rest; perch refuses, not to surprise). */
const VERB_FLAGS: Readonly<Record<string, string>> = {
  s: "", v: "+ ", t: "", q: "#+", d: "+ ", x: "# +", X: "# +",
  f: "+ ", F: "+ ", e: "+ ", E: "+ ", g: "+ ", G: "+ ",
};
const FLAG_NAMES: Readonly<Record<string, keyof PrintfFlags>> = { "-": "minus", "+": "plus", "#": "sharp", "0": "zero", " ": "space" };

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= "0" && ch <= "9";
}

/** Parse a format the way Go's doPrintf reads it; anything Go would print a marker for is an error. */
export function parsePrintfFormat(format: string): ParsedPrintfFormat {
  const literals: string[] = [];
  const directives: PrintfDirective[] = [];
  let literal = "";
  let at = 0;
  while (at < format.length) {
    const percent = format.indexOf("%", at);
    if (percent === -1) break;
    literal += format.slice(at, percent);
    const read = readDirective(format, percent);
    if ("message" in read) return { ok: false, error: read };
    at = read.end;
    if (read.directive === undefined) {
      literal += "%";
      continue;
    }
    literals.push(literal);
    literal = "";
    directives.push(read.directive);
  }
  literals.push(literal + format.slice(at));
  return { ok: true, format: { literals, directives } };
}

function readDirective(format: string, offset: number): { directive: PrintfDirective | undefined; end: number } | PrintfFormatError {
  const flags: PrintfFlags = { minus: false, plus: false, sharp: false, zero: false, space: false };
  let at = offset + 1;
  for (let flag = FLAG_NAMES[format[at] ?? ""]; flag !== undefined; flag = FLAG_NAMES[format[at] ?? ""]) {
    flags[flag] = true;
    at++;
  }
  // Go: "-" overrides "0" (padding is only zeros on the left).
  if (flags.minus) flags.zero = false;
  let width: number | undefined;
  let precision: number | undefined;
  const start = at;
  while (isDigit(format[at])) at++;
  if (at > start) width = Number(format.slice(start, at));
  if (format[at] === ".") {
    const digits = ++at;
    while (isDigit(format[at])) at++;
    precision = Number(format.slice(digits, at) || "0");
  }
  const code = format.codePointAt(at);
  const verb = code === undefined ? "" : String.fromCodePoint(code);
  const end = at + verb.length;
  const written = format.slice(offset, end);
  if (verb === "*" || verb === "[") return { message: `printf: "${written}…": widths and argument indexes from arguments are not supported`, offset };
  const allowed = VERB_FLAGS[verb];
  if (verb === "%" && end === offset + 2) return { directive: undefined, end };
  if (allowed === undefined) return { message: `printf: unsupported verb "${written}" (supported: ${SUPPORTED})`, offset };
  for (const [ch, name] of Object.entries(FLAG_NAMES)) {
    if (flags[name] && ch !== "-" && ch !== "0" && !allowed.includes(ch)) {
      return { message: `printf: flag "${ch}" is not supported with %${verb} in "${written}"`, offset };
    }
  }
  return { directive: { flags, width, precision, verb, offset }, end };
}

/** Templates pass a few literal formats thousands of times a render: each is parsed once. */
const parsedFormat = boundedCache(1000, parsePrintfFormat);

/**
 * `args` holds the format first, then the values. Errors come in format order, as the verbs are
 * reached: a bad format first, then a missing argument or a bad value, then too many arguments.
 */
export function printf(format: string, args: unknown[], scope: RenderScope): string {
  const parsed = parsedFormat(format);
  if (!parsed.ok) throw new PerchError(parsed.error.message);
  const { literals, directives } = parsed.format;
  // Joined, not concatenated: `+=` gives a tree of cons strings, which a kept output would hold for the daemon's life.
  const parts: string[] = [literals[0] as string];
  for (let i = 0; i < directives.length; i++) {
    const directive = directives[i] as PrintfDirective;
    if (i + 1 >= args.length) throw new PerchError(`printf: missing argument for %${directive.verb}`);
    parts.push(formatValue(directive, args[i + 1], scope), literals[i + 1] as string);
  }
  if (directives.length + 1 < args.length) {
    throw new PerchError(`printf: too many arguments (the format uses ${directives.length}, got ${args.length - 1})`);
  }
  return parts.join("");
}

export const printfHelper: HelperSpec = {
  arity: [1, Infinity],
  doc: `printf format args...: Go's fmt.Sprintf with flags, width and precision for ${SUPPORTED}`,
  fn: (args, scope) => {
    const format = args[0];
    if (typeof format === "string") return printf(format, args, scope);
    // A scalar format is its text, as for the other string helpers.
    if (typeof format === "number" || typeof format === "boolean") return printf(String(format), args, scope);
    throw valueError("printf: expected a string, got", format, scope);
  },
};

function formatValue(d: PrintfDirective, value: unknown, scope: RenderScope): string {
  switch (d.verb) {
    case "s":
      if (typeof value === "string") return pad(d, truncate(d, value));
      if (typeof value === "number" || typeof value === "boolean") return pad(d, truncate(d, plainValue(value)));
      throw valueError("printf: expected a string, got", value, scope);
    case "v":
      // A whole number prints as Go prints an int (what arithmetic and len give), not as a float64's %g.
      if (Number.isSafeInteger(value)) return formatInteger(d, (value as number) + 0, 10);
      if (typeof value === "number") return formatFloat(d, value, "g");
      if (value === undefined) throw valueError("printf: expected a value, got", value, scope);
      return pad(d, truncate(d, plainValue(value)));
    case "t":
      if (typeof value !== "boolean") throw valueError("printf: expected a boolean, got", value, scope);
      return pad(d, String(value));
    case "q":
      if (typeof value !== "string") throw valueError("printf: expected a string, got", value, scope);
      return pad(d, quote(d, truncate(d, value)));
    case "d":
      return formatInteger(d, integer("printf", value, scope), 10);
    case "x":
    case "X":
      if (typeof value === "string") return hexBytes(d, value);
      return formatInteger(d, integer("printf", value, scope), 16);
    default:
      if (typeof value !== "number") throw valueError("printf: expected a number, got", value, scope);
      return formatFloat(d, value, d.verb);
  }
}

/** What Go's %v prints for a value without flags (fmt's printValue). */
function plainValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") return Number.isSafeInteger(value) ? String(value + 0) : shortestG(value);
  if (typeof value === "boolean") return String(value);
  if (value === null || value === undefined) return "<nil>";
  if (Array.isArray(value)) return `[${value.map(plainValue).join(" ")}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `map[${entries.map(([k, v]) => `${k}:${plainValue(v)}`).join(" ")}]`;
}

function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Go's precision on strings: at most that many runes. */
function truncate(d: PrintfDirective, s: string): string {
  return d.precision === undefined ? s : Array.from(s).slice(0, d.precision).join("");
}

/** Go's fmt.pad: to the width in runes, on the right with "-", else on the left with spaces or zeros. */
function pad(d: PrintfDirective, s: string, zero = d.flags.zero): string {
  const missing = (d.width ?? 0) - runeCount(s);
  if (missing <= 0) return s;
  if (d.flags.minus) return s + " ".repeat(missing);
  return (zero ? "0" : " ").repeat(missing) + s;
}

function quote(d: PrintfDirective, s: string): string {
  if (d.flags.sharp && canBackquote(s)) return `\`${s}\``;
  return goQuote(s, d.flags.plus);
}

/** strconv.CanBackquote: no backquote, no control characters but tab, no U+FEFF. */
function canBackquote(s: string): boolean {
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === "`" || (code < 0x20 && ch !== "\t") || code === 0x7f || code === 0xfeff || code === 0xfffd) return false;
  }
  return true;
}

const GO_ESCAPES: Readonly<Record<string, string>> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
  '"': '\\"',
  "\\": "\\\\",
};

function goEscape(ch: string, asciiOnly: boolean): string {
  const escape = GO_ESCAPES[ch];
  if (escape !== undefined) return escape;
  const code = ch.codePointAt(0) ?? 0;
  // strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
  if ((!asciiOnly || code < 0x80) && (ch === " " || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(ch))) return ch;
  if (code < 0x80) return `\\x${code.toString(16).padStart(2, "0")}`;
  if (code < 0x10000) return `\\u${code.toString(16).padStart(4, "0")}`;
  return `\\U${code.toString(16).padStart(8, "0")}`;
}

/** Go strconv.Quote (QuoteToASCII with `asciiOnly`), which is what %q prints. */
function goQuote(s: string, asciiOnly: boolean): string {
  return `"${Array.from(s, (ch) => goEscape(ch, asciiOnly)).join("")}"`;
}

/** Go's fmtSbx: a string's UTF-8 bytes in hex; precision counts bytes; " " separates them, "#" prefixes 0x. */
function hexBytes(d: PrintfDirective, s: string): string {
  let bytes = Buffer.from(s);
  if (d.precision !== undefined) bytes = bytes.subarray(0, d.precision);
  const prefix = d.verb === "X" ? "0X" : "0x";
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).map((h) => (d.verb === "X" ? h.toUpperCase() : h));
  const text = d.flags.space
    ? hex.map((h) => (d.flags.sharp ? prefix + h : h)).join(" ")
    : (d.flags.sharp && hex.length > 0 ? prefix : "") + hex.join("");
  return pad(d, text);
}

/** Go's fmtInteger: precision is a minimum of digits; "0" with a width pads digits after the sign. */
function formatInteger(d: PrintfDirective, n: number, base: 10 | 16): string {
  const { flags } = d;
  const negative = n < 0;
  const magnitude = Math.abs(n);
  if (d.precision === 0 && magnitude === 0) return pad(d, "", false);
  let digits = magnitude.toString(base);
  if (d.verb === "X") digits = digits.toUpperCase();
  let minDigits = d.precision ?? 0;
  if (d.precision === undefined && flags.zero && d.width !== undefined) {
    minDigits = d.width - (negative || flags.plus || flags.space ? 1 : 0);
  }
  digits = digits.padStart(minDigits, "0");
  if (flags.sharp && base === 16) digits = (d.verb === "X" ? "0X" : "0x") + digits;
  const sign = negative ? "-" : flags.plus ? "+" : flags.space ? " " : "";
  return pad(d, sign + digits, false);
}

function shortestG(x: number): string {
  return formatFloat({ flags: { minus: false, plus: false, sharp: false, zero: false, space: false }, width: undefined, precision: undefined, verb: "g", offset: 0 }, x, "g");
}

/** Go's fmt.fmtFloat: the sign goes before zero padding; infinities and NaN are never zero padded. */
function formatFloat(d: PrintfDirective, x: number, verb: string): string {
  const { flags } = d;
  const negative = x < 0 || Object.is(x, -0);
  if (!Number.isFinite(x)) {
    const body = Number.isNaN(x) ? "NaN" : "Inf";
    const sign = negative ? "-" : flags.plus ? "+" : flags.space ? " " : Number.isNaN(x) ? "" : "+";
    return pad(d, sign + body, false);
  }
  const body = formatDigits(Math.abs(x), verb === "v" ? "g" : verb, d.precision);
  const sign = negative ? "-" : flags.plus ? "+" : flags.space ? " " : "";
  if (sign !== "" && flags.zero && d.width !== undefined && d.width > body.length + 1) {
    return sign + "0".repeat(d.width - body.length - 1) + body;
  }
  return pad(d, sign + body);
}

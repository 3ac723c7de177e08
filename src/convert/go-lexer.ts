/**
 * The lexer of Go's text/template (text/template/parse/lex.go), for the default delimiters. Trim
 * markers (`{{- ` and ` -}}`) are applied here, to the text itself, exactly as Go applies them.
 */
import { PerchError } from "../errors.js";

export type GoToken =
  | { t: "text"; value: string }
  | { t: "open"; line: number }
  | { t: "close" }
  | { t: "comment"; line: number; text: string }
  | { t: "space" }
  | { t: "identifier"; value: string }
  | { t: "field"; value: string }
  | { t: "variable"; value: string }
  | { t: "string"; value: string }
  | { t: "number"; value: number; text: string }
  | { t: "dot" | "lparen" | "rparen" | "pipe" | "declare" | "assign" | "comma" };

/** Go's isSpace in lex.go: what trim markers remove. */
const SPACE = new Set([" ", "\t", "\r", "\n"]);
const PUNCTUATION: Readonly<Record<string, GoToken>> = { "(": { t: "lparen" }, ")": { t: "rparen" }, "|": { t: "pipe" }, ",": { t: "comma" }, "=": { t: "assign" } };

function isAlphaNumeric(ch: string | undefined): boolean {
  return ch !== undefined && /^[\p{L}\p{Nd}_]$/u.test(ch);
}

function trimLeading(text: string): string {
  return text.replace(/^[ \t\r\n]+/, "");
}

function trimTrailing(text: string): string {
  return text.replace(/[ \t\r\n]+$/, "");
}

export function lexGoTemplate(source: string, file: string): GoToken[] {
  const tokens: GoToken[] = [];
  let at = 0;
  let line = 1;
  let trimNext = false;
  const fail = (message: string): never => {
    throw new PerchError(message, { file, line });
  };
  const advance = (to: number) => {
    for (let i = at; i < to; i++) if (source[i] === "\n") line++;
    at = to;
  };
  while (at < source.length) {
    const open = source.indexOf("{{", at);
    const end = open === -1 ? source.length : open;
    let text = source.slice(at, end);
    if (trimNext) text = trimLeading(text);
    const trimBefore = open !== -1 && source[open + 2] === "-" && SPACE.has(source[open + 3] ?? "");
    if (trimBefore) text = trimTrailing(text);
    if (text !== "") tokens.push({ t: "text", value: text });
    advance(end);
    if (open === -1) break;
    const actionLine = line;
    advance(open + (trimBefore ? 4 : 2));
    if (source.startsWith("/*", at)) {
      const close = source.indexOf("*/", at + 2);
      if (close === -1) fail("unclosed comment");
      const after = close + 2;
      const trimAfter = source.startsWith(" -}}", after) || (SPACE.has(source[after] ?? "") && source.startsWith("-}}", after + 1));
      if (!trimAfter && !source.startsWith("}}", after)) fail("comment ends before closing delimiter");
      tokens.push({ t: "comment", line: actionLine, text: source.slice(at + 2, close) });
      advance(after + (trimAfter ? 4 : 2));
      trimNext = trimAfter;
      continue;
    }
    tokens.push({ t: "open", line: actionLine });
    trimNext = lexAction(source, tokens, fail, () => at, advance);
  }
  return tokens;
}

/** Tokens of one action up to its `}}`; returns whether it ended with a trim marker. */
function lexAction(source: string, tokens: GoToken[], fail: (m: string) => never, position: () => number, advance: (to: number) => void): boolean {
  let depth = 0;
  for (;;) {
    const at = position();
    const ch = source[at];
    if (ch === undefined) fail("unclosed action");
    if (SPACE.has(ch as string)) {
      let end = at;
      while (SPACE.has(source[end] ?? "")) end++;
      if (source.startsWith("-}}", end)) {
        if (depth > 0) fail("unclosed left paren");
        tokens.push({ t: "close" });
        advance(end + 3);
        return true;
      }
      tokens.push({ t: "space" });
      advance(end);
      continue;
    }
    if (source.startsWith("}}", at)) {
      if (depth > 0) fail("unclosed left paren");
      tokens.push({ t: "close" });
      advance(at + 2);
      return false;
    }
    if (source.startsWith(":=", at)) {
      tokens.push({ t: "declare" });
      advance(at + 2);
    } else if (PUNCTUATION[ch as string] !== undefined) {
      if (ch === "(") depth++;
      if (ch === ")" && --depth < 0) fail("unexpected right paren");
      tokens.push(PUNCTUATION[ch as string] as GoToken);
      advance(at + 1);
    } else if (ch === '"' || ch === "`") {
      const { value, end } = readString(source, at, fail);
      tokens.push({ t: "string", value });
      advance(end);
    } else if (ch === "'") {
      const { value, end } = readString(source, at, fail);
      const code = value.codePointAt(0);
      if (code === undefined || String.fromCodePoint(code) !== value) fail(`malformed character constant: ${source.slice(at, end)}`);
      tokens.push({ t: "number", value: code as number, text: source.slice(at, end) });
      advance(end);
    } else if (ch === "." && !/[0-9]/.test(source[at + 1] ?? "")) {
      let end = at + 1;
      while (isAlphaNumeric(source[end])) end++;
      tokens.push(end === at + 1 ? { t: "dot" } : { t: "field", value: source.slice(at + 1, end) });
      advance(end);
    } else if (ch === "$") {
      let end = at + 1;
      while (isAlphaNumeric(source[end])) end++;
      tokens.push({ t: "variable", value: source.slice(at + 1, end) });
      advance(end);
    } else if (/[0-9+\-.]/.test(ch as string)) {
      const match = /^[+-]?(0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]+|0[bB][01_]+|([0-9_]+\.?[0-9_]*|\.[0-9_]+)([eE][+-]?[0-9_]+)?)/.exec(source.slice(at));
      if (match === null || isAlphaNumeric(source[at + match[0].length])) fail(`bad number syntax: ${JSON.stringify(source.slice(at, at + 10))}`);
      const text = (match as RegExpExecArray)[0];
      tokens.push({ t: "number", value: goNumber(text), text });
      advance(at + text.length);
    } else if (isAlphaNumeric(ch)) {
      let end = at;
      while (isAlphaNumeric(source[end])) end++;
      tokens.push({ t: "identifier", value: source.slice(at, end) });
      advance(end);
    } else {
      fail(`unrecognized character in action: ${JSON.stringify(ch)}`);
    }
  }
}

function goNumber(text: string): number {
  const clean = text.replaceAll("_", "");
  const sign = clean.startsWith("-") ? -1 : 1;
  const body = clean.replace(/^[+-]/, "");
  if (/^0[xX]/.test(body)) return sign * parseInt(body.slice(2), 16);
  if (/^0[bB]/.test(body)) return sign * parseInt(body.slice(2), 2);
  if (/^0[oO]/.test(body)) return sign * parseInt(body.slice(2), 8);
  if (/^0[0-7]+$/.test(body)) return sign * parseInt(body.slice(1), 8);
  return sign * Number(body);
}

const ESCAPES: Readonly<Record<string, string>> = { a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\", '"': '"', "'": "'" };

/** A Go string, raw string or rune literal starting at `at`, unquoted as strconv.Unquote does. */
function readString(source: string, at: number, fail: (m: string) => never): { value: string; end: number } {
  const quote = source[at] as string;
  if (quote === "`") {
    const close = source.indexOf("`", at + 1);
    if (close === -1) fail("unterminated raw quoted string");
    // Go drops carriage returns from raw strings.
    return { value: source.slice(at + 1, close).replaceAll("\r", ""), end: close + 1 };
  }
  let value = "";
  let i = at + 1;
  for (;;) {
    const ch = source[i];
    if (ch === undefined || ch === "\n") fail("unterminated quoted string");
    if (ch === quote) return { value, end: i + 1 };
    if (ch !== "\\") {
      value += ch;
      i++;
      continue;
    }
    const next = source[i + 1] ?? "";
    const simple = ESCAPES[next];
    if (simple !== undefined) {
      value += simple;
      i += 2;
      continue;
    }
    const hex = { x: 2, u: 4, U: 8 }[next];
    if (hex !== undefined && /^[0-9a-fA-F]+$/.test(source.slice(i + 2, i + 2 + hex)) && source.slice(i + 2, i + 2 + hex).length === hex) {
      const code = parseInt(source.slice(i + 2, i + 2 + hex), 16);
      // \x is a byte: only ASCII bytes make a valid UTF-8 string on their own.
      if (next === "x" && code > 0x7f) fail(`\\x escapes of non-ASCII bytes are not supported: ${source.slice(i, i + 4)}`);
      value += String.fromCodePoint(code);
      i += 2 + hex;
      continue;
    }
    if (/^[0-7]{3}$/.test(source.slice(i + 1, i + 4)) && parseInt(source.slice(i + 1, i + 4), 8) <= 0x7f) {
      value += String.fromCharCode(parseInt(source.slice(i + 1, i + 4), 8));
      i += 4;
      continue;
    }
    fail(`invalid escape in string: ${source.slice(i, i + 2)}`);
  }
}

/**
 * TOML as perch reads it (conf.d resources, perch.toml, confd.toml): documents, the line a key or
 * table is on (the parser keeps no positions), and the names of value kinds in error messages.
 */
import { readFileSync } from "node:fs";
import toml from "toml";
import { PerchError, type ErrorContext } from "../errors.js";
import { escapeRegExp } from "./escape-regexp.js";

export type TomlDocument = Record<string, unknown>;

/** The document, or its syntax error with the line and column the parser stopped at. */
export function parseToml(text: string, where: ErrorContext): { doc: TomlDocument } | { error: PerchError } {
  try {
    return { doc: toml.parse(text) as TomlDocument };
  } catch (err) {
    const start = (err as { location?: { start?: { line?: number; column?: number } } }).location?.start;
    return { error: new PerchError(`TOML syntax error: ${(err as Error).message}`, { ...where, line: start?.line, column: start?.column }) };
  }
}

/** A settings file's text and document. Unreadable: undefined, as if absent (both files are optional). */
export function readTomlFile(file: string, errors: PerchError[]): { text: string; doc: TomlDocument } | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const parsed = parseToml(text, { file });
  if ("error" in parsed) {
    errors.push(parsed.error);
    return undefined;
  }
  return { text, doc: parsed.doc };
}

/** The first line that sets `key` (bare or quoted). */
export function keyLine(text: string, key: string): number | undefined {
  const k = escapeRegExp(key);
  return lineMatching(text, new RegExp(`^\\s*(?:${k}|"${k}"|'${k}')\\s*=`));
}

/** The line of the `[table]` header. */
export function tableLine(text: string, table: string): number | undefined {
  return lineMatching(text, new RegExp(`^\\s*\\[\\s*${escapeRegExp(table)}\\s*\\]`));
}

function lineMatching(text: string, re: RegExp): number | undefined {
  const i = text.split("\n").findIndex((l) => re.test(l));
  return i < 0 ? undefined : i + 1;
}

export type TomlKind = "string" | "strings" | "integer" | "boolean";

/** What "must be …" says for each kind. */
export const KIND_NAMES: Readonly<Record<TomlKind, string>> = {
  string: "a string",
  strings: "a list of strings",
  integer: "an integer",
  boolean: "true or false",
};

export function hasKind(value: unknown, kind: TomlKind): boolean {
  if (kind === "strings") return Array.isArray(value) && value.every((v) => typeof v === "string");
  if (kind === "integer") return typeof value === "number" && Number.isInteger(value);
  return typeof value === kind;
}

/** What a TOML value is, for "got …": "the integer 644", "a list of strings", "a table". */
export function describeTomlValue(value: unknown): string {
  if (Array.isArray(value)) return value.every((v) => typeof v === "string") ? "a list of strings" : "a list with non-strings";
  if (typeof value === "number") return Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`;
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "boolean") return `the boolean ${value}`;
  if (value instanceof Date) return "a date";
  return "a table";
}

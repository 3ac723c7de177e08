/**
 * Helpers are plain functions of their arguments with a declared arity, so `perch check` can count
 * arguments without rendering; the registry (compile.ts) checks it and locates their errors.
 */
import type { KeyIndex } from "../mirror/key-index.js";
import type { RenderMemo } from "./memo.js";
import type { Provenance } from "./provenance.js";

/** What a render makes available to helpers besides their arguments. */
export interface RenderScope {
  /** The resource's keys, relative to its prefix. */
  view: KeyIndex;
  /** The environment `getenv` reads (the process environment, with NODENAME resolved). */
  env: Readonly<Record<string, string | undefined>>;
  /** Where each value string came from, so a formatter that rejects one can name its key. */
  provenance: Provenance;
  /** Watch mode: what the last render of this resource produced, for incremental rendering. */
  memo?: RenderMemo;
}

/** Fewest and most positional arguments (Infinity for variadic). */
export type Arity = readonly [min: number, max: number];

export interface HelperSpec {
  arity: Arity;
  /** One line describing the helper (docs/templates.md has the examples). */
  doc: string;
  fn: (args: unknown[], scope: RenderScope) => unknown;
}

export type HelperTable = Readonly<Record<string, HelperSpec>>;

/**
 * A call with the wrong number of arguments, as a render reports it ("getv takes 1 to 2 arguments,
 * got 3") and as `perch check` does ("wrong number of arguments: getv takes 1 or 2, got 3").
 */
export function argumentCountMessage(helper: string, [min, max]: Arity, count: number, by: "render" | "check"): string {
  const range = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} ${by === "check" && max === min + 1 ? "or" : "to"} ${max}`;
  if (by === "check") return `wrong number of arguments: ${helper} takes ${range}, got ${count}`;
  return `${helper} takes ${range} argument${range === "1" ? "" : "s"}, got ${count}`;
}

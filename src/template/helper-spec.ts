/**
 * How a template helper is declared. Helpers are plain functions of their arguments; the
 * Handlebars options object is stripped by the registry, which also checks the arity (so
 * `perch check` can flag wrong argument counts statically) and adds the template, line and column
 * to any error a helper throws.
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
  /**
   * Where a value string came from. The store helpers and `json` record into it, so a validating
   * formatter that rejects a value can name its key.
   */
  provenance: Provenance;
  /** Watch mode: what the last render of this resource produced, for incremental rendering. */
  memo?: RenderMemo;
}

export interface HelperSpec {
  /** Fewest and most positional arguments (Infinity for variadic). */
  arity: readonly [number, number];
  /** One line describing the helper (docs/templates.md has the examples). */
  doc: string;
  fn: (args: unknown[], scope: RenderScope) => unknown;
}

export type HelperTable = Readonly<Record<string, HelperSpec>>;

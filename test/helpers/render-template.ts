// One template rendered in memory against a set of keys, through the real compiler and mirror:
// for unit tests of helpers that want to see them as a template calls them.
import { expect } from "vitest";
import { PerchError } from "../../src/errors.js";
import { Mirror } from "../../src/mirror/mirror.js";
import { compileTemplate } from "../../src/template/compile.js";
import { Provenance } from "../../src/template/provenance.js";

export interface RenderOptions {
  prefix?: string;
  paths: string[];
  env?: Record<string, string>;
}

export function renderTemplate(keys: Record<string, string>, source: string, opts: RenderOptions): string {
  const mirror = new Mirror([{ name: "r", prefix: opts.prefix ?? "", paths: opts.paths }]);
  mirror.replace(Object.entries(keys).map(([key, value]) => ({ key, value })), 1);
  const t = compileTemplate("t.hbs", "/conf/templates/t.hbs", source);
  return t.render({ view: mirror.view("r"), env: opts.env ?? {}, provenance: new Provenance() });
}

/** The PerchError a render throws (the test fails if it renders). */
export function renderTemplateError(keys: Record<string, string>, source: string, opts: RenderOptions): PerchError {
  try {
    renderTemplate(keys, source, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(PerchError);
    return err as PerchError;
  }
  throw new Error("expected the render to fail");
}

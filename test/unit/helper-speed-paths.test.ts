// The per-call paths a render spends its time in (the helper wrapper, let, printf's parsed formats),
// through real templates: what they print and how they fail must not depend on how they are called.
import { describe, expect, it } from "vitest";
import type { PerchError } from "../../src/errors.js";
import { renderTemplate, renderTemplateError } from "../helpers/render-template.js";

const KEYS: Record<string, string> = {
  "/host/a/ip": "10.0.0.1",
  "/host/b/ip": "10.0.0.2",
  "/host/c/ip": "10.0.0.3; }",
};

const render = (source: string): string => renderTemplate(KEYS, source, { paths: ["/host"] });
const renderError = (source: string): PerchError => renderTemplateError(KEYS, source, { paths: ["/host"] });

describe("the helper wrapper", () => {
  it.each([
    ["{{getv}}", "getv takes 1 to 2 arguments, got 0", 1],
    ['x {{getv "/a" "b" "c"}}', "getv takes 1 to 2 arguments, got 3", 3],
    ['{{ipv4 "a" "b"}}', "ipv4 takes 1 argument, got 2", 1],
    ['{{#if (eq "a")}}{{/if}}', "eq takes at least 2 arguments, got 1", 7],
    ['{{replace "a" "b"}}', "replace takes 3 to 4 arguments, got 2", 1],
  ])("%s fails with its arity at its place", (source, message, column) => {
    const err = renderError(source);
    expect(err.message).toBe(message);
    expect(err.context).toEqual({ template: "t.hbs", line: 1, column });
  });

  it("passes every argument, in order, and locates a helper's own error", () => {
    expect(render('{{printf "%s-%s-%s-%s" "a" 2 true "d"}}')).toBe("a-2-true-d");
    expect(render('{{concat "a" "b" "c" "d" "e" "f"}}')).toBe("abcdef");
    const err = renderError('\n  {{ipv4 (getv "/host/c/ip")}}');
    expect(err.message).toBe('invalid IPv4 address "10.0.0.3; }" (from key /host/c/ip)');
    expect(err.context).toEqual({ template: "t.hbs", line: 2, column: 3, key: "/host/c/ip" });
  });
});

describe("let", () => {
  it("binds data variables and block params, the innermost winning", () => {
    const source =
      '{{#let x="outer" y=(getv "/host/a/ip")}}{{#let (printf "%s!" @x) 7 as |p n|}}' +
      '{{#let x="inner"}}{{p}} {{n}} {{@x}} {{@y}}{{/let}} {{@x}}{{/let}}{{/let}}';
    expect(render(source)).toBe("outer! 7 inner 10.0.0.1 outer");
  });

  it("renders a mesh-like loop the same on every pass", () => {
    const source =
      '{{#each (lsdir "/host") as |h|}}{{#if (exists (printf "/host/%s/ip" h))}}' +
      '{{#let ip=(getv (printf "/host/%s/ip" h))}}[{{h}} {{join (split @ip ".") "_"}}]{{/let}}{{/if}}{{/each}}';
    const expected = "[a 10_0_0_1][b 10_0_0_2][c 10_0_0_3; }]";
    for (let i = 0; i < 3; i++) expect(render(source)).toBe(expected);
  });
});

// Go-template forms in a Handlebars template: the error a render (compiling) gives names the Handlebars form to
// write, at the Go form's line and column, with a pointer to docs/templates.md's table.
import { describe, expect, it } from "vitest";
import { renderTemplate, renderTemplateError } from "../helpers/render-template.js";

const SEE = "(see the table of Go forms in docs/templates.md)";
const KEYS = { "/x": "1", "/peers/a": "10.0.0.1" };

function renderError(source: string): string {
  return renderTemplateError(KEYS, source, { paths: ["/"] }).toString();
}

describe("a Go form that does not parse as Handlebars", () => {
  it.each([
    ["a {{/* note */}} b", `t.hbs:1:3: {{/* … */}} is a Go comment: write {{!-- … --}} ${SEE}`],
    ['x\n{{range gets "/peers/*"}}{{.Value}}{{end}}', `t.hbs:2:1: range is Go's loop: write {{#each …}}…{{/each}} ${SEE}`],
    ["{{ .Key }}", `t.hbs:1:1: a leading dot is Go's field of the current value: write {{ this.Key }} ${SEE}`],
    ['{{printf "%s" .Key}}', `t.hbs:1:1: a leading dot is Go's field of the current value: write {{printf "%s" this.Key}} ${SEE}`],
    ['{{$node := getenv "NODENAME"}}', `t.hbs:1:1: $node := is a Go variable: write {{#let node=(getenv "NODENAME")}}…{{@node}}…{{/let}} ${SEE}`],
    ['{{getv "/x" | printf "%s|%s" "a"}}', `t.hbs:1:1: | is a Go pipeline: write {{printf "%s|%s" "a" (getv "/x")}} ${SEE}`],
    ['{{if eq (getv "/x") "1"}}y{{end}} {{.}}', `t.hbs:1:1: {{if …}} opens a Go block: write {{#if …}}…{{/if}} ${SEE}`],
  ])("%j", (source, message) => {
    expect(renderError(source)).toBe(message);
  });

  it("leaves the parser's message where the failing line holds no Go form", () => {
    expect(renderError("{{#if a}}\n{{/each}}")).toBe("t.hbs:1:4: if doesn't match each");
  });

  it("does not take a | inside a string or block params for a pipeline", () => {
    expect(renderTemplate(KEYS, '{{#each (split "a|b" "|") as |p|}}{{p}};{{/each}}', { paths: ["/"] })).toBe("a;b;");
  });
});

describe("a Go form that parses as Handlebars but can only be a mistake", () => {
  it.each([
    ['{{#each (gets "/peers/*")}}{{base .Key}}{{/each}}', `t.hbs:1:30: a leading dot is Go's field of the current value: write {{base this.Key}} ${SEE}`],
    ['{{#if getv "/x"}}y{{/if}}', `t.hbs:1:1: {{#if getv "/x"}} passes a helper as an argument: write {{#if (getv "/x")}} (a call inside another takes parentheses) ${SEE}`],
    ['{{#unless eq (getv "/x") "1"}}y{{/unless}}', `t.hbs:1:1: {{#unless eq (getv "/x") "1"}} passes a helper as an argument: write {{#unless (eq (getv "/x") "1")}} (a call inside another takes parentheses) ${SEE}`],
    ["{{$node}}", `t.hbs:1:3: $node is a Go variable: write {{@node}} for one bound by {{#let node=…}}, or {{node}} for a block param (as |node|) ${SEE}`],
    ['{{getv $key "d"}}', `t.hbs:1:8: $key is a Go variable: write {{@key}} for one bound by {{#let key=…}}, or {{key}} for a block param (as |key|) ${SEE}`],
    ["{{ $ }}", `t.hbs:1:4: $ is Go's root value: a perch template has none, its data is read with the store helpers (getv, gets, …) ${SEE}`],
    ['{{- getv "/x" -}}', `t.hbs:1:1: {{- and -}} are Go's trim markers: write {{~ and ~}} ${SEE}`],
    ['{{getv "/x" -}}', `t.hbs:1:1: {{- and -}} are Go's trim markers: write {{~ and ~}} ${SEE}`],
    ["a {{end}}", `t.hbs:1:3: {{end}} is Go's block end: write {{/if}}, {{/each}}, {{/with}} or {{/let}}, as the block opened ${SEE}`],
    ['{{#if (exists "/x")}}y{{end}}{{/if}}', `t.hbs:1:23: {{end}} is Go's block end: write {{/if}} ${SEE}`],
    ['{{#each (gets "/peers/*")}}{{else}}{{end}}{{/each}}', `t.hbs:1:36: {{end}} is Go's block end: write {{/each}} ${SEE}`],
  ])("%j", (source, message) => {
    expect(renderError(source)).toBe(message);
  });

  it("leaves alone what only looks like a Go form: a bracketed segment with spaces, a name ending in a dash", () => {
    const keys = { "/r": '{"a b": "1", "x-": "2"}' };
    expect(renderTemplate(keys, '{{#with (json (getv "/r"))}}{{this.[a b]}} {{x-}}{{/with}}', { paths: ["/"] })).toBe("1 2");
  });

  it("reads {{end}} as a field where the context may have one (inside with, each or a partial)", () => {
    expect(renderTemplate({ "/r": '{"start": 1, "end": 9}' }, '{{#with (json (getv "/r"))}}{{start}}-{{end}}{{/with}}', { paths: ["/"] })).toBe("1-9");
  });

  it("names Go keywords Handlebars takes for unknown helpers", () => {
    expect(renderError('{{#range (ls "/")}}{{/range}}')).toBe("t.hbs:1:1: unknown helper range: range is Go's loop: write {{#each …}}…{{/each}} " + SEE);
    expect(renderError('{{template "peer" 1}}')).toBe("t.hbs:1:1: unknown helper template: template calls a Go named template: write {{> name}} " + SEE);
    expect(renderError('{{#define "peer"}}x{{/define}}')).toBe(`t.hbs:1:1: unknown helper define: define is Go's named template: write {{#*inline "name"}}…{{/inline}} ${SEE}`);
  });
});

// `perch check`'s path findings: every name a template reads is resolved against the shapes the store helpers
// return, block params, with/each contexts and @data; Go forms are named once, deprecated names warned about.
import path from "node:path";
import Handlebars from "handlebars";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCheck } from "../../src/check/check.js";
import { lintTemplate } from "../../src/check/lint-template.js";
import { renderTemplateError } from "../helpers/render-template.js";
import { REPO, makeConfdir, resourceToml, type TestConfdir } from "../helpers/confdir.js";

const SEE = "(see the table of Go forms in docs/templates.md)";

function problems(source: string): string[] {
  return lintTemplate(Handlebars.parse(source), source).problems.map((p) => `${p.line}:${p.column}: ${p.message}`);
}

function warnings(source: string): string[] {
  return lintTemplate(Handlebars.parse(source), source).warnings.map((p) => `${p.line}:${p.column}: ${p.message}`);
}

const GETS_ITEM = "an item of gets (its fields: key, value, Key, Value)";

describe("paths that cannot resolve", () => {
  it("a top-level name that is no helper and no field", () => {
    expect(problems("{{nope}}\n{{getv nope}}")).toEqual([
      "1:3: nope renders as nothing: it is no helper, block param or field of the template's context",
      "2:8: nope renders as nothing: it is no helper, block param or field of the template's context",
    ]);
  });

  it("a misspelt field of a gets item, bare, through this, through a block param, or before a dot", () => {
    const source = '{{#each (gets "/p/*")}}{{vaule}} {{this.vaule}} {{vaule.ip}}{{/each}}\n{{#each (gets "/p/*") as |kv|}}{{kv.Vlaue}}{{/each}}';
    expect(problems(source)).toEqual([
      `1:26: vaule renders as nothing: it is no helper, block param or field of ${GETS_ITEM}; did you mean value?`,
      `1:36: this.vaule renders as nothing: this is ${GETS_ITEM}, which has no field vaule; did you mean value?`,
      `1:51: vaule.ip renders as nothing: it is no helper, block param or field of ${GETS_ITEM}; did you mean value?`,
      `2:34: kv.Vlaue renders as nothing: kv is ${GETS_ITEM}, which has no field Vlaue; did you mean Value?`,
    ]);
  });

  it("the result of get, and a field of a string from ls, lsdir, getvs or split", () => {
    expect(problems('{{#with (get "/x")}}{{valeu}}{{/with}}{{#each (ls "/h") as |h|}}{{h.name}}{{/each}}{{#each (split "a-b" "-")}}{{this.x}}{{/each}}')).toEqual([
      "1:23: valeu renders as nothing: it is no helper, block param or field of the result of get (its fields: key, value, Key, Value); did you mean value?",
      "1:67: h.name renders as nothing: h is a name from ls (a string), which has no field name",
      "1:113: this.x renders as nothing: this is a part from split (a string), which has no field x",
    ]);
  });

  it("an unknown @data variable, with the ones set there", () => {
    expect(problems('{{@nope}}{{#each (ls "/h")}}{{@indx}}{{/each}}{{#let node="n"}}{{@nod}}{{/let}}')).toEqual([
      "1:3: @nope renders as nothing: there is no data variable @nope here (there are @root)",
      "1:31: @indx renders as nothing: there is no data variable @indx here (there are @root, @index, @key, @first, @last); did you mean @index?",
      "1:66: @nod renders as nothing: there is no data variable @nod here (there are @root, @node); did you mean @node?",
    ]);
  });

  it("{{.}}, {{this}} or a block param printing an object", () => {
    expect(problems('{{#each (gets "/p/*")}}{{.}}{{/each}}{{#each (gets "/p/*") as |kv|}}{{kv}}{{/each}}{{#with (get "/x")}}{{this}}{{/with}}')).toEqual([
      "1:26: {{.}} is an item of gets, an object: it renders as [object Object]: write one of its fields, {{this.key}}",
      "1:71: {{kv}} is an item of gets, an object: it renders as [object Object]: write one of its fields, {{kv.key}}",
      "1:106: {{this}} is the result of get, an object: it renders as [object Object]: write one of its fields, {{this.key}}",
    ]);
  });

  it("a helper's name as an argument, which reads a field rather than calling the helper", () => {
    expect(problems("{{#if asPort}}x{{/if}}")).toEqual(["1:7: asPort renders as nothing: it is no field of the template's context; to call the helper asPort here, write (asPort …)"]);
  });

  it("a partial's named arguments are its fields, and @ variables pass into it", () => {
    const source = '{{#*inline "p"}}{{name}} {{@as}} {{nmae}}{{/inline}}{{#let as="1"}}{{> p name="x"}}{{/let}}';
    expect(problems(source)).toEqual(["1:36: nmae renders as nothing: it is no helper, block param or field of the partial's context (its fields: name); did you mean name?"]);
  });

  it("accepts anything inside json, jsonArray and index results, and in a partial nobody calls", () => {
    const source = `{{#with (json (getv "/pool"))}}{{this.cidr}} {{a.b.c}} {{#each items as |i|}}{{i.x}}{{/each}}{{/with}}
{{#each (jsonArray (getv "/l")) as |x|}}{{x.anything}}{{/each}}{{#let (index (json (getv "/m")) "k") as |v|}}{{v.w}}{{/let}}
{{#*inline "unused"}}{{whatever}} {{@any}}{{/inline}}`;
    expect(problems(source)).toEqual([]);
  });

  it("follows ../ to the outer context, and lengths and numbered items of lists", () => {
    expect(problems('{{#each (gets "/p/*")}}{{#each (ls "/h")}}{{../key}} {{../nope}}{{/each}}{{/each}}{{#let (ls "/h") as |l|}}{{l.length}} {{l.[0]}}{{/let}}')).toEqual([
      `1:56: ../nope renders as nothing: .. is ${GETS_ITEM}, which has no field nope`,
    ]);
  });
});

describe("a bare helper name meant as a field", () => {
  it("says to write {{this.cidr}}, or the block param's path, instead of counting arguments", () => {
    expect(problems('{{#with (json (getv "/pool"))}}{{cidr}}{{/with}}\n{{#each (jsonArray (getv "/pools")) as |pool|}}{{cidr}}{{/each}}')).toEqual([
      "1:32: {{cidr}} calls the helper cidr, not the field cidr: write {{this.cidr}}",
      "2:48: {{cidr}} calls the helper cidr, not the field cidr: write {{this.cidr}} or {{pool.cidr}}",
    ]);
  });

  it("keeps the argument count finding where the context has no such field", () => {
    expect(problems('{{#each (gets "/p/*")}}{{cidr}}{{/each}}')).toEqual(["1:24: wrong number of arguments: cidr takes 1, got 0"]);
  });

  it("says the same at render time", () => {
    const err = renderTemplateError({ "/pool": '{"cidr": "10.0.0.0/8"}' }, '{{#with (json (getv "/pool"))}}{{cidr}}{{/with}}', { paths: ["/"] });
    expect(err.toString()).toBe("t.hbs:1:32: {{cidr}} calls the helper cidr, not the field cidr: write {{this.cidr}}");
  });

  it("renders the field once written as a path", () => {
    expect(problems('{{#with (json (getv "/pool")) as |pool|}}{{this.cidr}} {{pool.cidr}} {{asCIDR cidr}}{{/with}}')).toEqual([]);
  });
});

describe("deprecated formatter names", () => {
  it("warn at each call with the new name, and are no problem", () => {
    const source = '{{cidr (getv "/a")}} {{#let (split (community "1:2") ":") as |p|}}{{birdString "x"}}{{/let}}';
    expect(warnings(source)).toEqual([
      "1:1: cidr is deprecated (it goes in the next release): write asCIDR",
      "1:36: community is deprecated (it goes in the next release): write asCommunity",
      "1:67: birdString is deprecated (it goes in the next release): write asBirdString",
    ]);
    expect(problems(source)).toEqual([]);
  });
});

describe("Go forms", () => {
  it("are reported alone: what else is wrong inside their tag follows from them", () => {
    expect(problems('{{$x}} {{#if getv "/x"}}y{{/if}} {{end}} {{if (getv "/x")}}')).toEqual([
      `1:3: $x is a Go variable: write {{@x}} for one bound by {{#let x=…}}, or {{x}} for a block param (as |x|) ${SEE}`,
      `1:8: {{#if getv "/x"}} passes a helper as an argument: write {{#if (getv "/x")}} (a call inside another takes parentheses) ${SEE}`,
      `1:34: {{end}} is Go's block end: write {{/if}}, {{/each}}, {{/with}} or {{/let}}, as the block opened ${SEE}`,
      `1:42: {{if …}} opens a Go block: write {{#if …}}…{{/if}} ${SEE}`,
    ]);
  });

  it("{{end}} where the context has fields is an unknown field, with the Go form named", () => {
    expect(problems('{{#each (gets "/p/*")}}{{end}}{{/each}}')).toEqual([
      `1:26: end renders as nothing: it is no helper, block param or field of ${GETS_ITEM}; {{end}} is Go's block end: write {{/if}}, {{/each}}, {{/with}} or {{/let}}, as the block opened ${SEE}`,
    ]);
  });
});

describe("runCheck", () => {
  let c: TestConfdir;
  beforeEach(async () => {
    c = await makeConfdir();
  });
  afterEach(async () => {
    await c.cleanup();
  });

  it("reports path problems and Go forms with file, line and column, and deprecated names as warnings", async () => {
    await c.writeTemplate("t.hbs", '{{#each (gets "/a/*")}}{{vaule}}{{/each}}\n{{asn (getv "/a/as")}}\n{{base .Key}}\n');
    await c.writeResource("t", resourceToml("t.hbs", path.join(c.out, "t"), ["/a"]));
    const report = await runCheck({ confdir: c.dir, nodeName: "node-a" });
    const tpl = path.resolve(c.dir, "templates", "t.hbs");
    expect(report.problems.map(String)).toEqual([
      `${tpl}:1:26: vaule renders as nothing: it is no helper, block param or field of ${GETS_ITEM}; did you mean value?`,
      `${tpl}:3:3: a leading dot is Go's field of the current value: write {{base this.Key}} ${SEE}`,
    ]);
    expect(report.warnings.map(String)).toEqual([`${tpl}:2:1: asn is deprecated (it goes in the next release): write asASN`]);
  });

  it("finds nothing in the shipped Calico set, the examples and the scale benchmark", async () => {
    for (const confdir of [REPO, path.join(REPO, "examples"), path.join(REPO, "bench/scale")]) {
      const report = await runCheck({ confdir, nodeName: "node-a" });
      expect(report.resources.length, confdir).toBeGreaterThan(0);
      expect([...report.problems, ...report.warnings].map(String), confdir).toEqual([]);
    }
  });
});

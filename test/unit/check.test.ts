// `perch check`'s analysis: every finding pinned by its exact message, the keys a template reads
// (with getenv "NODENAME" kept symbolic), and which reads fall outside a resource's keys.
import path from "node:path";
import Handlebars from "handlebars";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCheck } from "../../src/check/check.js";
import { helperUsageProblems } from "../../src/check/helper-usage.js";
import { mayReadInside, resourcePattern, showPattern, textPattern } from "../../src/check/key-pattern.js";
import { templateReads } from "../../src/check/template-reads.js";
import { REPO, makeConfdir, resourceToml, type TestConfdir } from "../helpers/confdir.js";

function usage(source: string): string[] {
  return helperUsageProblems(Handlebars.parse(source)).map((p) => `${p.line}:${p.column}: ${p.message}`);
}

function reads(source: string): string[] {
  return templateReads(Handlebars.parse(source)).map((r) => `${r.helper} ${r.pattern === undefined ? "(computed)" : showPattern(r.pattern)}`);
}

describe("helper usage", () => {
  it("reports every unknown helper, where compiling stops at the first", () => {
    expect(usage("{{foo 1}}\n  {{bar (baz 2)}} {{#qux x}}{{/qux}}")).toEqual(["1:1: unknown helper foo", "2:3: unknown helper bar", "2:9: unknown helper baz", "2:19: unknown helper qux"]);
  });

  it("follows Handlebars: a bare unknown name is a lookup, a block param is never a helper", () => {
    expect(usage("{{name}} {{#section}}x{{/section}} {{#each list as |getv|}}{{getv}}{{/each}}")).toEqual([]);
  });

  it("checks the argument count of every helper in the table and of the built-ins", () => {
    expect(usage('{{getv}} {{getv "/a" "d" "x"}} {{replace "a" "b"}} {{lookup x}} {{#if a b}}{{/if}} {{#each}}{{/each}}')).toEqual([
      "1:1: wrong number of arguments: getv takes 1 or 2, got 0",
      "1:10: wrong number of arguments: getv takes 1 or 2, got 3",
      "1:32: wrong number of arguments: replace takes 3 or 4, got 2",
      "1:52: wrong number of arguments: lookup takes 2, got 1",
      "1:65: wrong number of arguments: if takes 1, got 2",
      "1:84: wrong number of arguments: each takes 1, got 0",
    ]);
    expect(usage('{{eq 1}} {{printf}} {{split "a" "b" "c"}}')).toEqual([
      "1:1: wrong number of arguments: eq takes at least 2, got 1",
      "1:10: wrong number of arguments: printf takes at least 1, got 0",
      "1:21: wrong number of arguments: split takes 2, got 3",
    ]);
  });

  it("flags value helpers written as blocks and block helpers written inline", () => {
    expect(usage("{{#eq a b}}yes{{/eq}} {{if a}} {{join (each x) \",\"}}")).toEqual([
      "1:1: eq is not a block helper (its value would be printed and the block ignored): write {{#if (eq …)}}",
      "1:23: if is a block helper: write {{#if …}}…{{/if}}",
      "1:39: each is a block helper: write {{#each …}}…{{/each}}",
    ]);
  });

  it("takes a bare {{@variable}} named like a helper for the variable, as the render does", () => {
    expect(usage('{{#let ip="x"}}{{@ip}} {{ipv4 @ip}}{{/let}} {{#each (ls "/x")}}{{@index}}{{/each}}')).toEqual([]);
  });

  it("flags named arguments, which helpers ignore", () => {
    expect(usage('{{getv "/a" default="x"}}')).toEqual(["1:1: getv takes no named arguments, got default="]);
  });

  it("flags partials no inline definition provides, and accepts those one does", () => {
    expect(usage('{{#*inline "peer"}}p{{/inline}}{{> peer}}{{> missing}}{{#> fallback}}f{{/fallback}}')).toEqual([
      '1:42: unknown partial missing: define it in this template with {{#*inline "missing"}}…{{/inline}}',
    ]);
  });

  it("looks inside inline partials, else branches and subexpressions", () => {
    expect(usage('{{#*inline "p"}}{{nope}}{{getv}}{{/inline}}{{#if a}}{{else if (bad 1)}}{{/if}}')).toEqual([
      "1:25: wrong number of arguments: getv takes 1 or 2, got 0",
      "1:63: unknown helper bad",
    ]);
  });
});

describe("template reads", () => {
  it("lists literal keys and the store helper reading each", () => {
    expect(reads('{{getv "/a"}}{{#if (exists "/b")}}{{get "/b"}}{{/if}}{{#each (gets "/c/*")}}{{/each}}{{getvs "/d/*"}}{{ls "/e"}}{{lsdir "/f"}}')).toEqual([
      "getv /a",
      "exists /b",
      "get /b",
      "gets /c/*",
      "getvs /d/*",
      "ls /e",
      "lsdir /f",
    ]);
  });

  it("keeps getenv symbolic and follows printf, concat, let variables and block params", () => {
    const source = `{{#let node=(getenv "NODENAME")}}
{{getv (printf "/host/%s/ip" @node)}}
{{#let peers=(concat "/host/" @node "/peer")}}{{#each (gets (printf "%s/*" @peers)) as |kv|}}{{getv kv.key}}{{/each}}{{/let}}
{{#each (lsdir "/host") as |host|}}{{getv (printf "/host/%s/as" host) "0"}}{{/each}}
{{#let (printf "/x/%q" @node) as |quoted|}}{{getv quoted}}{{/let}}
{{/let}}`;
    expect(reads(source)).toEqual([
      "getv /host/<NODENAME>/ip",
      "gets /host/<NODENAME>/peer/*",
      "getv (computed)",
      "lsdir /host",
      "getv /host/*/as",
      "getv /x/*",
    ]);
  });

  it("follows inline partials with the caller's variables and hash arguments", () => {
    const source = `{{#*inline "addr"}}{{getv (printf "/host/%s/%s" @node family)}}{{/inline}}
{{#let node=(getenv "NODENAME")}}{{> addr family="ip_v4"}}{{> addr family="ip_v6"}}{{/let}}`;
    expect(reads(source)).toEqual(["getv /host/<NODENAME>/ip_v4", "getv /host/<NODENAME>/ip_v6"]);
  });

  it("still lists the reads of an inline partial nobody calls", () => {
    expect(reads('{{#*inline "unused"}}{{getv "/u"}}{{/inline}}')).toEqual(["getv /u"]);
  });
});

describe("reads inside a resource's keys", () => {
  const keys = ["/host//NODENAME", "/global"].map(resourcePattern);
  const inside = (key: string, kind: "key" | "glob" | "tree" = "key") => mayReadInside(resourcePattern(key), kind, keys);

  it("shows //NODENAME in keys symbolically", () => {
    expect(keys.map(showPattern)).toEqual(["/host/<NODENAME>", "/global"]);
  });

  it("accepts a key at or below a key path, segment by segment", () => {
    expect(inside("/global")).toBe(true);
    expect(inside("/global/as_num")).toBe(true);
    expect(inside("/globalx/as_num")).toBe(false);
    expect(inside("/host//NODENAME/ip")).toBe(true);
    expect(inside("/host/node-a/ip")).toBe(true);
    expect(inside("/host")).toBe(false);
  });

  it("accepts a glob that can match below a key path", () => {
    expect(inside("/glob*/x", "glob")).toBe(true);
    expect(inside("/other/*", "glob")).toBe(false);
  });

  it("accepts listing a path above or below a key path", () => {
    expect(inside("/host", "tree")).toBe(true);
    expect(inside("/", "tree")).toBe(true);
    expect(inside("/global/peer", "tree")).toBe(true);
    expect(inside("/other", "tree")).toBe(false);
  });

  it("treats the root key path as holding everything", () => {
    expect(mayReadInside(textPattern("/any/thing"), "key", [textPattern("/")])).toBe(true);
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
  const check = (only?: string[]) => runCheck({ confdir: c.dir, nodeName: "node-a", only });

  it("reports conf.d errors, template syntax errors and every helper and key problem at once", async () => {
    await c.writeResource("bad", '[template]\nsrc = "a.hbs"\ndest = "/tmp/x"\nkeys = ["/a"]\nreload_cmnd = "x"\n');
    await c.writeResource("broken", resourceToml("broken.hbs", path.join(c.out, "broken"), ["/a"]));
    await c.writeResource("good", resourceToml("good.hbs", path.join(c.out, "good"), ["/global"], 'prefix = "/bgp"'));
    await c.writeTemplate("broken.hbs", "{{#if x}\n");
    await c.writeTemplate("good.hbs", '{{foo 1}}\n{{getv "/other/k"}} {{bar 2}}\n{{gets "/global/[z"}} {{getv "global/rel"}}\n');
    const report = await check();
    const tpl = (name: string) => path.resolve(c.dir, "templates", name);
    expect(report.problems.map((p) => p.toString())).toEqual([
      `${path.join(c.dir, "conf.d", "bad.toml")}:5: unknown field "reload_cmnd" in [template] (did you mean "reload_cmd"?)`,
      `${tpl("broken.hbs")}:1: syntax error: {{#if x} -------^ Expecting 'CLOSE_RAW_BLOCK', 'CLOSE', 'CLOSE_UNESCAPED', 'OPEN_SEXPR', 'CLOSE_SEXPR', 'ID', 'EQUALS', 'OPEN_BLOCK_PARAMS', 'STRING', 'NUMBER', 'BOOLEAN', 'UNDEFINED', 'NULL', 'DATA', 'SEP', got 'INVALID'`,
      `${tpl("good.hbs")}:1:1: unknown helper foo`,
      `${tpl("good.hbs")}:2:1: getv reads /other/k, outside the keys of resource good (/global)`,
      `${tpl("good.hbs")}:2:21: unknown helper bar`,
      `${tpl("good.hbs")}:3:1: bad glob pattern "/global/[z": unclosed character class`,
      `${tpl("good.hbs")}:3:23: getv "global/rel" never matches: the keys a template sees start with "/"`,
    ]);
    expect(report.problems.find((p) => p.message.includes("outside"))?.context).toMatchObject({ resource: "good", key: "/other/k", line: 2, column: 1 });
    expect(report.resources.map((r) => r.resource)).toEqual(["good"]);
    expect(report.resources[0]).toMatchObject({
      prefix: "/bgp",
      keys: ["/global"],
      reads: [
        { key: "/global/[z", helpers: ["gets"], outside: false },
        { key: "/other/k", helpers: ["getv"], outside: true },
        { key: "global/rel", helpers: ["getv"], outside: false },
      ],
    });
  });

  it("lists the shipped Calico set's reads with the node name symbolic and nothing outside its keys", async () => {
    const report = await runCheck({ confdir: REPO, nodeName: "node-a" });
    expect(report.problems.map(String)).toEqual([]);
    const aggr = report.resources.find((r) => r.resource === "bird_aggr");
    expect(aggr).toMatchObject({
      prefix: "",
      keys: ["/calico/ipam/v2/host/<NODENAME>/ipv4/block", "/calico/staticroutes"],
      reads: [
        { key: "/calico/ipam/v2/host/<NODENAME>/ipv4/block", helpers: ["ls"], outside: false },
        { key: "/calico/ipam/v2/host/<NODENAME>/ipv4/block/*", helpers: ["getv"], outside: false },
        { key: "/calico/staticroutes", helpers: ["ls"], outside: false },
      ],
    });
    const bird = report.resources.find((r) => r.resource === "bird");
    expect(bird?.reads.map((r) => r.key)).toContain("/host/<NODENAME>/ip_addr_v4");
    expect(bird?.reads.every((r) => !r.outside)).toBe(true);
  });

  it("still analyses a resource that loading leaves out, and reports loading's problems once", async () => {
    await c.writeTemplate("a.hbs", '{{getv "/a/k"}}');
    await c.writeTemplate("b.hbs", '{{getv "/x/k"}}');
    await c.writeResource("a", resourceToml("a.hbs", path.join(c.out, "same"), ["/a"]));
    await c.writeResource("b", resourceToml("b.hbs", path.join(c.out, "same"), ["/b"]));
    const report = await check();
    expect(report.resources.map((r) => r.resource)).toEqual(["a", "b"]);
    expect(report.problems.map((p) => p.message)).toEqual([
      `dest ${path.join(c.out, "same")} is also the dest of ${path.join(c.dir, "conf.d", "a.toml")}: two resources cannot write one file`,
      "getv reads /x/k, outside the keys of resource b (/b)",
    ]);
  });

  it("reports a confdir without conf.d as loading does, with nothing to analyse", async () => {
    const report = await runCheck({ confdir: path.join(c.dir, "nowhere"), nodeName: "node-a" });
    expect(report.resources).toEqual([]);
    expect(report.problems.map((p) => p.message)).toEqual([expect.stringMatching(/^cannot read the resource directory: ENOENT/)]);
  });

  it("honours --only and checks a template shared by two resources once", async () => {
    await c.writeTemplate("t.hbs", '{{getv "/a/k"}} {{nope 1}}');
    await c.writeResource("one", resourceToml("t.hbs", path.join(c.out, "one"), ["/a"]));
    await c.writeResource("two", resourceToml("t.hbs", path.join(c.out, "two"), ["/b"]));
    const both = await check();
    expect(both.problems.map((p) => p.message)).toEqual(["getv reads /a/k, outside the keys of resource two (/b)", "unknown helper nope"]);
    const one = await check(["one"]);
    expect(one.resources.map((r) => r.resource)).toEqual(["one"]);
    expect(one.problems.map((p) => p.message)).toEqual(["unknown helper nope"]);
  });
});

describe("printf formats at check time", () => {
  it("reports a bad verb or flag and a count of arguments that does not match the format, where the format is a literal", () => {
    expect(usage('{{printf "%02d-%-10s|%5.2f" 7 "x" 3.14159}} {{printf "%x %q" "a" "b"}}')).toEqual([]);
    expect(usage('{{printf "%5z" 1}}')).toEqual(['1:1: printf: unsupported verb "%5z" (supported: %s %v %d %q %x %X %f %F %e %E %g %G %t %%)']);
    expect(usage('{{printf "%d %d" 1}} {{printf "%s" "a" "b"}}')).toEqual(["1:1: printf: the format uses 2 arguments, got 1", "1:22: printf: the format uses 1 argument, got 2"]);
    expect(usage('{{printf (getv "/fmt") 1}}')).toEqual([]);
  });
});

// confd's store helpers, pinned corner by corner (memkv v0.1.1 semantics), through real templates.
import { describe, expect, it } from "vitest";
import { PerchError } from "../../src/errors.js";
import { compileTemplate } from "../../src/template/compile.js";
import { renderTemplate, renderTemplateError } from "../helpers/render-template.js";

const KEYS: Record<string, string> = {
  "/app/a": "3",
  "/app/b": "1",
  "/app/c": "2",
  "/app/dir/x": "x1",
  "/app/dir/y": "y1",
  "/app/dir/sub/z": "z1",
  "/app/leaf": "",
  "/apple/pie": "outside",
  "/other/secret": "nope",
};

type Options = { prefix?: string; paths?: string[]; env?: Record<string, string> };
const render = (source: string, opts: Options = {}): string => renderTemplate(KEYS, source, { ...opts, paths: opts.paths ?? ["/app"] });
const renderError = (source: string): PerchError => renderTemplateError(KEYS, source, { paths: ["/app"] });

describe("getv", () => {
  it("returns the value of an existing key", () => {
    expect(render('{{getv "/app/a"}}')).toBe("3");
  });
  it("returns an empty value as empty, not as missing", () => {
    expect(render('[{{getv "/app/leaf"}}]')).toBe("[]");
  });
  it("fails on a missing key with no default, naming the key, template, line and column", () => {
    const err = renderError('line one\n  {{getv "/app/nope"}}');
    expect(err.message).toBe("key does not exist: /app/nope");
    expect(err.context).toMatchObject({ key: "/app/nope", template: "t.hbs", line: 2, column: 3 });
    expect(err.toString()).toBe("t.hbs:2:3: key does not exist: /app/nope");
  });
  it("returns the default for a missing key", () => {
    expect(render('{{getv "/app/nope" "dflt"}}')).toBe("dflt");
  });
  it("returns an empty-string default for a missing key", () => {
    expect(render('[{{getv "/app/nope" ""}}]')).toBe("[]");
  });
  it("ignores the default when the key exists", () => {
    expect(render('{{getv "/app/a" "dflt"}}')).toBe("3");
  });
  it("does not treat a directory as a key", () => {
    expect(renderError('{{getv "/app/dir"}}').message).toBe("key does not exist: /app/dir");
  });
  it("checks its argument count", () => {
    expect(renderError('{{getv "/app/a" "x" "y"}}').message).toBe("getv takes 1 to 2 arguments, got 3");
  });
  it("shows a key that is not a string as every helper error shows a value", () => {
    expect(renderError("{{getv (split \"/app/a\" \",\")}}").message).toBe('getv needs a key string, got ["/app/a"]');
    expect(renderError("{{getv nothing}}").message).toBe("getv needs a key string, got undefined");
  });
});

describe("get", () => {
  it("returns key and value, also as Key and Value", () => {
    expect(render('{{#with (get "/app/a")}}{{key}}={{value}} {{Key}}={{Value}}{{/with}}')).toBe("/app/a=3 /app/a=3");
  });
  it("fails on a missing key", () => {
    expect(renderError('{{get "/app/zz"}}').message).toBe("key does not exist: /app/zz");
  });
});

describe("exists", () => {
  it("is true for a key, false for a directory and for a missing key", () => {
    expect(render('{{exists "/app/a"}} {{exists "/app/dir"}} {{exists "/app/nope"}} {{exists "/app/leaf"}}')).toBe("true false false true");
  });
});

describe("gets and getvs", () => {
  it("gets matches a glob whose * does not cross /, sorted by key", () => {
    expect(render('{{#each (gets "/app/*")}}{{key}}={{value}};{{/each}}')).toBe("/app/a=3;/app/b=1;/app/c=2;/app/leaf=;");
  });
  it("gets with no match is an empty list (false in #if)", () => {
    expect(render('{{#if (gets "/app/zz*")}}yes{{else}}none{{/if}}')).toBe("none");
  });
  it("getvs sorts by value where gets sorts by key", () => {
    expect(render('{{#each (getvs "/app/?")}}{{this}}{{/each}}')).toBe("123");
    expect(render('{{#each (gets "/app/?")}}{{value}}{{/each}}')).toBe("312");
  });
  it("supports character classes and nested wildcards", () => {
    expect(render('{{#each (gets "/app/[ab]")}}{{key}} {{/each}}')).toBe("/app/a /app/b ");
    expect(render('{{#each (gets "/app/*/*")}}{{key}} {{/each}}')).toBe("/app/dir/x /app/dir/y ");
  });
  it("reports a malformed pattern with the pattern", () => {
    expect(renderError('{{gets "/app/[a"}}').message).toBe('bad glob pattern "/app/[a": unclosed character class');
  });
});

describe("ls and lsdir", () => {
  it("ls lists leaves and directories, sorted and unique", () => {
    expect(render('{{#each (ls "/app")}}{{this}} {{/each}}')).toBe("a b c dir leaf ");
  });
  it("ls accepts a trailing slash", () => {
    expect(render('{{#each (ls "/app/dir/")}}{{this}} {{/each}}')).toBe("sub x y ");
  });
  it("ls on a leaf returns the leaf's own name", () => {
    expect(render('{{#each (ls "/app/a")}}{{this}}{{/each}}')).toBe("a");
  });
  it("ls on a missing path is empty", () => {
    expect(render('{{#if (ls "/app/zz")}}yes{{else}}empty{{/if}}')).toBe("empty");
  });
  it("lsdir lists only children that have children", () => {
    expect(render('{{#each (lsdir "/app")}}{{this}} {{/each}}')).toBe("dir ");
    expect(render('{{#each (lsdir "/app/dir")}}{{this}} {{/each}}')).toBe("sub ");
  });
  it("lsdir on a leaf is empty", () => {
    expect(render('{{#if (lsdir "/app/a")}}yes{{else}}empty{{/if}}')).toBe("empty");
  });
  it("compares whole segments: /app does not list /apple", () => {
    const out = render('{{#each (ls "/")}}{{this}} {{/each}}', { paths: ["/app", "/apple"] });
    expect(out).toBe("app apple ");
    expect(render('{{#each (ls "/app")}}{{this}} {{/each}}', { paths: ["/app", "/apple"] })).toBe("a b c dir leaf ");
  });
});

describe("key selection and prefixes", () => {
  it("keys = ['/app'] does not pull in /apple/...", () => {
    expect(render('{{exists "/apple/pie"}}')).toBe("false");
  });
  it("a resource never sees keys outside its keys", () => {
    expect(render('{{getv "/other/secret" "hidden"}}')).toBe("hidden");
  });
  it("templates see keys relative to the prefix", () => {
    expect(render('{{getv "/dir/x"}} {{#each (ls "/")}}{{this}},{{/each}}', { prefix: "/app", paths: ["/app/dir"] })).toBe("x1 dir,");
  });
});

describe("getenv", () => {
  it("returns the variable, or the default when unset or empty", () => {
    expect(render('{{getenv "A"}}|{{getenv "B" "dflt"}}|{{getenv "C" "dflt"}}|{{getenv "D"}}', { env: { A: "a", C: "" } })).toBe("a|dflt|dflt|");
  });
});

describe("let", () => {
  it("binds data variables visible in nested blocks", () => {
    expect(render('{{#let v=(getv "/app/a")}}{{#each (ls "/app/dir")}}{{@v}}{{this}} {{/each}}{{/let}}')).toBe("3sub 3x 3y ");
  });
  it("binds block params", () => {
    expect(render('{{#let (getv "/app/b") as |b|}}[{{b}}]{{/let}}')).toBe("[1]");
  });
});

describe("compile-time errors", () => {
  it("an unknown helper names the helper, template and line", () => {
    let err: unknown;
    try {
      compileTemplate("t.hbs", "/x/t.hbs", 'ok\n{{nosuch "/a"}}');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PerchError);
    expect(String(err)).toBe("t.hbs:2:1: unknown helper nosuch");
  });
  it("a syntax error names the line", () => {
    let err: unknown;
    try {
      compileTemplate("t.hbs", "/x/t.hbs", "a\nb\n{{#if x}}\nc\n{{/each}}");
    } catch (e) {
      err = e;
    }
    expect(String(err)).toMatch(/^t\.hbs:3:\d+: if doesn't match each$/);
  });
  it("an unclosed mustache is a syntax error with its line", () => {
    let err: unknown;
    try {
      compileTemplate("t.hbs", "/x/t.hbs", "a\n{{getv \"/a\"");
    } catch (e) {
      err = e;
    }
    expect(String(err)).toMatch(/^t\.hbs:2: syntax error: /);
  });
});

describe("@variables named like a helper", () => {
  it("{{@index}} prints the loop's index, not a call of the index helper; index with arguments stays the helper", () => {
    const keys = { "/x/a": "1", "/x/b": "2" };
    expect(renderTemplate(keys, '{{#each (ls "/x")}}{{@index}}:{{this}}{{#if @first}}!{{/if}} {{/each}}{{index (ls "/x") 1}}', { paths: ["/x"] })).toBe("0:a! 1:b b");
    expect(renderTemplate(keys, '{{#let ip="10.0.0.1"}}{{@ip}} {{asIP @ip}}{{/let}}', { paths: ["/x"] })).toBe("10.0.0.1 10.0.0.1");
  });
});

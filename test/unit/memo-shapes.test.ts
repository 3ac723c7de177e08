// Incremental rendering of the shapes confd users write (loops over gets, getvs, ls/lsdir + getv,
// nested loops, json inside iterations, #let/#with around loops, positions, partials, `../`) and of
// random templates built from them: after any sequence of changes, a memoized render gives exactly
// what a fresh full render gives; and a value change or an added key re-renders O(1) iterations.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Mirror } from "../../src/mirror/mirror.js";
import type { ChangeEvent } from "../../src/store/types.js";
import { compileTemplate } from "../../src/template/compile.js";
import { RenderMemo } from "../../src/template/memo.js";
import { Provenance } from "../../src/template/provenance.js";

const SELECTION = [{ name: "r", prefix: "", paths: ["/p", "/h", "/tag", "/cfg", "/list"] }];
/** 40 pool keys: lists over them span two chunks of memoized iterations. */
const POOL = Array.from({ length: 40 }, (_, i) => `/p/k${String(i).padStart(2, "0")}`);
const HOST_KEYS = ["/h/x/ip", "/h/x/as", "/h/y/ip", "/h/z/ip"];
const KEYS = [...POOL, ...HOST_KEYS, "/tag", "/cfg", "/list"];
const VALUES = ['{"a":"1"}', '{"a":"2","b":[1,2]}', '{"b":[3]}', '"s"', "7", "{}"];
const TAGS = ["a,b", "a", "b,a,a", "", "x"];
const LISTS = ['[{"a":1},{"a":2}]', '[{"a":2},{"a":1},{"a":2}]', "[]", '["x","y"]'];

function initialKeys(): Array<{ key: string; value: string }> {
  return [
    ...POOL.slice(0, 30).map((key, i) => ({ key, value: VALUES[i % VALUES.length] as string })),
    ...HOST_KEYS.map((key, i) => ({ key, value: `10.0.0.${i}` })),
    { key: "/tag", value: "a,b" },
    { key: "/cfg", value: '{"a":"c","n":1}' },
    { key: "/list", value: LISTS[0] as string },
  ];
}

function valueFor(key: string, n: number): string {
  if (key === "/tag") return TAGS[n % TAGS.length] as string;
  if (key === "/list") return LISTS[n % LISTS.length] as string;
  if (key === "/cfg") return `{"a":"c${n % 3}","n":${n % 2}}`;
  if (key.startsWith("/h/")) return `10.0.1.${n % 4}`;
  return VALUES[n % VALUES.length] as string;
}

const change = fc.record({ key: fc.constantFrom(...KEYS), n: fc.nat(11), del: fc.boolean() });
const batches = fc.array(fc.array(change, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 10 });

function outcome(run: () => string): string {
  try {
    return run();
  } catch (err) {
    return `ERROR ${(err as Error).message}`;
  }
}

/** Renders `source` memoized and afresh after every batch; they must agree every time. */
function checkAgainstFullRender(source: string, steps: Array<Array<{ key: string; n: number; del: boolean }>>): void {
  const template = compileTemplate("t.hbs", "/t/t.hbs", source);
  const [mirror, plain] = [new Mirror(SELECTION), new Mirror(SELECTION)];
  for (const m of [mirror, plain]) m.replace(initialKeys(), 1);
  const view = mirror.view("r");
  const memo = new RenderMemo(view);
  const compare = () => {
    const memoized = outcome(() => template.render({ view, env: {}, provenance: new Provenance(), memo }));
    const fresh = outcome(() => template.render({ view: plain.view("r"), env: {}, provenance: new Provenance() }));
    expect(memoized).toBe(fresh);
  };
  compare();
  let revision = 1;
  for (const batch of steps) {
    revision++;
    const events: ChangeEvent[] = batch.map((c) => (c.del ? { type: "delete", key: c.key, revision } : { type: "put", key: c.key, value: valueFor(c.key, c.n), revision }));
    mirror.apply(events, revision);
    plain.apply(events, revision);
    compare();
  }
}

const SHAPES: Record<string, string> = {
  getsJson: '{{#each (gets "/p/*")}}{{key}}:{{#with (json value)}}{{this.a}}{{#each this.b}}.{{this}}{{/each}}{{/with}};{{/each}}',
  getvs: '{{#each (getvs "/p/*")}}{{this}}|{{/each}}',
  lsGetv: '{{#each (ls "/p")}}{{this}}={{getv (concat "/p/" this)}};{{/each}}',
  lsdirNested: '{{#each (lsdir "/h") as |host|}}{{host}}[{{#each (ls (concat "/h/" host)) as |field|}}{{field}}={{getv (concat "/h/" host "/" field)}}{{@../index}},{{/each}}]{{/each}}',
  nestedGets: '{{#each (ls "/h")}}{{this}}:{{#each (gets "/p/*")}}{{#if (eq value "7")}}{{key}}{{/if}}{{/each}};{{/each}}',
  positions: '{{#each (gets "/p/*")}}{{#unless @first}},{{/unless}}{{concat "#" @index}}{{key}}{{#if @last}}.{{/if}}{{/each}}',
  bareIndex: '{{#each (getvs "/p/*")}}{{@index}}:{{this}} {{/each}}',
  lastOnly: '{{#each (ls "/p")}}{{this}}{{#if @last}}!{{/if}} {{/each}}',
  blockIndex: '{{#each (ls "/p") as |name i|}}{{i}}{{name}} {{/each}}',
  letAround: '{{#let tag=(getv "/tag" "-")}}{{#each (gets "/p/*")}}{{@tag}}{{value}}{{/each}}{{/let}}',
  letParamAround: '{{#let (getv "/tag" "-") (json (getv "/cfg" "{}")) as |tag cfg|}}{{#each (ls "/p")}}{{tag}}{{cfg.a}}{{this}}{{/each}}{{/let}}',
  withAround: '{{#with (json (getv "/cfg" "{}"))}}{{#each (ls "/p")}}{{../a}}{{this}}{{/each}}{{/with}}',
  letList: '{{#let pool=(gets "/p/*")}}{{#each @pool}}{{key}}/{{len @pool}};{{/each}}{{/let}}',
  // Answers are patched in place: a loop over other items that reads one through a variable, a block param or `..`
  // sees the same list at a new version, which is a new value.
  letAnswerAround: '{{#let pool=(gets "/p/*")}}{{#each (ls "/h")}}{{this}}:{{len @pool}};{{/each}}{{/let}}',
  withAnswerAround: '{{#with (ls "/p")}}{{#each (lsdir "/h")}}{{this}}:{{len ..}}{{#each ..}}{{#if @last}}{{this}}{{/if}}{{/each}};{{/each}}{{/with}}',
  answerParamAround: '{{#with (getvs "/p/*") as |values|}}{{#each (ls "/h/x")}}{{this}}{{len values}}{{#each values}}{{#if @last}}{{this}}{{/if}}{{/each}};{{/each}}{{/with}}',
  jsonList: '{{#each (json (getv "/list" "[]"))}}{{this.a}}{{this}}{{concat "#" @index}};{{/each}}',
  splitList: '{{#each (split (getv "/tag" "") ",")}}{{this}}={{getv (concat "/p/k0" this) "-"}}{{#each (ls "/h")}}{{this}}{{/each}};{{/each}}',
  // Found by the random templates: the inner iterations, reused while the outer one re-renders,
  // read the outer one's @index; the outer one must still count as reading it.
  outerIndexInReusedInner: '{{#each (gets "/p/*")}}{{#let tag=(getv "/tag" "-")}}{{#each (split (getv "/tag" "") ",")}}{{@../index}}{{/each}}{{#each (ls "/h/x")}}{{this}}{{/each}}{{/let}}{{/each}}',
  // Found by the random templates: two loops over the same gets answer hand out the same pair objects, and
  // Handlebars' `../` skips a context equal to the one below it; a full render must hand out the same ones.
  sameListNested: '{{#each (split (getv "/tag" "") ",")}}{{#each (gets "/p/*")}}{{#each (gets "/p/*")}}{{../this}}{{this}}{{/each}}{{/each}}{{/each}}',
  partial: '{{#*inline "row"}}<{{key}}{{concat "#" @index}}{{@tag}}>{{/inline}}{{#let tag=(getv "/tag" "-")}}{{#each (gets "/p/*")}}{{> row}}{{/each}}{{/let}}',
  partialTwice:
    '{{#*inline "list"}}{{#each (ls "/h")}}{{@tag}}{{this}}{{/each}}{{/inline}}{{#if (exists "/tag")}}{{#let tag=(getv "/tag")}}{{> list}}{{/let}}{{/if}}|{{#let tag="z"}}{{> list}}{{/let}}',
};

describe("incremental rendering of the common shapes equals a full render", () => {
  for (const [name, source] of Object.entries(SHAPES)) {
    it(`${name}, after any changes`, () => {
      fc.assert(
        fc.property(batches, (steps) => checkAgainstFullRender(source, steps)),
        { numRuns: 60 },
      );
    });
  }
});

// Random templates: loops over any list, nested, wrapped in let/with/if, reading positions,
// outer variables, block params, parent contexts and partials.
const LISTS_EXPR = ['(gets "/p/*")', '(getvs "/p/*")', '(ls "/p")', '(lsdir "/h")', '(ls "/h/x")', '(split (getv "/tag" "") ",")', '(json (getv "/list" "[]"))'];
const LEAVES = [
  "{{this}}",
  "{{key}}={{value}}",
  '{{concat "#" @index}}',
  "{{@index}}",
  "{{#if @first}}^{{/if}}",
  "{{#if @last}}${{/if}}",
  "{{@tag}}",
  "{{t}}",
  "{{@../index}}",
  "{{../this}}",
  '{{getv (concat "/p/" this) "-"}}',
  '{{getv "/tag" "-"}}',
  '{{#if value}}{{#with (json value)}}{{a}}{{/with}}{{/if}}',
  '{{len (ls "/p")}}',
  "{{len @all}}",
  "{{> p}}",
  ",",
];

const body: fc.Memo<string> = fc.memo((depth) => {
  const leaf = fc.constantFrom(...LEAVES);
  if (depth <= 1) return fc.array(leaf, { minLength: 1, maxLength: 3 }).map((parts) => parts.join(""));
  const loop = fc
    .tuple(fc.constantFrom(...LISTS_EXPR), fc.boolean(), body(depth - 1))
    .map(([list, named, inner]) => (named ? `{{#each ${list} as |x i|}}{{x}}{{i}}${inner}{{/each}}` : `{{#each ${list}}}${inner}{{/each}}`));
  const wrapped = fc.tuple(fc.constantFrom("let", "letParam", "with", "if"), body(depth - 1)).map(([kind, inner]) => {
    if (kind === "let") return `{{#let tag=(getv "/tag" "-") all=(gets "/p/*")}}${inner}{{/let}}`;
    if (kind === "letParam") return `{{#let (getv "/cfg" "-") as |t|}}${inner}{{/let}}`;
    if (kind === "with") return `{{#with (json (getv "/cfg" "{}"))}}${inner}{{/with}}`;
    return `{{#if (exists "/tag")}}${inner}{{else}}-{{/if}}`;
  });
  return fc.array(fc.oneof(leaf, loop, wrapped), { minLength: 1, maxLength: 3 }).map((parts) => parts.join(""));
});

describe("incremental rendering of random templates built from those shapes", () => {
  it("equals a full render after any changes", () => {
    fc.assert(
      fc.property(body(4), batches, (source, steps) => checkAgainstFullRender(`{{#*inline "p"}}<{{this}}{{concat "#" @index}}>{{/inline}}${source}`, steps)),
      { numRuns: 200 },
    );
    // Some random templates nest three loops over 40 items: generous for a shared machine.
  }, 120_000);
});

describe("what a change re-renders", () => {
  const N = 200;
  const names = Array.from({ length: N }, (_, i) => `k${String(i).padStart(3, "0")}`);
  const setUp = (source: string) => {
    const mirror = new Mirror([{ name: "r", prefix: "", paths: ["/p", "/tag"] }]);
    mirror.replace([...names.map((n, i) => ({ key: `/p/${n}`, value: `{"cidr":"10.0.${i}.0/24"}` })), { key: "/tag", value: "t" }], 1);
    const view = mirror.view("r");
    const memo = new RenderMemo(view);
    const template = compileTemplate("t.hbs", "/t/t.hbs", source);
    let revision = 1;
    return {
      memo,
      render: () => template.render({ view, env: {}, provenance: new Provenance(), memo }),
      put: (key: string, value: string) => mirror.apply([{ type: "put", key, value, revision: ++revision }], revision),
      del: (key: string) => mirror.apply([{ type: "delete", key, revision: ++revision }], revision),
    };
  };

  it.each([
    ["gets + json", '{{#each (gets "/p/*")}}{{#with (json value)}}{{this.cidr}}{{/with}};{{/each}}'],
    ["getvs", '{{#each (getvs "/p/*")}}{{this}};{{/each}}'],
    ["ls + getv", '{{#each (ls "/p")}}{{this}}={{getv (concat "/p/" this)}};{{/each}}'],
    ["let around", '{{#let tag=(getv "/tag")}}{{#each (gets "/p/*")}}{{@tag}}{{value}};{{/each}}{{/let}}'],
    ["@first/@last", '{{#each (gets "/p/*")}}{{#unless @first}},{{/unless}}{{value}}{{#if @last}}.{{/if}}{{/each}}'],
  ])("%s: a value change re-renders one iteration, an added or removed key O(1)", (_, source) => {
    const t = setUp(source);
    t.render();
    expect(t.memo.stats).toMatchObject({ reused: 0, rendered: N });
    t.put("/p/k100", '{"cidr":"10.9.9.9/32"}');
    expect(t.render()).toContain("10.9.9.9");
    expect(t.memo.stats.rendered).toBeLessThanOrEqual(2);
    t.put("/p/k0995", '{"cidr":"10.8.8.8/32"}');
    expect(t.render()).toContain("10.8.8.8");
    expect(t.memo.stats.rendered).toBeLessThanOrEqual(2);
    t.put("/p/k999", '{"cidr":"10.7.7.7/32"}');
    t.render();
    // The new last item, and the one that was last.
    expect(t.memo.stats.rendered).toBeLessThanOrEqual(3);
    t.del("/p/k050");
    t.render();
    expect(t.memo.stats.rendered).toBeLessThanOrEqual(2);
  });

  it.each([
    ["gets + json", '{{#each (gets "/q/*")}}{{#with (json value)}}{{this.cidr}}{{/with}};{{/each}}'],
    ["nested", '{{#each (gets "/q/*")}}{{#with (json value)}}{{#each this.ports}}{{../cidr}}:{{this}} {{/each}}{{/with}};{{/each}}'],
    ["@first/@last", '{{#each (gets "/q/*")}}{{#unless @first}},{{/unless}}{{value}}{{#if @last}}.{{/if}}{{/each}}'],
  ])("%s: a change looks at O(log N) pieces and iterations, at 1,000 and at 10,000 keys, and renders what a full render does", (_, source) => {
    const stepsPerChange = (size: number): number[] => {
      const [mirror, plain] = [new Mirror([{ name: "r", prefix: "", paths: ["/q"] }]), new Mirror([{ name: "r", prefix: "", paths: ["/q"] }])];
      const key = (i: number) => `/q/k${String(i).padStart(5, "0")}`;
      for (const m of [mirror, plain]) m.replace(Array.from({ length: size }, (_, i) => ({ key: key(i), value: `{"cidr":"10.0.${i % 256}.0/24","ports":[1,2]}` })), 1);
      const view = mirror.view("r");
      const memo = new RenderMemo(view);
      const template = compileTemplate("t.hbs", "/t/t.hbs", source);
      const render = () => template.render({ view, env: {}, provenance: new Provenance(), memo });
      render();
      const visited: number[] = [];
      const changes: ChangeEvent[][] = [
        [{ type: "put", key: key(Math.floor(size / 3)), value: '{"cidr":"10.9.9.9/32","ports":[3]}', revision: 2 }],
        [{ type: "put", key: `${key(Math.floor(size / 2))}x`, value: '{"cidr":"10.8.8.8/32","ports":[4]}', revision: 3 }],
        [{ type: "delete", key: key(Math.floor((2 * size) / 3)), revision: 4 }],
        // Two keys in one batch: the list is made by two splices (runs are then compared item by item).
        [
          { type: "delete", key: key(5), revision: 5 },
          { type: "put", key: `${key(size - 5)}x`, value: '{"cidr":"10.7.7.7/32","ports":[5]}', revision: 5 },
        ],
      ];
      for (const batch of changes) {
        for (const m of [mirror, plain]) m.apply(batch, batch[0]?.revision ?? 0);
        expect(render()).toBe(template.render({ view: plain.view("r"), env: {}, provenance: new Provenance() }));
        // The pieces reused whole and opened, the iterations looked at in the runs the change touched, items compared.
        visited.push(memo.stats.runs + memo.stats.opened + memo.stats.visited + memo.stats.compared);
      }
      return visited;
    };
    for (const size of [1000, 10_000]) {
      const steps = stepsPerChange(size);
      // Runs of 32 iterations under blocks of 16: one run's iterations and at most 16 pieces a level.
      for (const count of steps.slice(0, 3)) expect(count).toBeLessThanOrEqual(32 + 16 * 3);
    }
  });

  it("ls + getv: a value change compares no item of the unchanged listing, at 10,000 keys as at 1,000", () => {
    const comparedPerChange = (size: number): number => {
      const mirror = new Mirror([{ name: "r", prefix: "", paths: ["/q"] }]);
      mirror.replace(Array.from({ length: size }, (_, i) => ({ key: `/q/k${String(i).padStart(5, "0")}`, value: `${i}` })), 1);
      const view = mirror.view("r");
      const memo = new RenderMemo(view);
      const template = compileTemplate("t.hbs", "/t/t.hbs", '{{#each (ls "/q")}}{{this}}={{getv (concat "/q/" this)}};{{/each}}');
      const render = () => template.render({ view, env: {}, provenance: new Provenance(), memo });
      render();
      mirror.apply([{ type: "put", key: "/q/k00500", value: "changed", revision: 2 }], 2);
      expect(render()).toContain("k00500=changed;");
      expect(memo.stats.visited).toBeLessThanOrEqual(Math.max(32, Math.sqrt(size) + 1));
      return memo.stats.compared;
    };
    expect(comparedPerChange(1000)).toBe(0);
    expect(comparedPerChange(10_000)).toBe(0);
  });

  it("@index: an added key re-renders the iterations after it, no others", () => {
    const t = setUp('{{#each (ls "/p")}}{{concat "#" @index}}{{this}};{{/each}}');
    t.render();
    t.put("/p/k1505", "x");
    expect(t.render()).toContain("#151k1505;");
    expect(t.memo.stats).toMatchObject({ reused: 151, rendered: N + 1 - 151 });
  });

  it("a change to an outer variable the iterations read re-renders them all", () => {
    const t = setUp('{{#let tag=(getv "/tag")}}{{#each (ls "/p")}}{{@tag}}{{this}};{{/each}}{{/let}}');
    t.render();
    t.put("/tag", "u");
    expect(t.render()).toContain("uk000;uk001;");
    expect(t.memo.stats).toMatchObject({ reused: 0, rendered: N });
  });

  it("a nested loop re-renders only the inner iteration that changed", () => {
    const t = setUp('{{#each (ls "/tag")}}{{#each (gets "/p/*")}}{{value}};{{/each}}{{/each}}{{#each (split "a,b" ",")}}{{#each (ls "/p")}}{{getv (concat "/p/" this)}}{{/each}}{{/each}}');
    t.render();
    t.put("/p/k010", "changed");
    t.render();
    // The outer iterations that read it (one per outer loop item), and the inner iteration in each.
    expect(t.memo.stats.rendered).toBe(2 + 4);
  });
});

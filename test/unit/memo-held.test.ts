// What the memo keeps between renders: an iteration's text is read back from its run's (the one
// copy of a loop's output), and entries go with their loop site or their item.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Mirror } from "../../src/mirror/mirror.js";
import type { ChangeEvent } from "../../src/store/types.js";
import { compileTemplate } from "../../src/template/compile.js";
import { RenderMemo } from "../../src/template/memo.js";
import { Provenance } from "../../src/template/provenance.js";

const names = Array.from({ length: 100 }, (_, i) => `n${String(i).padStart(2, "0")}`);

/** A memoized and a plain mirror of the same keys, and renders of `source` from each. */
function pair(source: string, keys: Array<{ key: string; value: string }>) {
  const template = compileTemplate("t.hbs", "/t/t.hbs", source);
  const selection = [{ name: "r", prefix: "", paths: ["/"] }];
  const [mirror, plain] = [new Mirror(selection), new Mirror(selection)];
  for (const m of [mirror, plain]) m.replace(keys, 1);
  const memo = new RenderMemo(mirror.view("r"));
  let revision = 1;
  return {
    memo,
    memoized: () => template.render({ view: mirror.view("r"), env: {}, provenance: new Provenance(), memo }),
    fresh: () => template.render({ view: plain.view("r"), env: {}, provenance: new Provenance() }),
    apply: (events: Array<{ key: string; value?: string }>) => {
      revision++;
      const changes: ChangeEvent[] = events.map((e) => (e.value === undefined ? { type: "delete", key: e.key, revision } : { type: "put", key: e.key, value: e.value, revision }));
      mirror.apply(changes, revision);
      plain.apply(changes, revision);
    },
  };
}

describe("RenderMemo's text kept once per loop", () => {
  it("an iteration reused apart from its run gives back its own text, after any edits", () => {
    // Values of every length, so that an iteration's text read at another's offsets shows.
    const source = '{{#each (ls "/names")}}<{{this}}={{getv (concat "/names/" this)}}>{{#each (split (getv (concat "/names/" this)) ",")}}[{{this}}]{{/each}}{{/each}}';
    const value = fc.array(fc.constantFrom("a", "bb", "ccc,d", "", "eeeeeeee,f,g"), { minLength: 1, maxLength: 3 }).map((parts) => parts.join(","));
    const edit = fc.record({ name: fc.constantFrom(...names), value, del: fc.boolean() });
    let reusedApart = 0;
    fc.assert(
      fc.property(fc.array(fc.array(edit, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 10 }), (batches) => {
        const p = pair(source, names.map((n, i) => ({ key: `/names/${n}`, value: "x".repeat(i % 7) })));
        expect(p.memoized()).toBe(p.fresh());
        for (const batch of batches) {
          p.apply(batch.map((e) => ({ key: `/names/${e.name}`, value: e.del ? undefined : e.value })));
          expect(p.memoized()).toBe(p.fresh());
          // Looked at one by one and not rendered: reused apart from a run.
          reusedApart += p.memo.stats.visited - p.memo.stats.rendered;
        }
      }),
      { numRuns: 100 },
    );
    expect(reusedApart).toBeGreaterThan(0);
  });

  it("an edit in one run leaves the others' iterations reused whole and its neighbours read back from it", () => {
    const p = pair('{{#each (ls "/names")}}{{this}}={{getv (concat "/names/" this)}};{{/each}}', names.map((n) => ({ key: `/names/${n}`, value: n.repeat(3) })));
    p.memoized();
    p.apply([{ key: "/names/n40", value: "changed" }]);
    const out = p.memoized();
    expect(out).toBe(p.fresh());
    expect(out).toContain("n39=n39n39n39;n40=changed;n41=n41n41n41;");
    expect(p.memo.stats).toMatchObject({ rendered: 1, reused: 99 });
  });
});

describe("RenderMemo drops what a render no longer uses", () => {
  it("drops a loop site's entries and their reads when the site is not entered", () => {
    const source = '{{#if (eq (getv "/on") "1")}}{{#each (ls "/names")}}{{this}}={{getv (concat "/names/" this)}};{{/each}}{{/if}}.';
    const p = pair(source, [{ key: "/on", value: "1" }, ...names.map((n) => ({ key: `/names/${n}`, value: "v" }))]);
    p.memoized();
    // One entry per name, each reading its key (the listing is read outside every iteration).
    expect(p.memo.held()).toMatchObject({ entries: 100, paths: 100 });
    p.apply([{ key: "/on", value: "0" }]);
    expect(p.memoized()).toBe(".");
    expect(p.memo.held()).toEqual({ entries: 0, paths: 0, runs: 0 });
    p.apply([{ key: "/on", value: "1" }]);
    expect(p.memoized()).toBe(p.fresh());
    expect(p.memo.held()).toMatchObject({ entries: 100, paths: 100 });
  });

  it("drops a nested loop site with the iteration that no longer enters it", () => {
    const source = '{{#each (ls "/names")}}{{this}}:{{#if (eq (getv (concat "/names/" this)) "loop")}}{{#each (ls "/names")}}.{{this}}{{/each}}{{/if}};{{/each}}';
    const p = pair(source, names.map((n) => ({ key: `/names/${n}`, value: n === "n05" ? "loop" : "v" })));
    p.memoized();
    expect(p.memo.held().entries).toBe(200);
    p.apply([{ key: "/names/n05", value: "v" }]);
    expect(p.memoized()).toBe(p.fresh());
    expect(p.memo.held().entries).toBe(100);
  });

  it("drops the entries of items no longer listed once they outnumber the allowance, with their reads", () => {
    const p = pair('{{#each (ls "/names")}}{{this}}={{getv (concat "/names/" this)}};{{/each}}', names.map((n) => ({ key: `/names/${n}`, value: "v" })));
    p.memoized();
    p.apply(names.slice(0, 60).map((n) => ({ key: `/names/${n}` })));
    expect(p.memoized()).toBe(p.fresh());
    // 40 listed, 60 gone: more than max(32, 40 / 8) unused, so they go.
    expect(p.memo.held()).toMatchObject({ entries: 40, paths: 40 });
  });
});

// Incremental rendering must be invisible: after any sequence of changes, a memoized render gives
// exactly what a fresh full render gives — with the shipped Calico templates and with templates
// built to trip it (loops in partials used twice, outer variables, positions, nested loops).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Mirror } from "../../src/mirror/mirror.js";
import type { ChangeEvent } from "../../src/store/types.js";
import { compileTemplate } from "../../src/template/compile.js";
import { RenderMemo } from "../../src/template/memo.js";
import { renderResource } from "../../src/render/render.js";
import { conformanceRoot, readCase, resourcesFor } from "../helpers/conformance.js";
import path from "node:path";
import { Provenance } from "../../src/template/provenance.js";
import { textOf } from "../../src/render/rendered-text.js";

function outcome(run: () => string): string {
  try {
    return run();
  } catch (err) {
    return `ERROR ${(err as Error).message}`;
  }
}

describe("RenderMemo with the Calico set", () => {
  const base = readCase(path.join(conformanceRoot, "calico-v3.16", "mesh", "communities", "step2"));
  const hosts = ["kube-master", "kube-node-1", "kube-node-2", "node-x", "node-y"];
  const change = fc.oneof(
    fc.record({ host: fc.constantFrom(...hosts), field: fc.constantFrom("ip_addr_v4", "as_num", "listen_port", "ip_addr_v6", "rr_cluster_id"), n: fc.integer({ min: 1, max: 9 }), del: fc.boolean() }),
    fc.record({ global: fc.constantFrom("as_num", "listen_port", "node_mesh", "loglevel"), n: fc.integer({ min: 0, max: 3 }), del: fc.boolean() }),
  );
  const valueOf = (field: string, n: number): string =>
    ({
      ip_addr_v4: `10.192.0.${n}`,
      ip_addr_v6: `fe0a::${n}`,
      as_num: `6451${n}`,
      listen_port: `17${n}`,
      rr_cluster_id: n > 5 ? "" : `10.0.0.${n}`,
      node_mesh: n % 2 === 0 ? '{"enabled":true}' : '{"enabled":false}',
      loglevel: ["info", "debug", "none", "info"][n % 4] as string,
    })[field] as string;

  it("renders every resource exactly as a full render does, after any changes", async () => {
    const resources = await resourcesFor("kube-master");
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(change, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 }), async (steps) => {
        // The fresh render reads a second mirror that keeps no versions (and so no listing cache).
        const mirror = new Mirror(resources.map((r) => r.selection));
        const plain = new Mirror(resources.map((r) => r.selection));
        for (const m of [mirror, plain]) m.replace(Object.entries(base.keys).map(([key, value]) => ({ key, value })), 1);
        const memos = new Map(resources.map((r) => [r.name, new RenderMemo(mirror.view(r.name))]));
        const env = { ...base.env };
        let revision = 1;
        const check = () => {
          for (const r of resources) {
            const memoized = outcome(() => textOf(renderResource(r, { view: mirror.view(r.name), env, provenance: new Provenance(), memo: memos.get(r.name) })));
            const fresh = outcome(() => textOf(renderResource(r, { view: plain.view(r.name), env, provenance: new Provenance() })));
            expect(memoized).toBe(fresh);
          }
        };
        check();
        for (const batch of steps) {
          revision++;
          const events: ChangeEvent[] = batch.map((c) => {
            const key = "host" in c ? `/calico/bgp/v1/host/${c.host}/${c.field}` : `/calico/bgp/v1/global/${c.global}`;
            const field = "host" in c ? c.field : c.global;
            return c.del ? { type: "delete", key, revision } : { type: "put", key, value: valueOf(field, c.n), revision };
          });
          mirror.apply(events, revision);
          plain.apply(events, revision);
          check();
        }
      }),
      { numRuns: 60 },
    );
  });

  it("re-renders only the iteration whose keys changed", async () => {
    const resources = await resourcesFor("kube-master");
    const bird = resources.find((r) => r.name === "bird");
    if (!bird) throw new Error("no bird resource");
    const mirror = new Mirror(resources.map((r) => r.selection));
    mirror.replace(Object.entries(base.keys).map(([key, value]) => ({ key, value })), 1);
    const memo = new RenderMemo(mirror.view("bird"));
    const render = () => textOf(renderResource(bird, { view: mirror.view("bird"), env: base.env, provenance: new Provenance(), memo }));
    render();
    // The first render counts the loops inside iterations too; the second reuses the outermost whole.
    expect(memo.stats.rendered).toBeGreaterThan(1);
    render();
    const hostsInMesh = memo.stats.reused;
    expect(hostsInMesh).toBeGreaterThan(1);
    expect(memo.stats.rendered).toBe(0);
    mirror.apply([{ type: "put", key: "/calico/bgp/v1/host/kube-node-1/ip_addr_v4", value: "10.192.0.77", revision: 2 }], 2);
    expect(render()).toContain("neighbor 10.192.0.77");
    expect(memo.stats.rendered).toBe(1);
    // The node's own address is read outside the loop: everything renders afresh.
    mirror.apply([{ type: "put", key: "/calico/bgp/v1/host/kube-master/ip_addr_v4", value: "10.192.0.99", revision: 3 }], 3);
    render();
    expect(memo.stats.reused).toBe(0);
  });
});

describe("RenderMemo with tricky templates", () => {
  const sources: Record<string, string> = {
    partialTwice:
      '{{#*inline "list"}}{{#each (ls "/names")}}{{@tag}}:{{this}}={{getv (concat "/names/" this)}};{{/each}}{{/inline}}' +
      '{{#let tag="a"}}{{> list}}{{/let}}|{{#let tag=(getv "/tag")}}{{> list}}{{/let}}',
    outerVariable: '{{#let suffix=(getv "/tag")}}{{#each (ls "/names")}}{{this}}{{@suffix}},{{/each}}{{/let}}',
    positions: '{{#each (ls "/names")}}{{@index}}{{#if @first}}^{{/if}}{{this}}{{#if @last}}${{/if}} {{/each}}',
    nested: '{{#each (ls "/names") as |n|}}[{{#each (ls "/names") as |m|}}{{n}}{{m}}{{getv (concat "/names/" m)}}{{/each}}]{{/each}}',
    pairs: '{{#each (gets "/names/*")}}{{key}}={{value}}{{#each (getvs "/names/*")}}.{{this}}{{/each}};{{/each}}',
    outerAfter: '{{#each (ls "/names")}}{{this}}{{/each}}/{{getv "/tag"}}',
    // Loops over a list that is not a listing, whose iterations list and glob: only the
    // iterations' own reads can tell that /names changed.
    innerList: '{{#each (split (getv "/tag") ",")}}{{this}}:{{#each (ls "/names")}}{{this}}{{/each}};{{/each}}',
    innerGlob: '{{#each (split (getv "/tag") ",")}}{{this}}={{#each (gets "/names/*")}}{{value}}{{/each}};{{/each}}',
    // The same item twice in one list (equal values; "a,a"), and items that go and come back.
    duplicates:
      '{{#each (getvs "/names/*")}}{{this}}:{{getv "/tag"}};{{/each}}|{{#each (split (getv "/tag") ",")}}{{this}}={{getv (concat "/names/" this) "-"}}{{#each (ls "/names")}}.{{this}}{{/each}};{{/each}}',
  };
  const op = fc.record({ key: fc.constantFrom("/names/a", "/names/b", "/names/c", "/tag"), value: fc.constantFrom("1", "2", "x", "a,b", "a,a"), del: fc.boolean() });

  for (const [name, source] of Object.entries(sources)) {
    it(`${name}: memoized equals fresh after any changes`, () => {
      const template = compileTemplate(`${name}.hbs`, `/t/${name}.hbs`, source);
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: 12 }), (ops) => {
          const selection = [{ name: "r", prefix: "", paths: ["/names", "/tag"] }];
          const [mirror, plain] = [new Mirror(selection), new Mirror(selection)];
          for (const m of [mirror, plain]) m.replace([{ key: "/names/a", value: "1" }, { key: "/names/b", value: "2" }, { key: "/tag", value: "t" }], 1);
          const view = mirror.view("r");
          const memo = new RenderMemo(view);
          let revision = 1;
          for (const o of ops) {
            revision++;
            const event: ChangeEvent = o.del ? { type: "delete", key: o.key, revision } : { type: "put", key: o.key, value: o.value, revision };
            mirror.apply([event], revision);
            plain.apply([event], revision);
            const memoized = outcome(() => template.render({ view, env: {}, provenance: new Provenance(), memo }));
            const fresh = outcome(() => template.render({ view: plain.view("r"), env: {}, provenance: new Provenance() }));
            expect(memoized).toBe(fresh);
          }
        }),
        { numRuns: 150 },
      );
    });
  }
});

describe("RenderMemo over lists longer than a chunk of iterations", () => {
  // 100 names: the loops below span four chunks (memo.ts's CHUNK), reused whole while the listing
  // is the same array and none of their iterations is stale.
  const names = Array.from({ length: 100 }, (_, i) => `n${String(i).padStart(2, "0")}`);
  const sources: Record<string, string> = {
    values: '{{#each (ls "/names")}}{{this}}={{getv (concat "/names/" this)}};{{/each}}',
    positions: '{{#each (lsdir "/hosts")}}{{@index}}{{#if @first}}^{{/if}}{{this}}:{{getv (concat "/hosts/" this "/ip") "-"}}{{#if @last}}${{/if}} {{/each}}',
    outerVariable: '{{#let suffix=(getv "/tag")}}{{#each (ls "/names")}}{{this}}{{@suffix}}{{getv (concat "/names/" this)}},{{/each}}{{/let}}',
    twoLoops: '{{#each (ls "/names")}}{{this}}{{/each}}|{{#each (ls "/names")}}{{getv (concat "/names/" this)}}{{/each}}',
  };
  const key = fc.oneof(
    fc.constantFrom(...names).map((n) => `/names/${n}`),
    fc.constantFrom(...names).map((n) => `/hosts/${n}/ip`),
    fc.constant("/tag"),
  );
  const op = fc.record({ key, value: fc.constantFrom("1", "2", "x"), del: fc.boolean() });

  for (const [name, source] of Object.entries(sources)) {
    it(`${name}: memoized equals fresh after any changes`, () => {
      const template = compileTemplate(`${name}.hbs`, `/t/${name}.hbs`, source);
      fc.assert(
        fc.property(fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 15 }), (batches) => {
          const selection = [{ name: "r", prefix: "", paths: ["/names", "/hosts", "/tag"] }];
          const [mirror, plain] = [new Mirror(selection), new Mirror(selection)];
          const start = [...names.flatMap((n) => [{ key: `/names/${n}`, value: "0" }, { key: `/hosts/${n}/ip`, value: "0" }]), { key: "/tag", value: "t" }];
          for (const m of [mirror, plain]) m.replace(start, 1);
          const view = mirror.view("r");
          const memo = new RenderMemo(view);
          const render = () => outcome(() => template.render({ view, env: {}, provenance: new Provenance(), memo }));
          expect(render()).toBe(outcome(() => template.render({ view: plain.view("r"), env: {}, provenance: new Provenance() })));
          let revision = 1;
          for (const batch of batches) {
            revision++;
            const events: ChangeEvent[] = batch.map((o) => (o.del ? { type: "delete", key: o.key, revision } : { type: "put", key: o.key, value: o.value, revision }));
            mirror.apply(events, revision);
            plain.apply(events, revision);
            expect(render()).toBe(outcome(() => template.render({ view: plain.view("r"), env: {}, provenance: new Provenance() })));
          }
        }),
        { numRuns: 100 },
      );
    });
  }

  it("reuses the unchanged chunks whole and re-renders one iteration of the changed one", () => {
    const template = compileTemplate("values.hbs", "/t/values.hbs", sources.values as string);
    const selection = [{ name: "r", prefix: "", paths: ["/names"] }];
    const mirror = new Mirror(selection);
    mirror.replace(names.map((n) => ({ key: `/names/${n}`, value: "0" })), 1);
    const view = mirror.view("r");
    const memo = new RenderMemo(view);
    const render = () => template.render({ view, env: {}, provenance: new Provenance(), memo });
    render();
    expect(memo.stats).toMatchObject({ reused: 0, rendered: 100 });
    render();
    expect(memo.stats).toMatchObject({ reused: 100, rendered: 0 });
    mirror.apply([{ type: "put", key: "/names/n40", value: "changed", revision: 2 }], 2);
    expect(render()).toContain("n40=changed;n41=0;");
    expect(memo.stats).toMatchObject({ reused: 99, rendered: 1 });
  });
});

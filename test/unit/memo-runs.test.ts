// The memo's tree of pieces (memo-runs.ts): lists that grow and shrink across the sizes where a level of blocks
// comes or goes, edited one key at a time (a recorded edit), several at once (a splice found by comparing) or
// relisted, render exactly what a full render does; and a change's work grows with log N, not √N.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Mirror } from "../../src/mirror/mirror.js";
import type { ChangeEvent } from "../../src/store/types.js";
import { compileTemplate } from "../../src/template/compile.js";
import { RenderMemo } from "../../src/template/memo.js";
import { Provenance } from "../../src/template/provenance.js";

/** A change event before it is given its batch's revision. */
type Change = { type: "put"; key: string; value: string } | { type: "delete"; key: string };

const TEMPLATES: Record<string, string> = {
  getsJson: '{{#each (gets "/q/*")}}{{#with (json value)}}{{this.cidr}}{{/with}};{{/each}}',
  positions: '{{#each (getvs "/q/*")}}{{#if @first}}^{{/if}}{{concat "#" @index}}{{this}}{{#if @last}}${{/if}};{{/each}}',
  // Only some iterations read their position: a block's first and last pieces decide what it reads.
  somePositions: '{{#each (gets "/q/*")}}{{#with (json value)}}{{#if ports.[0]}}{{#if @first}}^{{/if}}{{#if @last}}${{/if}}{{/if}}{{/with}};{{/each}}',
  someIndex: '{{#each (gets "/q/*")}}{{#with (json value)}}{{#if (eq ports.[0] 2)}}#{{@index}}{{/if}}{{/with}};{{/each}}',
  lastOnly: '{{#each (ls "/q")}}{{this}}{{#unless @last}},{{/unless}}{{/each}}',
  lsGetv: '{{#let tag=(getv "/tag" "-")}}{{#each (ls "/q")}}{{@tag}}{{this}}={{getv (concat "/q/" this)}};{{/each}}{{/let}}',
  nested: '{{#each (split (getv "/tag" "a") ",")}}{{this}}:{{#each (gets "/q/*")}}{{#with (json value)}}{{#each this.ports}}{{../cidr}}{{this}}{{@../index}} {{/each}}{{/with}}{{/each}}|{{/each}}',
};

/** A mirror and a memo over `/q/k<n>` keys, and a second mirror rendered afresh each time to compare with. */
function setUp(source: string, size: number) {
  const selection = [{ name: "r", prefix: "", paths: ["/q", "/tag"] }];
  const [mirror, plain] = [new Mirror(selection), new Mirror(selection)];
  for (const m of [mirror, plain]) m.replace(Array.from({ length: size }, (_, i) => ({ key: keyOf(2 * i + 2), value: valueOf(i + 1) })), 1);
  const view = mirror.view("r");
  const memo = new RenderMemo(view);
  const template = compileTemplate("t.hbs", "/t/t.hbs", source);
  let revision = 1;
  return {
    memo,
    /** Applies one batch to both mirrors, renders memoized and afresh, and expects the same text. */
    step(events: Change[]): string {
      const memoized = this.stepUnchecked(events);
      expect(memoized).toBe(template.render({ view: plain.view("r"), env: {}, provenance: new Provenance() }));
      return memoized;
    },
    stepUnchecked(events: Change[]): string {
      revision++;
      const batch = events.map((event) => ({ ...event, revision }) as ChangeEvent);
      for (const m of [mirror, plain]) m.apply(batch, revision);
      return template.render({ view, env: {}, provenance: new Provenance(), memo });
    },
    keys: () => view.glob("/q/*").length,
  };
}

function keyOf(n: number): string {
  return `/q/k${String(n).padStart(6, "0")}`;
}

function valueOf(n: number): string {
  return `{"cidr":"10.${n % 7}.${n % 256}.0/24","ports":[${n % 3}]}`;
}

/** Keys at even numbers from 2 are there at first; any come and go, often at either end (where @first and @last move). */
const change = fc.record({ n: fc.oneof(fc.nat(1299), fc.constantFrom(0, 1, 2, 3, 1298, 1299)), del: fc.boolean(), v: fc.nat(20) });
const batch = fc.oneof(
  { weight: 3, arbitrary: fc.array(change, { minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.array(change, { minLength: 2, maxLength: 4 }) },
  // More than the mirror patches: the answers are made anew, and runs are found again by comparing.
  { weight: 1, arbitrary: fc.array(change, { minLength: 70, maxLength: 90 }) },
);

function eventsOf(changes: Array<{ n: number; del: boolean; v: number }>): Change[] {
  return changes.map((c) => (c.del ? { type: "delete", key: keyOf(c.n) } : { type: "put", key: keyOf(c.n), value: valueOf(c.v) }));
}

describe("a loop's tree of pieces renders what a full render does", () => {
  // 480 keys at first (one level of runs), growing past 512 (a level of blocks above them) and back.
  for (const [name, source] of Object.entries(TEMPLATES)) {
    it(`${name}, across the size where blocks come and go, after any batches`, () => {
      fc.assert(
        fc.property(fc.array(batch, { minLength: 1, maxLength: 12 }), fc.boolean(), (steps, grow) => {
          const t = setUp(source, grow ? 480 : 540);
          t.step([{ type: "put", key: "/tag", value: "a,b" }]);
          for (const s of steps) t.step(eventsOf(s));
        }),
        { numRuns: 25 },
      );
    }, 60_000);
  }

  it("a key appended after a run whose last iteration read @last and whose first did not", () => {
    // 35 keys: the last run holds items 32–34; only those whose value has a port read @first/@last.
    const t = setUp(TEMPLATES.somePositions as string, 35);
    expect(t.step([{ type: "put", key: "/tag", value: "a" }])).toMatch(/\$;$/);
    expect(t.step([{ type: "put", key: keyOf(1000), value: valueOf(3) }])).toMatch(/;;$/);
  });

  it("a list grown past 8,192 items (a second level of blocks) and shrunk back, one key at a time and in batches", () => {
    for (const source of [TEMPLATES.getsJson, TEMPLATES.somePositions] as string[]) {
      const t = setUp(source, 8180);
      t.step([{ type: "put", key: "/tag", value: "a" }]);
      for (let i = 0; i < 16; i++) t.step([{ type: "put", key: keyOf(2 * i * 97 + 1), value: valueOf(i) }]);
      // Before the first item and after the last.
      t.step([{ type: "put", key: keyOf(0), value: valueOf(1) }]);
      // Appended one at a time, reading @last or not: a run's last iteration decides what it reads.
      for (let i = 0; i < 8; i++) t.step([{ type: "put", key: keyOf(20_000 + i), value: valueOf(i % 3 === 0 ? 3 : i) }]);
      t.step(Array.from({ length: 8 }, (_, i) => ({ type: "put", key: keyOf(4001 + 2 * i), value: valueOf(i) })));
      for (let i = 0; i < 30; i++) t.step([{ type: "delete", key: keyOf(2 * i * 211) }]);
      t.step(Array.from({ length: 100 }, (_, i) => ({ type: "delete", key: keyOf(9000 + 2 * i) })));
    }
  }, 60_000);
});

describe("the work of one change", () => {
  it("stays as small after thousands of keys added and removed at random: runs an edit split are joined again", () => {
    const size = 10_000;
    const t = setUp(TEMPLATES.getsJson as string, size);
    let seed = 7;
    const random = (below: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % below;
    for (let i = 0; i < 3000; i++) {
      const n = random(2 * size + 2);
      const events: Change[] = n % 2 === 0 ? [{ type: "delete", key: keyOf(n) }] : [{ type: "put", key: keyOf(n), value: valueOf(i) }];
      // Every 500th change compared with a full render; the others only rendered.
      if (i % 500 === 499) t.step(events);
      else t.stepUnchecked(events);
    }
    const { runs, opened, visited, compared } = t.memo.stats;
    expect(runs + opened + visited + compared).toBeLessThan(130);
    // 32 items a run at first; edits leave no fewer than 12 on average.
    expect(t.memo.held().runs).toBeLessThanOrEqual(t.keys() / 12);
  }, 60_000);

  /** Pieces reused whole and opened, iterations looked at, items compared: per change, for a value change, an added key, a removed key. */
  const stepsPerChange = (source: string, size: number): number[] => {
    const t = setUp(source, size);
    t.step([{ type: "put", key: "/tag", value: "a" }]);
    const steps: number[] = [];
    const at = (fraction: number) => 2 * Math.floor(size * fraction) + 2;
    for (const events of [
      [{ type: "put", key: keyOf(at(1 / 3)), value: valueOf(7) }],
      [{ type: "put", key: keyOf(at(1 / 2) + 1), value: valueOf(8) }],
      [{ type: "delete", key: keyOf(at(2 / 3)) }],
      [{ type: "put", key: keyOf(at(1 / 5)), value: valueOf(9) }],
      [{ type: "put", key: keyOf(at(4 / 5) + 1), value: valueOf(10) }],
    ] as Array<Change[]>) {
      t.step(events);
      const { runs, opened, visited, compared } = t.memo.stats;
      steps.push(runs + opened + visited + compared);
    }
    return steps;
  };

  it.each([
    ["gets + json", TEMPLATES.getsJson as string],
    ["@first/@last", '{{#each (gets "/q/*")}}{{#unless @first}},{{/unless}}{{value}}{{#if @last}}.{{/if}}{{/each}}'],
    ["ls + getv", '{{#each (ls "/q")}}{{this}}={{getv (concat "/q/" this)}};{{/each}}'],
  ])("%s: steps per change at 100,000 keys are at most twice those at 1,000, and fewer than 130", (_, source) => {
    const [small, middle, large] = [1000, 10_000, 100_000].map((size) => stepsPerChange(source, size)) as [number[], number[], number[]];
    for (let i = 0; i < small.length; i++) {
      expect(middle[i]).toBeLessThanOrEqual(2 * (small[i] as number));
      expect(large[i]).toBeLessThanOrEqual(2 * (small[i] as number));
      expect(large[i]).toBeLessThan(130);
    }
  }, 60_000);
});

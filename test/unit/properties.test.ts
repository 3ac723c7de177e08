// Property-based tests (fast-check) of the store helpers and the mirror against reference models
// written here from the semantics a template author relies on (memkv's, as described in
// ../shared/conformance/calico-v3.16/README.md, plus perch's whole-segment key selection):
//
// - `exists`, `gets`, `getvs`, `ls`, `lsdir` through the helpers, on a KeyIndex changed in place by
//   any sequence of sets, deletes and bulk loads, equal what a naive model computes from scratch;
// - the mirror, fed any sequence of change batches, lost changes (a stream cut while etcd compacts)
//   and full listings, ends equal to the store's state, in every resource's view, and reports
//   every view a batch changed as dirty.
//
// Keys are built from segments that include spaces, `..`, dots, empty segments (`//`), trailing
// slashes and non-ASCII characters. No segment holds a character in U+E000–U+FFFF: there UTF-16
// order (perch's) and UTF-8 byte order (Go's) differ, a documented limitation (docs/templates.md).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KeyIndex } from "../../src/mirror/key-index.js";
import { Mirror, type KeySelection } from "../../src/mirror/mirror.js";
import type { RenderScope } from "../../src/template/helper-spec.js";
import { storeHelpers } from "../../src/template/helpers/store.js";
import type { ChangeEvent, KeyValue } from "../../src/store/types.js";
import { Provenance } from "../../src/template/provenance.js";
import { shuffled } from "../helpers/shuffled.js";

// ---------------------------------------------------------------------------------------------
// The reference model: a plain map, every answer computed from scratch.

/** Go's sort.Strings: UTF-8 byte order. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** Go's path.Match for patterns of literals, `*` and `?`, rune by rune: `*` and `?` never match `/`. */
function globMatch(pattern: readonly string[], name: readonly string[]): boolean {
  if (pattern.length === 0) return name.length === 0;
  const [p, ...restPattern] = pattern;
  if (p === "*") {
    for (let i = 0; i <= name.length; i++) {
      if (i > 0 && name[i - 1] === "/") return false;
      if (globMatch(restPattern, name.slice(i))) return true;
    }
    return false;
  }
  if (name.length === 0) return false;
  if (p === "?") return name[0] !== "/" && globMatch(restPattern, name.slice(1));
  return p === name[0] && globMatch(restPattern, name.slice(1));
}

function trimTrailingSlashes(dir: string): string {
  return dir.replace(/\/+$/, "");
}

class Model {
  constructor(readonly kv: Map<string, string> = new Map()) {}

  exists(key: string): boolean {
    return this.kv.has(key);
  }

  gets(pattern: string): Array<{ key: string; value: string }> {
    const p = Array.from(pattern);
    return [...this.kv]
      .filter(([key]) => globMatch(p, Array.from(key)))
      .sort(([a], [b]) => byteOrder(a, b))
      .map(([key, value]) => ({ key, value }));
  }

  getvs(pattern: string): string[] {
    return this.gets(pattern)
      .map((kv) => kv.value)
      .sort(byteOrder);
  }

  /** Names of the immediate children (whole segments), and the base name of `dir` if it is a key. */
  ls(dir: string): string[] {
    const d = trimTrailingSlashes(dir);
    const names = new Set<string>();
    if (this.kv.has(d)) names.add(d.slice(d.lastIndexOf("/") + 1));
    for (const key of this.kv.keys()) {
      if (key.startsWith(`${d}/`)) names.add(key.slice(d.length + 1).split("/")[0] as string);
    }
    return [...names].sort(byteOrder);
  }

  /** Only the children that have keys beneath them. */
  lsdir(dir: string): string[] {
    const d = trimTrailingSlashes(dir);
    const names = new Set<string>();
    for (const key of this.kv.keys()) {
      if (!key.startsWith(`${d}/`)) continue;
      const rest = key.slice(d.length + 1);
      if (rest.includes("/")) names.add(rest.split("/")[0] as string);
    }
    return [...names].sort(byteOrder);
  }
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

const SEGMENTS = ["a", "b", "ab", "a b", "x.y", "..", ".", "", "é", "日本", "😀", "node-1", "10.0.0.0-8"];
const segment = fc.constantFrom(...SEGMENTS);
/** `/seg/seg…`, sometimes with a trailing slash. */
const key = fc
  .tuple(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([segs, slash]) => `/${segs.join("/")}${slash ? "/" : ""}`);
const value = fc.constantFrom("", "1", "2", "10", "9", "a b", "é", "😀", '{"x":1}', "10.0.0.1");
const dir = fc.oneof(key, fc.constant("/"), fc.constant(""));
const patternSegment = fc.constantFrom("*", "?", "a*", "*b", "?*", "a", "b", "ab", "a b", "..", "é", "😀", "x.y", "");
const pattern = fc.array(patternSegment, { minLength: 1, maxLength: 4 }).map((segs) => `/${segs.join("/")}`);

type IndexOp =
  | { op: "set"; key: string; value: string }
  | { op: "delete"; key: string }
  /** Enough inserts at once to take the index's full re-sort path instead of splicing. */
  | { op: "bulk"; count: number; value: string };

const indexOp: fc.Arbitrary<IndexOp> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant("set" as const), key, value }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("delete" as const), key }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("bulk" as const), count: fc.integer({ min: 200, max: 400 }), value }) },
);

type Query = { q: "exists"; key: string } | { q: "gets" | "getvs"; pattern: string } | { q: "ls" | "lsdir"; dir: string };

const query: fc.Arbitrary<Query> = fc.oneof(
  fc.record({ q: fc.constant("exists" as const), key }),
  fc.record({ q: fc.constantFrom("gets" as const, "getvs" as const), pattern }),
  fc.record({ q: fc.constantFrom("ls" as const, "lsdir" as const), dir }),
);

function bulkKey(i: number): string {
  return `/bulk/${String(i % 37)}/${String(i)}`;
}

function applyToIndex(index: KeyIndex, model: Map<string, string>, op: IndexOp): void {
  if (op.op === "set") {
    index.set(op.key, op.value);
    model.set(op.key, op.value);
  } else if (op.op === "delete") {
    index.delete(op.key);
    model.delete(op.key);
  } else {
    for (let i = 0; i < op.count; i++) {
      index.set(bulkKey(i), op.value);
      model.set(bulkKey(i), op.value);
    }
  }
}

/** The helper's answer, as plain data. */
function ask(scope: RenderScope, q: Query): unknown {
  const plain = (x: unknown): unknown => JSON.parse(JSON.stringify(x)) as unknown;
  switch (q.q) {
    case "exists":
      return storeHelpers.exists?.fn([q.key], scope);
    case "gets":
      return (storeHelpers.gets?.fn([q.pattern], scope) as Array<{ key: string; value: string }>).map(({ key: k, value: v }) => plain({ key: k, value: v }));
    case "getvs":
      return storeHelpers.getvs?.fn([q.pattern], scope);
    case "ls":
      return storeHelpers.ls?.fn([q.dir], scope);
    case "lsdir":
      return storeHelpers.lsdir?.fn([q.dir], scope);
  }
}

function expected(model: Model, q: Query): unknown {
  switch (q.q) {
    case "exists":
      return model.exists(q.key);
    case "gets":
      return model.gets(q.pattern);
    case "getvs":
      return model.getvs(q.pattern);
    case "ls":
      return model.ls(q.dir);
    case "lsdir":
      return model.lsdir(q.dir);
  }
}

function scopeOf(view: KeyIndex): RenderScope {
  return { view, env: {}, provenance: new Provenance() };
}

describe("the store helpers on a KeyIndex match the reference model", () => {
  // In watch mode (versions kept) the index keeps listings and gets answers and patches them as keys come and go.
  it.each([
    ["one-shot", false],
    ["watch mode", true],
  ])("%s: after any sequence of sets, deletes and bulk loads, every query answers as the model does", (_mode, watched) => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.array(indexOp, { maxLength: 8 }), fc.array(query, { maxLength: 6 })), { minLength: 1, maxLength: 12 }), (rounds) => {
        const index = new KeyIndex();
        if (watched) index.trackVersions();
        const model = new Map<string, string>();
        for (const [ops, queries] of rounds) {
          for (const op of ops) applyToIndex(index, model, op);
          expect(index.size).toBe(model.size);
          expect([...index.keys()]).toEqual([...model.keys()].sort(byteOrder));
          for (const q of queries) expect(ask(scopeOf(index), q), JSON.stringify(q)).toEqual(expected(new Model(model), q));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("gets and ls agree with each other: every key gets '/…/*' finds is a child ls lists", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, value), { maxLength: 30 }), dir, (kvs, d) => {
        const index = new KeyIndex();
        for (const [k, v] of kvs) index.set(k, v);
        const base = trimTrailingSlashes(d);
        const escaped = base.replace(/[*?[\\]/g, "\\$&");
        const leaves = (storeHelpers.gets?.fn([`${escaped}/*`], scopeOf(index)) as Array<{ key: string }>).map((kv) => kv.key.slice(base.length + 1));
        const children = storeHelpers.ls?.fn([d], scopeOf(index)) as string[];
        for (const leaf of leaves) expect(children).toContain(leaf);
        // lsdir is the part of ls that has children.
        const dirs = storeHelpers.lsdir?.fn([d], scopeOf(index)) as string[];
        for (const name of dirs) expect(children).toContain(name);
      }),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The mirror

/** Resources as load-set builds them: every path under the prefix (storePath(prefix, key)). */
const SELECTIONS: readonly KeySelection[] = [
  // prefix = "/a", keys = ["/"]: the prefix itself is the path (so `/a` and `/a/` are both "/").
  { name: "whole", prefix: "/a", paths: ["/a"] },
  { name: "two-paths", prefix: "", paths: ["/a/b", "/日本"] },
  { name: "nested", prefix: "/a/b", paths: ["/a/b/a", "/a/b/..", "/a/b/a b"] },
  { name: "root", prefix: "", paths: ["/"] },
  { name: "dotted", prefix: "/x.y", paths: ["/x.y/é", "/x.y/a"] },
  // prefix = "/", keys = ["/"]: `/x` and `//x` are both "/x".
  { name: "slash", prefix: "/", paths: ["/"] },
];

/** The model of one resource's view: the keys it selects (whole segments), relative to its prefix. */
function viewModel(selection: KeySelection, store: ReadonlyMap<string, string>): Map<string, string> {
  const entries: Array<[string, string, string]> = [];
  for (const [k, v] of store) {
    const selected = selection.paths.some((p) => k === p || k.startsWith(p.endsWith("/") ? p : `${p}/`));
    if (!selected) continue;
    const rest = selection.prefix !== "" && k.startsWith(selection.prefix) ? k.slice(selection.prefix.length) : k;
    entries.push([rest.startsWith("/") ? rest : `/${rest}`, v, k]);
  }
  // Two keys meet in one relative key when they differ only by the slash after the prefix
  // (`/a` and `/a/` are both "/"; under prefix "/", `/x` and `//x` are both "/x"): the view holds
  // the longer one, whatever order they came in.
  entries.sort(([, , a], [, , b]) => a.length - b.length);
  return new Map(entries.map(([rel, v]) => [rel, v]));
}

/** A view model as text, independent of insertion order. */
function canonical(view: ReadonlyMap<string, string> | undefined): string {
  return JSON.stringify([...(view ?? [])].sort(([a], [b]) => byteOrder(a, b)));
}

function selectedByAny(selections: readonly KeySelection[], k: string): boolean {
  return selections.some((s) => s.paths.some((p) => k === p || k.startsWith(p.endsWith("/") ? p : `${p}/`)));
}

type MirrorStep =
  /** Changes delivered as one signal (a batch of events, e.g. one transaction). */
  | { step: "changes"; ops: Array<{ key: string; value: string | null }> }
  /** Changes the mirror never sees as events: the stream was cut and etcd compacted them away. */
  | { step: "lost"; ops: Array<{ key: string; value: string | null }> }
  /** The daemon lists again (compaction recovery, periodic resync): a full listing, any order. */
  | { step: "relist"; seed: number };

const storeKey = fc.oneof(
  key.map((k) => (k.startsWith("/a") || k.startsWith("/x.y") ? k : `/a${k}`)),
  key,
  fc.constantFrom("/a", "/a/", "/a/b", "/a/b/", "/a/b/a", "/a/b/..", "/x.y/é", "/日本", "/", "/ab"),
);
const change = fc.record({ key: storeKey, value: fc.option(value, { nil: null, freq: 3 }) });
const mirrorStep: fc.Arbitrary<MirrorStep> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ step: fc.constant("changes" as const), ops: fc.array(change, { minLength: 1, maxLength: 6 }) }) },
  { weight: 2, arbitrary: fc.record({ step: fc.constant("lost" as const), ops: fc.array(change, { minLength: 1, maxLength: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ step: fc.constant("relist" as const), seed: fc.integer() }) },
);

describe("the mirror matches the store after any sequence of changes, losses and listings", () => {
  it("ends equal to the store in every view, and marks every view a step changed as dirty", () => {
    fc.assert(
      fc.property(fc.subarray([...SELECTIONS], { minLength: 1 }), fc.array(mirrorStep, { minLength: 1, maxLength: 25 }), (selections, steps) => {
        const mirror = new Mirror(selections);
        const store = new Map<string, string>();
        let revision = 1;
        let lostSinceListing = false;
        const views = () => new Map(selections.map((s) => [s.name, viewModel(s, store)]));

        const relist = (seed: number): Set<string> => {
          const listing: KeyValue[] = shuffled([...store].map(([k, v]) => ({ key: k, value: v })), seed);
          lostSinceListing = false;
          return mirror.replace(listing, revision);
        };

        for (const step of steps) {
          // Events after a loss would land on a stale mirror: the daemon never applies them (its
          // resume revision was compacted, so it lists first), and neither does the model.
          if (step.step === "changes" && lostSinceListing) relist(revision);
          const before = views();
          let dirty: Set<string>;
          const touched = new Set<string>();
          if (step.step === "relist") {
            dirty = relist(step.seed);
          } else {
            const events: ChangeEvent[] = [];
            revision++;
            for (const { key: k, value: v } of step.ops) {
              if (v === null) store.delete(k);
              else store.set(k, v);
              events.push(v === null ? { type: "delete", key: k, revision } : { type: "put", key: k, value: v, revision });
              for (const s of selections) if (selectedByAny([s], k)) touched.add(s.name);
            }
            if (step.step === "lost") {
              lostSinceListing = true;
              continue;
            }
            dirty = mirror.apply(events, revision);
          }
          const after = views();
          for (const s of selections) {
            const changed = canonical(before.get(s.name)) !== canonical(after.get(s.name));
            if (changed) expect(dirty, `view ${s.name} changed`).toContain(s.name);
            if (step.step === "changes" && dirty.has(s.name)) expect(touched).toContain(s.name);
          }
        }
        if (lostSinceListing) relist(0);

        // Every selected key of the store, nothing else, and the same values, in every view.
        const selectedStore = [...store].filter(([k]) => selectedByAny(selections, k)).sort(([a], [b]) => byteOrder(a, b));
        expect([...mirror.entries()].sort(([a], [b]) => byteOrder(a, b))).toEqual(selectedStore);
        for (const s of selections) {
          const want = viewModel(s, store);
          expect(mirror.view(s.name).entries(), `view ${s.name}`).toEqual([...want].sort(([a], [b]) => byteOrder(a, b)));
        }
        expect(mirror.revision).toBe(revision);
      }),
      { numRuns: 400 },
    );
  });
});

// The counterexamples these properties found, kept as plain examples.
describe("regressions found by the properties", () => {
  it("? and * match a character outside the BMP as one character, as Go's path.Match does", () => {
    const index = new KeyIndex();
    index.set("/😀", "smile");
    index.set("/a😀b", "x");
    expect(storeHelpers.gets?.fn(["/?"], scopeOf(index))).toMatchObject([{ key: "/😀" }]);
    expect(storeHelpers.getvs?.fn(["/a?b"], scopeOf(index))).toEqual(["x"]);
    expect(storeHelpers.gets?.fn(["/??"], scopeOf(index))).toEqual([]);
  });

  it("`<prefix>` and `<prefix>/` share the relative key \"/\": the view shows `<prefix>/` whatever the order", () => {
    const m = new Mirror([{ name: "r", prefix: "/a", paths: ["/a"] }]);
    m.apply([{ type: "put", key: "/a/", value: "with slash", revision: 2 }], 2);
    expect(m.apply([{ type: "put", key: "/a", value: "bare", revision: 3 }], 3)).toEqual(new Set());
    expect(m.view("r").get("/")).toBe("with slash");
    // Deleting the one shown reveals the other; deleting that empties the view.
    expect(m.apply([{ type: "delete", key: "/a/", revision: 4 }], 4)).toEqual(new Set(["r"]));
    expect(m.view("r").get("/")).toBe("bare");
    m.apply([{ type: "delete", key: "/a", revision: 5 }], 5);
    expect(m.view("r").size).toBe(0);
    // A listing gives the same view as the events did.
    const listed = new Mirror([{ name: "r", prefix: "/a", paths: ["/a"] }]);
    listed.replace([{ key: "/a/", value: "with slash" }, { key: "/a", value: "bare" }], 6);
    expect(listed.view("r").entries()).toEqual([["/", "with slash"]]);
  });
});

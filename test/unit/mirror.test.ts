// The mirror: selection by whole path segments, in-place updates, and only touched resources dirty.
import { describe, expect, it } from "vitest";
import { GLOB_CACHE_MAX, globToRegExp } from "../../src/mirror/glob.js";
import { Mirror, minimalPrefixes, relativeKey } from "../../src/mirror/mirror.js";
import { boundedCache } from "../../src/util/bounded-cache.js";

function mirror(): Mirror {
  return new Mirror([
    { name: "bgp", prefix: "/calico/bgp/v1", paths: ["/calico/bgp/v1/host", "/calico/bgp/v1/global"] },
    { name: "routes", prefix: "", paths: ["/calico/staticroutes"] },
  ]);
}

describe("Mirror", () => {
  it("keeps only selected keys, by whole segments", () => {
    const m = mirror();
    m.replace(
      [
        { key: "/calico/bgp/v1/host/n1/ip_addr_v4", value: "10.0.0.1" },
        { key: "/calico/staticroutes/10.0.0.0-8", value: "10.0.0.0/8" },
        { key: "/calico/staticroutesv6/fd00::-8", value: "fd00::/8" },
        { key: "/calico/bgp/v1/hostile/x", value: "no" },
      ],
      5,
    );
    expect(m.size).toBe(2);
    expect(m.revision).toBe(5);
    expect(m.view("bgp").keys()).toEqual(["/host/n1/ip_addr_v4"]);
    expect(m.view("routes").keys()).toEqual(["/calico/staticroutes/10.0.0.0-8"]);
  });

  it("gives resources that select the same keys one shared view, and marks each of them dirty", () => {
    const m = new Mirror([
      { name: "bird", prefix: "/calico/bgp/v1", paths: ["/calico/bgp/v1/host", "/calico/bgp/v1/global"] },
      { name: "bird6", prefix: "/calico/bgp/v1", paths: ["/calico/bgp/v1/global", "/calico/bgp/v1/host"] },
      { name: "full", prefix: "", paths: ["/calico/bgp/v1/host", "/calico/bgp/v1/global"] },
    ]);
    expect(m.view("bird6")).toBe(m.view("bird"));
    expect(m.view("full")).not.toBe(m.view("bird"));
    expect(m.replace([{ key: "/calico/bgp/v1/host/n1/ip_addr_v4", value: "10.0.0.1" }], 1)).toEqual(new Set(["bird", "bird6", "full"]));
    expect(m.view("bird6").keys()).toEqual(["/host/n1/ip_addr_v4"]);
    expect(m.view("full").keys()).toEqual(["/calico/bgp/v1/host/n1/ip_addr_v4"]);
    const versions = m.view("bird").trackVersions();
    const told: string[] = [];
    versions.listeners.push((key) => told.push(`first ${key}`), (key) => told.push(`second ${key}`));
    expect(m.apply([{ type: "put", key: "/calico/bgp/v1/host/n1/ip_addr_v4", value: "10.0.0.2", revision: 2 }], 2)).toEqual(new Set(["bird", "bird6", "full"]));
    expect(told).toEqual(["first /host/n1/ip_addr_v4", "second /host/n1/ip_addr_v4"]);
  });

  it("marks dirty only the resources a change touches", () => {
    const m = mirror();
    m.replace([{ key: "/calico/bgp/v1/global/as_num", value: "64512" }], 1);
    expect(m.apply([{ type: "put", key: "/calico/bgp/v1/global/as_num", value: "64513", revision: 2 }], 2)).toEqual(new Set(["bgp"]));
    expect(m.apply([{ type: "put", key: "/calico/bgp/v1/global/as_num", value: "64513", revision: 3 }], 3)).toEqual(new Set());
    expect(m.apply([{ type: "put", key: "/calico/unrelated", value: "x", revision: 4 }], 4)).toEqual(new Set());
    expect(m.apply([{ type: "delete", key: "/calico/bgp/v1/global/as_num", revision: 5 }], 5)).toEqual(new Set(["bgp"]));
    expect(m.apply([{ type: "delete", key: "/calico/bgp/v1/global/as_num", revision: 6 }], 6)).toEqual(new Set());
    expect(m.revision).toBe(6);
  });

  it("replace applies only the differences", () => {
    const m = mirror();
    m.replace([{ key: "/calico/bgp/v1/global/as_num", value: "1" }, { key: "/calico/staticroutes/a", value: "a" }], 1);
    const dirty = m.replace([{ key: "/calico/bgp/v1/global/as_num", value: "1" }], 9);
    expect(dirty).toEqual(new Set(["routes"]));
    expect(m.view("routes").size).toBe(0);
  });

  it("keeps the sorted order through many inserts and deletes", () => {
    const m = mirror();
    const keys = Array.from({ length: 600 }, (_, i) => `/calico/staticroutes/k${(i * 7919) % 600}`);
    m.apply(keys.map((key, i) => ({ type: "put" as const, key, value: String(i), revision: 1 })), 1);
    m.view("routes").keys();
    m.apply([{ type: "delete", key: "/calico/staticroutes/k5", revision: 2 }, { type: "put", key: "/calico/staticroutes/k5a", value: "", revision: 2 }], 2);
    const got = m.view("routes").keys();
    expect(got).toEqual([...got].sort());
    expect(got).toContain("/calico/staticroutes/k5a");
    expect(got).not.toContain("/calico/staticroutes/k5");
    expect(got.length).toBe(600);
  });
});

describe("helpers", () => {
  it("relativeKey strips the prefix and never path-cleans", () => {
    expect(relativeKey("/calico/bgp/v1", "/calico/bgp/v1/host/a")).toBe("/host/a");
    expect(relativeKey("", "/calico/x")).toBe("/calico/x");
    expect(relativeKey("/a", "/a/../b")).toBe("/../b");
  });
  it("minimalPrefixes drops paths inside others", () => {
    expect(minimalPrefixes(["/a/b", "/a", "/ab", "/c/d", "/c/d"])).toEqual(["/a", "/ab", "/c/d"]);
  });
});

describe("compiled glob patterns", () => {
  it("are reused, and no more than GLOB_CACHE_MAX are kept", () => {
    const first = globToRegExp("/bound/first/*");
    expect(globToRegExp("/bound/first/*")).toBe(first);
    for (let i = 0; i < GLOB_CACHE_MAX; i++) globToRegExp(`/bound/${i}/*`);
    const again = globToRegExp("/bound/first/*");
    expect(again).not.toBe(first);
    expect(again.test("/bound/first/x")).toBe(true);
  });
});

describe("boundedCache", () => {
  it("computes each key once and starts over past its bound", () => {
    const computed: string[] = [];
    const cached = boundedCache(2, (key) => {
      computed.push(key);
      return key.toUpperCase();
    });
    expect([cached("a"), cached("b"), cached("a")]).toEqual(["A", "B", "A"]);
    expect(computed).toEqual(["a", "b"]);
    expect(cached("c")).toBe("C");
    expect([cached("c"), cached("a")]).toEqual(["C", "A"]);
    expect(computed).toEqual(["a", "b", "c", "a"]);
  });
});

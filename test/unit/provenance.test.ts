import { describe, expect, it } from "vitest";
import { Provenance } from "../../src/template/provenance.js";

describe("Provenance", () => {
  it("names the key a value was read from, the latest recording winning", () => {
    const p = new Provenance();
    p.set("10.0.0.1", "/host/a/ip_addr_v4");
    p.set("10.0.0.1", "/host/b/ip_addr_v4");
    expect(p.keyOf("10.0.0.1")).toBe("/host/b/ip_addr_v4");
    expect(p.keyOf("10.0.0.2")).toBeUndefined();
  });

  it("names the listed path of a name from a listing, also for listings added after a lookup", () => {
    const p = new Provenance();
    p.addNames(["a", "b"], "/host/");
    expect(p.keyOf("b")).toBe("/host/b");
    p.addNames(["c"], "/global/peer_v4");
    expect(p.keyOf("c")).toBe("/global/peer_v4/c");
    // A later listing of the same name: it is the one a formatter called right away asks about.
    p.addNames(["a"], "/other");
    expect(p.keyOf("a")).toBe("/other/a");
  });

  it("prefers a value's key over a name's path", () => {
    const p = new Provenance();
    p.addNames(["x"], "/dir");
    p.set("x", "/key");
    expect(p.keyOf("x")).toBe("/key");
  });

  it("indexes one listing array once however often it is added", () => {
    const p = new Provenance();
    const names = Object.freeze(Array.from({ length: 1000 }, (_, i) => `n${i}`));
    for (let i = 0; i < 1000; i++) p.addNames(names, "/host");
    expect(p.keyOf("n999")).toBe("/host/n999");
    // A different array with the same names is another listing (and the latest).
    p.addNames([...names], "/other");
    expect(p.keyOf("n0")).toBe("/other/n0");
  });
});

// The memo's index of what its iterations read: one reader per path kept as itself, a set only
// for a path several read (which then share one copy of it), and every path gone with its readers.
import { describe, expect, it } from "vitest";
import { Dep } from "../../src/mirror/versions.js";
import { distinctReads, ReadIndex, type Reads } from "../../src/template/memo-reads.js";

/** A path string equal to `text` but not the same string object (as every render's printf makes one). */
const fresh = (text: string): string => [...text].join("");

describe("distinctReads", () => {
  it("keeps each read once, in order, the same path of another kind apart", () => {
    const reads: Reads = [Dep.Key, "/a", Dep.Key, "/b", Dep.Key, "/a", Dep.Children, "/a", Dep.Children, "/a"];
    expect(distinctReads(reads)).toEqual([Dep.Key, "/a", Dep.Key, "/b", Dep.Children, "/a"]);
  });

  it("gives the same answer above the length where it switches to sets", () => {
    const reads: Reads = [];
    for (let i = 0; i < 100; i++) reads.push(i % 3 === 0 ? Dep.Deep : Dep.Key, `/k${i % 40}`);
    const expected: Reads = [];
    const seen = new Set<string>();
    for (let i = 0; i < reads.length; i += 2) {
      const id = `${String(reads[i])} ${String(reads[i + 1])}`;
      if (!seen.has(id)) expected.push(reads[i] as Dep, reads[i + 1] as string);
      seen.add(id);
    }
    expect(distinctReads(reads)).toEqual(expected);
  });
});

describe("ReadIndex", () => {
  it("gives a path's readers once and forgets the path", () => {
    const index = new ReadIndex<{ reads: Reads }>();
    const [a, b] = [{ reads: [Dep.Key, "/a", Dep.Key, "/shared"] }, { reads: [Dep.Key, "/b", Dep.Key, fresh("/shared")] }];
    index.add(a);
    index.add(b);
    expect(index.size).toBe(3);
    expect([...index.take(Dep.Key, "/shared")]).toEqual([a, b]);
    expect([...index.take(Dep.Key, "/shared")]).toEqual([]);
    expect([...index.take(Dep.Children, "/a")]).toEqual([]);
    expect([...index.take(Dep.Key, "/a")]).toEqual([a]);
    expect(index.size).toBe(1);
  });

  it("registers the readers of a path several read, each once, whichever copy of the path they hold", () => {
    const index = new ReadIndex<{ reads: Reads }>();
    const readers = Array.from({ length: 3 }, () => ({ reads: [Dep.Key, fresh("/global/as_num")] as Reads }));
    for (const reader of readers) index.add(reader);
    index.add(readers[0] as { reads: Reads });
    expect(index.size).toBe(1);
    expect(readers.map((r) => r.reads)).toEqual(Array.from({ length: 3 }, () => [Dep.Key, "/global/as_num"]));
    expect([...index.take(Dep.Key, "/global/as_num")]).toEqual(readers);
  });

  it("drops a path when its last reader goes, and keeps it while another reads it", () => {
    const index = new ReadIndex<{ reads: Reads }>();
    const [a, b] = [{ reads: [Dep.Key, "/a", Dep.Deep, "/d"] }, { reads: [Dep.Deep, "/d"] }];
    index.add(a);
    index.add(b);
    index.remove(a);
    expect(index.size).toBe(1);
    expect([...index.take(Dep.Deep, "/d")]).toEqual([b]);
    index.remove(b);
    expect(index.size).toBe(0);
  });

  it("removing a reader whose path was taken leaves that path's new reader registered", () => {
    const index = new ReadIndex<{ reads: Reads }>();
    const [old, renewed] = [{ reads: [Dep.Key, "/a"] }, { reads: [Dep.Key, "/a"] }];
    index.add(old);
    expect([...index.take(Dep.Key, "/a")]).toEqual([old]);
    index.add(renewed);
    index.remove(old);
    expect([...index.take(Dep.Key, "/a")]).toEqual([renewed]);
  });
});

// ls/lsdir in watch mode: a key that comes or goes below a listed directory is patched into the listing in place, which
// records that one edit under a new version (so the memo finds the unchanged runs by arithmetic), and the patch answers
// as a fresh listing does.
import { describe, expect, it } from "vitest";
import { KeyIndex } from "../../src/mirror/key-index.js";
import { editSince, versionOf } from "../../src/mirror/list-edits.js";

function watchedIndex(keys: readonly string[]): KeyIndex {
  const index = new KeyIndex();
  index.trackVersions();
  for (const key of keys) index.set(key, "v");
  return index;
}

function freshListing(index: KeyIndex, dir: string, dirsOnly = false): readonly string[] {
  const fresh = new KeyIndex();
  for (const key of index.keys()) fresh.set(key, "v");
  return dirsOnly ? fresh.listDirs(dir) : fresh.list(dir);
}

const POOL = Array.from({ length: 10_000 }, (_, i) => `/pool/k${String(i).padStart(5, "0")}`);

describe("listings patched as keys come and go", () => {
  it("an added key is one insert into the last listing, a removed one one removal", () => {
    const index = watchedIndex(POOL);
    const listing = index.list("/pool");
    const [original, first] = [[...listing], versionOf(listing)];
    index.set("/pool/k00100x", "v");
    expect(index.list("/pool")).toBe(listing);
    expect(editSince(listing, first)).toEqual({ at: 101, removed: 0, inserted: 1 });
    expect(listing[101]).toBe("k00100x");
    expect(listing).toHaveLength(10_001);
    const second = versionOf(listing);
    index.delete("/pool/k00100x");
    expect(index.list("/pool")).toBe(listing);
    expect(editSince(listing, second)).toEqual({ at: 101, removed: 1, inserted: 0 });
    // Since the first version the two patches cancel out: no item moved.
    expect(editSince(listing, first)).toEqual({ at: 101, removed: 0, inserted: 0 });
    expect(listing).toEqual(original);
  });

  it("a value change hands out the same listing", () => {
    const index = watchedIndex(POOL);
    const before = index.list("/pool");
    const version = versionOf(before);
    index.set("/pool/k00005", "w");
    expect(index.list("/pool")).toBe(before);
    expect(versionOf(before)).toBe(version);
  });

  it("a child stays listed while a key below it or the child itself remains", () => {
    const index = watchedIndex(["/h/a/ip", "/h/a/as", "/h/b", "/h/b/ip"]);
    expect(index.list("/h")).toEqual(["a", "b"]);
    expect(index.listDirs("/h")).toEqual(["a", "b"]);
    index.delete("/h/a/ip");
    index.delete("/h/b/ip");
    expect(index.list("/h")).toEqual(["a", "b"]);
    expect(index.listDirs("/h")).toEqual(["a"]);
    index.delete("/h/a/as");
    expect(index.list("/h")).toEqual(["b"]);
    expect(index.listDirs("/h")).toEqual([]);
  });

  it("a directory that is itself a key keeps its own name when the child of that name goes", () => {
    const index = watchedIndex(["/a/b", "/a/b/b", "/a/b/c"]);
    expect(index.list("/a/b")).toEqual(["b", "c"]);
    index.delete("/a/b/b");
    expect(index.list("/a/b")).toEqual(["b", "c"]);
    expect(index.list("/a/b")).toEqual(freshListing(index, "/a/b"));
  });

  it("keys come and go far below, and at the root, as a fresh listing sees them", () => {
    const index = watchedIndex(["/x/y/z", "/w"]);
    const dirs = ["", "/", "/x", "/x/y", "/x/y/"];
    for (const dir of dirs) index.list(dir);
    for (const dir of dirs) index.listDirs(dir);
    for (const [key, add] of [["/x/y/q", true], ["/x/y/z", false], ["/v/u", true], ["/w", false], ["/x/y/q", false], ["/x/y/", true]] as const) {
      if (add) index.set(key, "v");
      else index.delete(key);
      for (const dir of dirs) {
        expect(index.list(dir), `ls ${dir} after ${key}`).toEqual(freshListing(index, dir));
        expect(index.listDirs(dir), `lsdir ${dir} after ${key}`).toEqual(freshListing(index, dir, true));
      }
    }
  });

  it("more keys come or gone than a patch is worth: listed again, as a fresh listing", () => {
    const index = watchedIndex(POOL);
    index.list("/pool");
    for (let i = 0; i < 200; i++) index.delete(POOL[i * 3] as string);
    expect(index.list("/pool")).toEqual(freshListing(index, "/pool"));
  });
});

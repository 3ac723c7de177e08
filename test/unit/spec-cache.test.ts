// The compiled-template cache: reused across processes, never from a directory others can write.
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSpecCache } from "../../src/template/spec-cache.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "perch-cache-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("openSpecCache", () => {
  it("stores a spec under a hash of salt and source, and finds it again", async () => {
    const cache = openSpecCache("salt", { PERCH_CACHE_DIR: path.join(dir, "c") });
    expect(cache?.get("src")).toBeUndefined();
    cache?.set("src", "{spec}");
    expect(cache?.get("src")).toBe("{spec}");
    expect(openSpecCache("other salt", { PERCH_CACHE_DIR: path.join(dir, "c") })?.get("src")).toBeUndefined();
    const files = await readdir(path.join(dir, "c"));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^[0-9a-f]{64}\.js$/);
    expect(await readFile(path.join(dir, "c", files[0] as string), "utf8")).toBe("{spec}");
  });

  it("is off for an empty PERCH_CACHE_DIR", () => {
    expect(openSpecCache("salt", { PERCH_CACHE_DIR: "" })).toBeUndefined();
  });

  it("refuses a directory that others can write (it holds code perch runs)", async () => {
    await chmod(dir, 0o777);
    expect(openSpecCache("salt", { PERCH_CACHE_DIR: dir })).toBeUndefined();
    await chmod(dir, 0o755);
    expect(openSpecCache("salt", { PERCH_CACHE_DIR: dir })).toBeDefined();
  });

  it("defaults to $XDG_CACHE_HOME/perch", async () => {
    openSpecCache("salt", { XDG_CACHE_HOME: dir })?.set("x", "y");
    expect(await readdir(path.join(dir, "perch"))).toHaveLength(1);
  });

  it("keeps at most 256 entries", async () => {
    const c = path.join(dir, "c");
    const cache = openSpecCache("salt", { PERCH_CACHE_DIR: c });
    for (let i = 0; i < 257; i++) cache?.set(`source ${i}`, "s");
    expect((await readdir(c)).length).toBeLessThanOrEqual(256);
    await writeFile(path.join(c, "unrelated.txt"), "");
    expect(await readdir(c)).toContain("unrelated.txt");
  });
});

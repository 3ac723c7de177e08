// Issue 19, item 8: which file a conf.d `dest` names, so that two spellings of one file are one
// destination — and a destination that is itself a symlink stays what it is (the writer replaces it).
import { mkdir, realpath, symlink } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { destinationFile } from "../../src/resource/same-file.js";
import { useTempDir } from "../helpers/temp-dir.js";

const tmp = useTempDir("perch-same-file-");

describe("destinationFile", () => {
  it("cleans doubled slashes and .. segments, and resolves a relative dest from the working directory", async () => {
    const dir = await realpath(tmp.path);
    await mkdir(path.join(dir, "out"));
    expect(await destinationFile(`${dir}/out//a.txt`)).toBe(path.join(dir, "out/a.txt"));
    expect(await destinationFile(`${dir}/out/../out/./a.txt`)).toBe(path.join(dir, "out/a.txt"));
    expect(await destinationFile("a.txt")).toBe(path.join(await realpath(process.cwd()), "a.txt"));
  });

  it("follows symlinked directories, also above directories that do not exist yet", async () => {
    const dir = await realpath(tmp.path);
    await mkdir(path.join(dir, "real"));
    await symlink(path.join(dir, "real"), path.join(dir, "link"));
    expect(await destinationFile(`${dir}/link/a.txt`)).toBe(path.join(dir, "real/a.txt"));
    expect(await destinationFile(`${dir}/link/new/deeper/a.txt`)).toBe(path.join(dir, "real/new/deeper/a.txt"));
    expect(await destinationFile(`${dir}/link/new/../a.txt`)).toBe(path.join(dir, "real/a.txt"));
  });

  it("does not follow the destination itself: a link there is replaced, not written through", async () => {
    const dir = await realpath(tmp.path);
    await symlink(path.join(dir, "elsewhere.txt"), path.join(dir, "a.txt"));
    expect(await destinationFile(`${dir}/a.txt`)).toBe(path.join(dir, "a.txt"));
  });
});

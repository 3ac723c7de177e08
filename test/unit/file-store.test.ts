// The file store: listing, validation, and a watch that misses no edit made before it was ready.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileStore, diffKeys } from "../../src/store/file-store.js";
import type { StreamSignal } from "../../src/store/types.js";

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "perch-filestore-"));
  file = path.join(dir, "keys.json");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("FileStore", () => {
  it("lists the keys under the prefixes, with a revision per listing", async () => {
    await writeFile(file, JSON.stringify({ "/a/1": "x", "/b/2": "y" }));
    const store = new FileStore(file);
    expect(await store.list(["/a"])).toEqual({ revision: 1, kvs: [{ key: "/a/1", value: "x" }] });
    expect((await store.list(["/a"])).revision).toBe(2);
  });

  it("rejects what is not an object of strings, naming the file and key", async () => {
    const store = new FileStore(file);
    await writeFile(file, "[1]");
    await expect(store.list(["/"])).rejects.toThrow("keys file must be a JSON object of key → string value");
    await writeFile(file, '{"/a": null}');
    await expect(store.list(["/"])).rejects.toThrow("value of key /a must be a string, got null");
    await writeFile(file, "{oops");
    await expect(store.list(["/"])).rejects.toThrow(/^keys file is not valid JSON: /);
    await expect(new FileStore(path.join(dir, "nope.json")).list(["/"])).rejects.toThrow(/^cannot read keys file: ENOENT/);
  });

  it("reports an edit made between the listing and the watch being ready", async () => {
    await writeFile(file, JSON.stringify({ "/a": "1" }));
    const store = new FileStore(file);
    await store.list(["/"]);
    await writeFile(file, JSON.stringify({ "/a": "2", "/b": "new" }));
    const signals: StreamSignal[] = [];
    const stream = await store.watch(["/"], 1, (s) => signals.push(s));
    await stream.close();
    expect(signals).toEqual([
      { type: "connected" },
      {
        type: "changes",
        revision: 2,
        events: [
          { type: "put", key: "/a", value: "2", revision: 2 },
          { type: "put", key: "/b", value: "new", revision: 2 },
        ],
      },
    ]);
  });

  it("diffKeys reports puts and deletes under the prefixes only", () => {
    const before = new Map([["/a/x", "1"], ["/a/y", "2"], ["/z", "9"]]);
    const after = new Map([["/a/x", "1"], ["/a/w", "3"], ["/z", "0"]]);
    expect(diffKeys(before, after, ["/a"], 7)).toEqual([
      { type: "put", key: "/a/w", value: "3", revision: 7 },
      { type: "delete", key: "/a/y", revision: 7 },
    ]);
  });
});

// The launcher's code cache file: V8's data after a header naming the kinds of run it holds, and when a run
// writes it — the first run, a run whose cache V8 rejected, and the first run of each new kind.
import { afterEach, describe, expect, it } from "vitest";
import { cacheToWrite, decodeCodeCache, encodeCodeCache } from "../../src/cli/code-cache-file.js";
import { reportedRunKind, reportRunKind } from "../../src/cli/run-kind.js";

const DATA = Buffer.from([0, 1, 2, 0x0a, 255, 7]);

describe("the code cache file", () => {
  it("gives back the data and the kinds it was written with, newlines in the data included", () => {
    const file = encodeCodeCache({ data: DATA, kinds: ["render etcd /etc/perch", "render file /tmp/x"] });
    expect(file.subarray(0, 19).toString()).toBe("perch-code-cache 1 ");
    const read = decodeCodeCache(file);
    expect(read?.kinds).toEqual(["render etcd /etc/perch", "render file /tmp/x"]);
    expect(read?.data.equals(DATA)).toBe(true);
  });

  it("is no cache without its header: another format, garbage, a bad kinds list, a cut-off file", () => {
    expect(decodeCodeCache(DATA)).toBeUndefined();
    expect(decodeCodeCache(Buffer.alloc(4096, 7))).toBeUndefined();
    expect(decodeCodeCache(Buffer.from('perch-code-cache 1 {"a":1}\nxx'))).toBeUndefined();
    expect(decodeCodeCache(Buffer.from("perch-code-cache 1 [1]\nxx"))).toBeUndefined();
    expect(decodeCodeCache(Buffer.from("perch-code-cache 1 [not json\nxx"))).toBeUndefined();
    expect(decodeCodeCache(Buffer.from('perch-code-cache 1 ["a"]'))).toBeUndefined();
  });

  it("keeps the names of the newest 16 kinds", () => {
    const kinds = Array.from({ length: 20 }, (_, i) => `kind ${i}`);
    expect(decodeCodeCache(encodeCodeCache({ data: DATA, kinds }))?.kinds).toEqual(kinds.slice(4));
  });
});

describe("what a run writes at exit", () => {
  const made = Buffer.from("new data");
  const data = () => made;
  const read = { data: DATA, kinds: ["render file /a"] };

  it("nothing when V8 took the cache and it holds this kind, or the command reported none", () => {
    expect(cacheToWrite(read, true, "render file /a", data)).toBeUndefined();
    expect(cacheToWrite(read, true, undefined, data)).toBeUndefined();
  });

  it("this run's data with the kinds before and this one, when the kind is new", () => {
    expect(cacheToWrite(read, true, "render etcd /b", data)).toEqual({ data: made, kinds: ["render file /a", "render etcd /b"] });
  });

  it("a fresh cache, without the old kinds, when there was none or V8 rejected it", () => {
    expect(cacheToWrite(undefined, false, undefined, data)).toEqual({ data: made, kinds: [] });
    expect(cacheToWrite(undefined, false, "render etcd /b", data)).toEqual({ data: made, kinds: ["render etcd /b"] });
    expect(cacheToWrite(read, false, "render file /a", data)).toEqual({ data: made, kinds: ["render file /a"] });
  });
});

describe("the run kind", () => {
  afterEach(() => {
    delete (globalThis as { [key: symbol]: unknown })[Symbol.for("perch.runKind")];
  });

  it("is what the program reported last, for the launcher to read", () => {
    reportRunKind("render etcd /x");
    reportRunKind("render file /y");
    expect(reportedRunKind()).toBe("render file /y");
  });
});

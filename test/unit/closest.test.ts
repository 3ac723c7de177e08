// The "did you mean" shared by conf.d fields, helper names and template paths.
import { describe, expect, it } from "vitest";
import { closest, editDistance, typoDistance } from "../../src/util/closest.js";

describe("closest", () => {
  it("counts a swap of neighbours as one edit, like an insertion, deletion or substitution", () => {
    expect(editDistance("vaule", "value")).toBe(1);
    expect(editDistance("getvv", "getv")).toBe(1);
    expect(editDistance("kye", "key")).toBe(1);
    expect(editDistance("reload_cmnd", "reload_cmd")).toBe(1);
    expect(editDistance("abc", "xyz")).toBe(3);
    expect(editDistance("", "ab")).toBe(2);
  });

  it("picks the nearest candidate within the distance, else none", () => {
    expect(closest("vaule", ["key", "value", "Value"], 2)).toBe("value");
    expect(closest("nope", ["not", "ne"], typoDistance("nope"))).toBeUndefined();
    expect(closest("indx", ["index", "key"], typoDistance("indx"))).toBe("index");
  });

  it("allows one edit per two letters, at most two", () => {
    expect([1, 2, 3, 4, 5, 9].map((n) => typoDistance("x".repeat(n)))).toEqual([0, 0, 1, 1, 2, 2]);
  });
});

// Where a run of a list is after one splice: wrong arithmetic would reuse a run over items it does not hold.
import { describe, expect, it } from "vitest";
import { editFrom, movedTo, recordEdit } from "../../src/mirror/list-edits.js";

/** movedTo checked against the lists themselves: every run of every length at every place, for one splice. */
function checkAgainstLists(old: string[], at: number, removed: number, inserted: string[]): void {
  const now = [...old];
  now.splice(at, removed, ...inserted);
  const edit = { at, removed, inserted: inserted.length };
  for (let start = 0; start < old.length; start++) {
    for (let length = 1; start + length <= old.length; length++) {
      const to = movedTo(edit, start, length);
      if (to < 0) continue;
      expect(now.slice(to, to + length)).toEqual(old.slice(start, start + length));
    }
  }
}

describe("list edits", () => {
  const old = ["a", "b", "c", "d", "e", "f"];

  it("finds every run the splice left alone where it is now, and no run it touched", () => {
    for (let at = 0; at <= old.length; at++) {
      checkAgainstLists(old, at, 0, ["x"]);
      if (at < old.length) checkAgainstLists(old, at, 1, []);
      if (at < old.length) checkAgainstLists(old, at, 1, ["x"]);
    }
  });

  it("gives up a run the splice reached into", () => {
    expect(movedTo({ at: 3, removed: 0, inserted: 1 }, 2, 2)).toBe(-1);
    expect(movedTo({ at: 3, removed: 1, inserted: 1 }, 3, 1)).toBe(-1);
    expect(movedTo({ at: 3, removed: 0, inserted: 1 }, 3, 2)).toBe(4);
    expect(movedTo({ at: 3, removed: 1, inserted: 0 }, 1, 2)).toBe(1);
  });

  it("knows a list by the one it was made from only", () => {
    const from = ["a"];
    const list = ["a", "b"];
    recordEdit(list, from, { at: 1, removed: 0, inserted: 1 });
    expect(editFrom(list, from)).toEqual({ at: 1, removed: 0, inserted: 1 });
    expect(editFrom(list, ["a"])).toBeUndefined();
    expect(editFrom(list, undefined)).toBeUndefined();
    expect(editFrom(from, list)).toBeUndefined();
  });
});

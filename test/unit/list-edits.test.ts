// Where a run of a list is after one splice, and the one splice that covers several: wrong arithmetic would reuse a run
// over items it does not hold.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Edited, editSince, followedBy, movedTo, versionOf, type ListEdit } from "../../src/mirror/list-edits.js";

/** movedTo checked against the lists themselves: every run of every length at every place, for one splice. */
function checkAgainstLists(old: readonly string[], now: readonly string[], edit: ListEdit): void {
  for (let start = 0; start < old.length; start++) {
    for (let length = 1; start + length <= old.length; length++) {
      const to = movedTo(edit, start, length);
      if (to < 0) continue;
      expect(now.slice(to, to + length)).toEqual(old.slice(start, start + length));
    }
  }
}

function spliced(old: readonly string[], at: number, removed: number, inserted: string[]): string[] {
  const now = [...old];
  now.splice(at, removed, ...inserted);
  return now;
}

const splice = fc.record({ at: fc.nat({ max: 12 }), removed: fc.nat({ max: 3 }), inserted: fc.nat({ max: 3 }) });

describe("list edits", () => {
  const old = ["a", "b", "c", "d", "e", "f"];

  it("finds every run the splice left alone where it is now, and no run it touched", () => {
    for (let at = 0; at <= old.length; at++) {
      checkAgainstLists(old, spliced(old, at, 0, ["x"]), { at, removed: 0, inserted: 1 });
      if (at < old.length) checkAgainstLists(old, spliced(old, at, 1, []), { at, removed: 1, inserted: 0 });
      if (at < old.length) checkAgainstLists(old, spliced(old, at, 1, ["x"]), { at, removed: 1, inserted: 1 });
    }
  });

  it("gives up a run the splice reached into", () => {
    expect(movedTo({ at: 3, removed: 0, inserted: 1 }, 2, 2)).toBe(-1);
    expect(movedTo({ at: 3, removed: 1, inserted: 1 }, 3, 1)).toBe(-1);
    expect(movedTo({ at: 3, removed: 0, inserted: 1 }, 3, 2)).toBe(4);
    expect(movedTo({ at: 3, removed: 1, inserted: 0 }, 1, 2)).toBe(1);
  });

  it("covers any series of splices with one that moves every run it leaves out where the series moved it", () => {
    fc.assert(
      fc.property(fc.array(fc.array(splice, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }), fc.nat({ max: 5 }), (patches, behind) => {
        const list = Array.from({ length: 10 }, (_, i) => `i${i}`);
        const versions: Array<{ version: number; copy: string[] }> = [{ version: versionOf(list), copy: [...list] }];
        let made = 0;
        for (const patch of patches) {
          const edited = new Edited(list);
          for (const s of patch) {
            const at = Math.min(s.at, list.length);
            edited.splice(at, Math.min(s.removed, list.length - at), ...Array.from({ length: s.inserted }, () => `n${made++}`));
          }
          expect(edited.done()).toBe(list);
          versions.push({ version: versionOf(list), copy: [...list] });
        }
        const from = versions[Math.max(0, versions.length - 1 - behind)] as { version: number; copy: string[] };
        const cover = editSince(list, from.version) as ListEdit;
        expect(from.copy.length - cover.removed + cover.inserted).toBe(list.length);
        checkAgainstLists(from.copy, list, cover);
        // The cover is exact at its ends: what it replaced is all the old list has outside the runs it keeps.
        expect([...from.copy.slice(0, cover.at), ...list.slice(cover.at, cover.at + cover.inserted), ...from.copy.slice(cover.at + cover.removed)]).toEqual(list);
      }),
      { numRuns: 300 },
    );
  });

  it("composes two splices as one", () => {
    // An insert at 5, then a removal at 2: everything from 2 up to the inserted item is covered.
    expect(followedBy({ at: 5, removed: 0, inserted: 1 }, { at: 2, removed: 1, inserted: 0 })).toEqual({ at: 2, removed: 3, inserted: 3 });
    expect(followedBy(undefined, { at: 1, removed: 2, inserted: 0 })).toEqual({ at: 1, removed: 2, inserted: 0 });
  });

  it("knows a list's splices only as far back as it keeps them, and nothing of a list never patched", () => {
    const list = ["a"];
    expect(versionOf(list)).toBe(0);
    expect(editSince(list, 0)).toEqual({ at: 0, removed: 0, inserted: 0 });
    expect(editSince(list, 1)).toBeUndefined();
    for (let i = 0; i < 20; i++) {
      const edited = new Edited(list);
      edited.splice(list.length, 0, `x${i}`);
      edited.done();
    }
    expect(versionOf(list)).toBe(20);
    expect(editSince(list, 4)).toEqual({ at: 5, removed: 0, inserted: 16 });
    expect(editSince(list, 3)).toBeUndefined();
    // A patch that changed nothing is no new version.
    new Edited(list).done();
    expect(versionOf(list)).toBe(20);
  });
});

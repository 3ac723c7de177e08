// In watch mode the index patches its gets/getvs answers and ls/lsdir listings in place as keys come and go. After any
// puts and deletes under a prefix, each answer equals a fresh index's; an answer patched in place has a new version, and the
// splice it records since an earlier version (what the memo trusts to reuse runs) made it from
// that version's items; an answer made anew leaves the last one as it was.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KeyIndex } from "../../src/mirror/key-index.js";
import { editSince, versionOf } from "../../src/mirror/list-edits.js";

const POOL = [
  ...Array.from({ length: 60 }, (_, i) => `/p/k${String(i).padStart(2, "0")}`),
  ...Array.from({ length: 6 }, (_, i) => [`/p/d${i}/x`, `/p/d${i}/y`]).flat(),
  "/p",
  "/p/d1",
];
const VALUES = ["a", "b", "c", "10", "9"];

type Query = (index: KeyIndex) => readonly unknown[];
const QUERIES: Record<string, Query> = {
  gets: (index) => index.glob("/p/*"),
  getvs: (index) => index.globValues("/p/*"),
  getsNested: (index) => index.glob("/p/*/x"),
  ls: (index) => index.list("/p"),
  lsdir: (index) => index.listDirs("/p"),
  lsChild: (index) => index.list("/p/d1"),
};

const op = fc.record({ key: fc.constantFrom(...POOL), value: fc.option(fc.constantFrom(...VALUES), { nil: undefined, freq: 3 }) });
/** Mostly one change a step, as the daemon sees them; sometimes several, and sometimes more than a patch is worth. */
const step = fc.oneof(
  { weight: 6, arbitrary: fc.array(op, { minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: fc.array(op, { minLength: 2, maxLength: 5 }) },
  { weight: 1, arbitrary: fc.array(op, { minLength: 65, maxLength: 90 }) },
);

function plain(answer: readonly unknown[]): unknown {
  return JSON.parse(JSON.stringify(answer)) as unknown;
}

function fresh(index: KeyIndex): KeyIndex {
  const copy = new KeyIndex();
  for (const [key, value] of index.entries()) copy.set(key, value);
  return copy;
}

describe("answers patched in watch mode", () => {
  it("equal a fresh index's after any puts and deletes, and record the splice that made them from an earlier version", () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 25 }), (steps) => {
        const index = new KeyIndex();
        index.trackVersions();
        for (const [i, key] of POOL.entries()) if (i % 3 === 0) index.set(key, VALUES[i % VALUES.length] as string);
        const last = new Map<string, { answer: readonly unknown[]; version: number; items: unknown[]; copy: unknown }>();
        for (const batch of steps) {
          for (const { key, value } of batch) {
            if (value === undefined) index.delete(key);
            else index.set(key, value);
          }
          const reference = fresh(index);
          for (const [name, query] of Object.entries(QUERIES)) {
            const answer = query(index);
            expect(plain(answer), name).toEqual(plain(query(reference)));
            const before = last.get(name);
            if (before !== undefined && answer !== before.answer) {
              expect(versionOf(before.answer), `${name}: an answer made anew, the last one patched`).toBe(before.version);
              expect(plain(before.answer), `${name}: an answer made anew, the last one changed`).toEqual(before.copy);
            }
            if (before !== undefined && answer === before.answer) {
              const edit = editSince(answer, before.version);
              expect(edit, `${name}: the splice since the last version`).toBeDefined();
              if (edit !== undefined) {
                const replayed = [...before.items];
                replayed.splice(edit.at, edit.removed, ...answer.slice(edit.at, edit.at + edit.inserted));
                expect(replayed, `${name}: the recorded splice`).toEqual([...answer]);
                // The items outside the splice are the same ones, not equal copies: the memo finds its runs by them.
                for (let i = 0; i < edit.at; i++) expect(answer[i]).toBe(before.items[i]);
                for (let i = edit.at + edit.inserted; i < answer.length; i++) expect(answer[i]).toBe(before.items[i - edit.inserted + edit.removed]);
              }
            }
            last.set(name, { answer, version: versionOf(answer), items: [...answer], copy: plain(answer) });
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});

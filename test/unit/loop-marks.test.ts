// A daemon's render comes out as parts: its top-level loops' pieces (runs under blocks), kept by the memo, in their places.
// The parts join to what a full render gives; unchanged pieces are the same from one render to the next (so the writer
// compares them by identity); and marks that did not come through as made give the render as one string, made afresh.
import { describe, expect, it, vi } from "vitest";
import { Mirror } from "../../src/mirror/mirror.js";
import { eachLeaf, TextPieces } from "../../src/render/rendered-text.js";
import { compileTemplate } from "../../src/template/compile.js";
import { LoopMarks } from "../../src/template/loop-marks.js";
import { RenderMemo } from "../../src/template/memo.js";
import { Provenance } from "../../src/template/provenance.js";

describe("loop marks", () => {
  const run = (output: string) => ({ output, children: undefined });
  const [a1, a2, b1] = [run("a1"), run("a2"), run("b1")];

  it("put each loop's pieces in its mark's place, between the text around them", () => {
    const marks = new LoopMarks();
    marks.begin();
    const [first, second] = [marks.mark([a1, a2]), marks.mark([b1])];
    expect(marks.piecesOf(`head ${first} mid ${second}`)).toEqual(["head ", a1, a2, " mid ", b1]);
    expect(marks.piecesOf(`${first}${second}`)).toEqual([a1, a2, b1]);
  });

  it("give the output itself when no loop was marked", () => {
    const marks = new LoopMarks();
    marks.begin();
    expect(marks.piecesOf("plain")).toBe("plain");
  });

  it("give nothing when a mark is missing, repeated or out of order", () => {
    const marks = new LoopMarks();
    marks.begin();
    const [first, second] = [marks.mark([a1]), marks.mark([b1])];
    expect(marks.piecesOf(`${first}`)).toBeUndefined();
    expect(marks.piecesOf(`${first}${first}${second}`)).toBeUndefined();
    expect(marks.piecesOf(`${second}${first}`)).toBeUndefined();
  });
});

describe("a memoized render's pieces", () => {
  const source = 'head {{getv "/tag" "-"}}\n{{#each (gets "/p/*")}}{{key}}={{value}}\n{{/each}}mid\n{{#let t=(getv "/tag" "-")}}{{#each (ls "/p")}}{{@t}}{{this}};{{/each}}{{/let}}\ntail\n';
  const keys = Array.from({ length: 300 }, (_, i) => ({ key: `/p/k${String(i).padStart(3, "0")}`, value: `v${i}` }));
  const setUp = () => {
    const mirror = new Mirror([{ name: "r", prefix: "", paths: ["/p", "/tag"] }]);
    mirror.replace([...keys, { key: "/tag", value: "t" }], 1);
    const memo = new RenderMemo(mirror.view("r"));
    const template = compileTemplate("t.hbs", "/t/t.hbs", source);
    return {
      mirror,
      memo,
      pieces: () => template.renderText({ view: mirror.view("r"), env: {}, provenance: new Provenance(), memo }),
      full: () => template.render({ view: mirror.view("r"), env: {}, provenance: new Provenance() }),
    };
  };

  it("join to a full render, and keep every unchanged run the same string", () => {
    const t = setUp();
    const before = t.pieces();
    expect(before).toBeInstanceOf(TextPieces);
    expect((before as TextPieces).joined()).toBe(t.full());
    t.mirror.apply([{ type: "put", key: "/p/k150", value: "changed", revision: 2 }], 2);
    const after = t.pieces() as TextPieces;
    expect(after.joined()).toBe(t.full());
    const leaves = (parts: TextPieces) => {
      const out: string[] = [];
      eachLeaf(parts.parts, (text) => out.push(text) > 0);
      return out;
    };
    const kept = new Set(leaves(before as TextPieces));
    // One run of 32 iterations holds the change; every other run of both loops is the same string as before, and every
    // piece at the top but the one on the change's path is the same object.
    const fresh = leaves(after).filter((leaf) => !kept.has(leaf));
    expect(fresh).toHaveLength(1);
    expect(fresh[0]).toContain("/p/k150=changed");
    const top = new Set((before as TextPieces).parts);
    expect(after.parts.filter((part) => typeof part !== "string" && !top.has(part))).toHaveLength(1);
  });

  it("come as one string, rendered afresh, when the marks did not come through", () => {
    const t = setUp();
    t.pieces();
    const piecesOf = vi.spyOn(t.memo, "piecesOf").mockReturnValueOnce(undefined);
    const again = t.pieces();
    expect(typeof again).toBe("string");
    expect(again).toBe(t.full());
    piecesOf.mockRestore();
    // The memo started afresh: the next render renders every iteration again.
    expect((t.pieces() as TextPieces).joined()).toBe(t.full());
    expect(t.memo.stats.reused).toBe(0);
  });
});

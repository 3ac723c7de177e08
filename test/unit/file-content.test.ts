import { describe, expect, it, vi } from "vitest";
import fc from "fast-check";
import { TextPieces, type TextPart } from "../../src/render/rendered-text.js";
import { FileContent } from "../../src/write/content.js";

describe("FileContent.staged", () => {
  it("encodes text as UTF-8, whatever the characters' widths, growing the buffer it reuses as needed", () => {
    const texts = ["", "a", "é".repeat(3), "ascii then \u{1F600} and \u20AC\n", "x".repeat(70_000) + "\u{1F600}", "short"];
    for (const text of texts) {
      expect(Buffer.from(new FileContent(text).staged())).toEqual(Buffer.from(text, "utf8"));
    }
  });

  it("is not cut short when the reused buffer ends inside a character", async () => {
    // A fresh module: the buffer it reuses is made for the first text, 1,000 bytes.
    vi.resetModules();
    const { FileContent: FreshContent } = await import("../../src/write/content.js");
    new FreshContent("y".repeat(1000)).staged();
    // Just longer than the buffer made for 1,000 bytes: its last characters need four bytes each.
    const text = "z".repeat(1240) + "\u{1F600}".repeat(5);
    expect(Buffer.from(new FreshContent(text).staged()).toString("utf8")).toBe(text);
  });

  it("gives bytes given as bytes back as they are, and bytes() stays the content's own", () => {
    const given = FileContent.given(Uint8Array.from([0xff, 0x00, 0x41]));
    expect(Buffer.from(given.staged())).toEqual(Buffer.from([0xff, 0x00, 0x41]));
    const text = new FileContent("kept\n");
    const own = text.bytes();
    new FileContent("something else entirely\n").staged();
    expect(Buffer.from(own).toString("utf8")).toBe("kept\n");
  });
});

describe("FileContent: one form held, the other made when asked", () => {
  it("copies bytes a caller gives (the install cache may keep them), and holds text as the same string", () => {
    const bytes = Uint8Array.from([0x61, 0x0a]);
    const given = FileContent.given(bytes);
    bytes[0] = 0x62;
    expect(given.held).toEqual(Buffer.from("a\n"));
    expect(FileContent.given("text\n").held).toBe("text\n");
  });

  it("gives bytes read from disk as text by their UTF-8 decoding, as a diff shows them", () => {
    expect(new FileContent(Buffer.from("caf\u00e9\n")).text()).toBe("caf\u00e9\n");
    expect(new FileContent(Buffer.from([0x61, 0xff, 0x0a])).text()).toBe("a\uFFFD\n");
    expect(Buffer.from(new FileContent("caf\u00e9\n").bytes())).toEqual(Buffer.from([0x63, 0x61, 0x66, 0xc3, 0xa9, 0x0a]));
  });

  it("compares text with text as text, and anything with bytes byte for byte", () => {
    expect(new FileContent("a\n").sameAs(new FileContent("a\n"))).toBe(true);
    expect(new FileContent("a\n").sameAs(new FileContent("b\n"))).toBe(false);
    expect(new FileContent(Buffer.from("a\n")).sameAs(new FileContent("a\n"))).toBe(true);
    expect(new FileContent("a\n").sameAs(new FileContent(Buffer.from("a\n")))).toBe(true);
    // Bytes that are not UTF-8 decode to U+FFFD, yet are not the bytes of the text "\uFFFD".
    expect(new FileContent(Buffer.from([0xff, 0x0a])).sameAs(new FileContent("\uFFFD\n"))).toBe(false);
  });
});

describe("FileContent of a render's pieces", () => {
  const pieces = (...texts: string[]) => new FileContent(new TextPieces(texts));

  it("encodes the pieces one after another, whatever the characters' widths, growing the buffer it reuses as needed", async () => {
    vi.resetModules();
    const { FileContent: FreshContent } = await import("../../src/write/content.js");
    const { TextPieces: FreshPieces } = await import("../../src/render/rendered-text.js");
    new FreshContent("y".repeat(1000)).staged();
    // The buffer made for 1,000 bytes ends inside the third piece's four-byte characters.
    const parts = ["a".repeat(600), "é".repeat(150), "\u{1F600}".repeat(40), "", "tail\n"];
    expect(Buffer.from(new FreshContent(new FreshPieces(parts)).staged()).toString("utf8")).toBe(parts.join(""));
  });

  it("is the same as the same text cut into other pieces, or given whole, and not as a text that differs anywhere", () => {
    const run = "protocol bgp Mesh_10_0_0_1 from bgp_template {\n".repeat(40);
    const base = pieces("head\n", run, run + "x", "tail\n");
    expect(base.sameAs(pieces("head\n", run, run + "x", "tail\n"))).toBe(true);
    expect(base.sameAs(pieces("head", "\n" + run + run, "xtail", "\n"))).toBe(true);
    expect(base.sameAs(new FileContent(`head\n${run}${run}xtail\n`))).toBe(true);
    expect(base.sameAs(new FileContent(Buffer.from(`head\n${run}${run}xtail\n`)))).toBe(true);
    expect(base.sameAs(pieces("head\n", run, run + "y", "tail\n"))).toBe(false);
    expect(base.sameAs(pieces("head", "\n" + run + run, "ytail", "\n"))).toBe(false);
    expect(base.sameAs(pieces("head\n", run, run, "tail\n"))).toBe(false);
  });

  it("compares any two cuttings of two texts, into strings, runs and blocks of them, as the texts compare", () => {
    // Cut points, then each leaf a string or a run, and consecutive leaves grouped into blocks as `groups` says.
    const cut = (text: string, at: number[], groups: number[]): FileContent => {
      const leaves: TextPart[] = [];
      let from = 0;
      for (const [k, to] of [...at.map((i) => i % (text.length + 1)).sort((x, y) => x - y), text.length].entries()) {
        const leaf = text.slice(from, to);
        leaves.push(k % 2 === 0 ? leaf : { output: leaf, children: undefined });
        from = Math.max(from, to);
      }
      const parts: TextPart[] = [];
      for (let i = 0, g = 0; i < leaves.length; g++) {
        const size = 1 + ((groups[g] ?? 0) % 3);
        const group = leaves.slice(i, i + size);
        i += size;
        if (size === 1) parts.push(...group);
        else parts.push({ output: group.map((p) => (typeof p === "string" ? p : p.output)).join(""), children: group.map((p) => (typeof p === "string" ? { output: p, children: undefined } : p)) });
      }
      return new FileContent(new TextPieces(parts));
    };
    const text = fc.string({ maxLength: 40 });
    const cuts = fc.array(fc.nat(), { maxLength: 6 });
    fc.assert(
      fc.property(text, text, cuts, cuts, cuts, cuts, (a, b, atA, atB, groupsA, groupsB) => {
        expect(cut(a, atA, groupsA).sameAs(cut(b, atB, groupsB))).toBe(a === b);
        expect(cut(a, atA, groupsA).sameAs(cut(a, atB, groupsB))).toBe(true);
        expect(Buffer.from(cut(a, atA, groupsA).staged()).toString("utf8")).toBe(a);
      }),
      { numRuns: 500 },
    );
  });

  it("takes the same block at the same place as equal without reading it, and reads other blocks piece by piece", () => {
    const runs = ["r1\n", "r2\n", "r3\n"].map((output) => ({ output, children: undefined }));
    const block = { output: runs.map((r) => r.output).join(""), children: runs };
    // A block whose joined text (of the same length) disagrees with its runs: the writer goes by the runs, never by a
    // block's joined text, which it would have to make flat.
    const lying = { output: "XX\nXX\nXX\n", children: runs };
    expect(new FileContent(new TextPieces(["h", block])).sameAs(new FileContent(new TextPieces(["h", block])))).toBe(true);
    expect(new FileContent(new TextPieces(["h", lying])).sameAs(new FileContent(new TextPieces(["h", "r1\nr2\nr3\n"])))).toBe(true);
    expect(Buffer.from(new FileContent(new TextPieces(["h", lying])).staged()).toString()).toBe("hr1\nr2\nr3\n");
    expect(Buffer.from(new FileContent(new TextPieces(["h", block])).staged()).toString()).toBe("hr1\nr2\nr3\n");
    expect(new FileContent(new TextPieces(["h", { output: block.output, children: [...runs.slice(0, 2), { output: "rX\n", children: undefined }] }])).sameAs(new FileContent(new TextPieces(["h", block])))).toBe(false);
  });

  it("gives the joined text for a diff, and its bytes when asked", () => {
    const content = pieces("a", "é", "\n");
    expect(content.text()).toBe("aé\n");
    expect(Buffer.from(content.bytes())).toEqual(Buffer.from("aé\n"));
  });
});

import { describe, expect, it, vi } from "vitest";
import { NewContent } from "../../src/write/content.js";

describe("NewContent.staged", () => {
  it("encodes text as UTF-8, whatever the characters' widths, growing the buffer it reuses as needed", () => {
    const texts = ["", "a", "é".repeat(3), "ascii then \u{1F600} and \u20AC\n", "x".repeat(70_000) + "\u{1F600}", "short"];
    for (const text of texts) {
      expect(Buffer.from(new NewContent(text).staged())).toEqual(Buffer.from(text, "utf8"));
    }
  });

  it("is not cut short when the reused buffer ends inside a character", async () => {
    // A fresh module: the buffer it reuses is made for the first text, 1,000 bytes.
    vi.resetModules();
    const { NewContent: FreshContent } = await import("../../src/write/content.js");
    new FreshContent("y".repeat(1000)).staged();
    // Just longer than the buffer made for 1,000 bytes: its last characters need four bytes each.
    const text = "z".repeat(1240) + "\u{1F600}".repeat(5);
    expect(Buffer.from(new FreshContent(text).staged()).toString("utf8")).toBe(text);
  });

  it("gives bytes given as bytes back as they are, and bytes() stays the content's own", () => {
    const given = new NewContent(Uint8Array.from([0xff, 0x00, 0x41]));
    expect(Buffer.from(given.staged())).toEqual(Buffer.from([0xff, 0x00, 0x41]));
    const text = new NewContent("kept\n");
    const own = text.bytes();
    new NewContent("something else entirely\n").staged();
    expect(own.toString("utf8")).toBe("kept\n");
  });
});

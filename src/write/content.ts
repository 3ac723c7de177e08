/**
 * A file's content, kept in the form it came in: text (a render, or what this process installed from
 * one) or bytes (read from disk, or given as bytes). The other form is made only when asked: a diff
 * wants text, a stage file bytes. Both the content to install and the destination's old content.
 */
export class FileContent {
  private encoded: Buffer | undefined;

  /** Content a caller gives to install: bytes are copied, since the install cache may keep them. */
  static given(content: string | Uint8Array): FileContent {
    return new FileContent(typeof content === "string" ? content : Buffer.from(content));
  }

  /** `held`: text or bytes of this value's own (nothing else changes them). */
  constructor(readonly held: string | Buffer) {}

  /** The text: as given, or the bytes decoded as UTF-8 (what a diff shows). */
  text(): string {
    return typeof this.held === "string" ? this.held : this.held.toString("utf8");
  }

  // Bytes of their own: what a comparison with bytes or an in-place write needs.
  bytes(): Uint8Array {
    return typeof this.held === "string" ? (this.encoded ??= Buffer.from(this.held, "utf8")) : this.held;
  }

  /**
   * The bytes to write into a stage file now. Text is encoded into one buffer this process reuses, valid
   * until the next call: a fresh buffer of a megabyte costs its page faults on the way to the rename.
   */
  staged(): Uint8Array {
    return typeof this.held === "string" ? (this.encoded ?? encodeReusing(this.held)) : this.held;
  }

  /**
   * Whether the two are the same bytes. Text with text (a daemon's render against what it installed)
   * needs no encoding; anything read from disk is compared byte for byte.
   */
  sameAs(other: FileContent): boolean {
    if (typeof this.held === "string" && typeof other.held === "string") return this.held === other.held;
    return Buffer.compare(this.bytes(), other.bytes()) === 0;
  }
}

let reused = Buffer.alloc(0);

function encodeReusing(text: string): Buffer {
  let written = reused.write(text);
  // A UTF-8 character takes up to 4 bytes: with 4 left over, none was cut off.
  if (written > reused.length - 4) {
    reused = Buffer.allocUnsafeSlow(Math.ceil(Buffer.byteLength(text) * 1.25) + 4);
    written = reused.write(text);
  }
  return reused.subarray(0, written);
}

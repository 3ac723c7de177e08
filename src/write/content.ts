/** The content to install: kept as text when given as text, encoded when its bytes are needed. */
export class NewContent {
  readonly text: string | undefined;
  private encoded: Buffer | undefined;

  constructor(private readonly content: string | Uint8Array) {
    this.text = typeof content === "string" ? content : undefined;
    this.encoded = typeof content === "string" ? undefined : Buffer.from(content);
  }

  // Bytes of their own: what a comparison with a file this process did not install, the record of an
  // install, or an in-place write needs.
  bytes(): Buffer {
    return (this.encoded ??= Buffer.from(this.content as string, "utf8"));
  }

  /**
   * The bytes to write into a stage file now. Text is encoded into one buffer this process reuses, valid
   * until the next call: a fresh buffer of a megabyte costs its page faults on the way to the rename.
   */
  staged(): Uint8Array {
    return this.encoded ?? encodeReusing(this.content as string);
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

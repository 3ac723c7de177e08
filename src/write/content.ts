/** The content to install: kept as text when given as text, encoded once, when its bytes are needed. */
export class NewContent {
  readonly text: string | undefined;
  private encoded: Buffer | undefined;

  constructor(private readonly content: string | Uint8Array) {
    this.text = typeof content === "string" ? content : undefined;
    this.encoded = typeof content === "string" ? undefined : Buffer.from(content);
  }

  // Only a comparison with a file this process did not install, or a write, needs the bytes.
  bytes(): Buffer {
    return (this.encoded ??= Buffer.from(this.content as string, "utf8"));
  }
}

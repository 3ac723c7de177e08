/**
 * Keeps the last `limit` bytes of a stream in bounded memory, counting what it dropped, so a
 * command printing megabytes costs at most `limit` bytes (plus one chunk).
 */
export class OutputTail {
  private chunks: Buffer[] = [];
  private kept = 0;
  private omitted = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.kept += chunk.length;
    while (this.kept > this.limit) {
      const first = this.chunks[0];
      if (first === undefined) break;
      const excess = this.kept - this.limit;
      if (first.length <= excess) {
        this.chunks.shift();
        this.drop(first.length);
      } else {
        this.chunks[0] = first.subarray(excess);
        this.drop(excess);
      }
    }
  }

  toString(): string {
    let tail = Buffer.concat(this.chunks);
    let omitted = this.omitted;
    if (omitted > 0) {
      // The cut may fall inside a multi-byte UTF-8 character: drop its continuation bytes rather
      // than print a replacement character.
      let start = 0;
      while (start < tail.length && start < 3 && ((tail[start] ?? 0) & 0xc0) === 0x80) start++;
      tail = tail.subarray(start);
      omitted += start;
      return `[... ${omitted} bytes omitted]\n${tail.toString("utf8")}`;
    }
    return tail.toString("utf8");
  }

  private drop(bytes: number): void {
    this.kept -= bytes;
    this.omitted += bytes;
  }
}

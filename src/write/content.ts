import { TextPieces } from "../render/rendered-text.js";

/**
 * A file's content, kept in the form it came in: text (a render, or what this process installed from
 * one, as one string or as the render's pieces) or bytes (read from disk, or given as bytes). The other
 * form is made only when asked: a diff wants text, a stage file bytes. Both the content to install and
 * the destination's old content.
 */
export class FileContent {
  private encoded: Buffer | undefined;

  /** Content a caller gives to install: bytes are copied, since the install cache may keep them. */
  static given(content: string | TextPieces | Uint8Array): FileContent {
    return new FileContent(typeof content === "string" || content instanceof TextPieces ? content : Buffer.from(content));
  }

  /** `held`: text or bytes of this value's own (nothing else changes them). */
  constructor(readonly held: string | TextPieces | Buffer) {}

  /** The text: as given, or the bytes decoded as UTF-8 (what a diff shows). */
  text(): string {
    if (typeof this.held === "string") return this.held;
    return this.held instanceof TextPieces ? this.held.joined() : this.held.toString("utf8");
  }

  // Bytes of their own: what a comparison with bytes or an in-place write needs.
  bytes(): Uint8Array {
    if (Buffer.isBuffer(this.held)) return this.held;
    return (this.encoded ??= Buffer.from(this.text(), "utf8"));
  }

  /**
   * The bytes to write into a stage file now. Text is encoded into one buffer this process reuses, valid
   * until the next call: a fresh buffer of a megabyte costs its page faults on the way to the rename.
   * Pieces are encoded one by one, so the whole text is never made into one string for it.
   */
  staged(): Uint8Array {
    if (Buffer.isBuffer(this.held)) return this.held;
    return this.encoded ?? encodeReusing(this.held instanceof TextPieces ? this.held.pieces : [this.held]);
  }

  /**
   * Whether the two are the same bytes. Text with text (a daemon's render against what it installed)
   * needs no encoding, and pieces with pieces compare the pieces both hold by identity; anything read
   * from disk is compared byte for byte.
   */
  sameAs(other: FileContent): boolean {
    const [a, b] = [this.held, other.held];
    if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.compare(this.bytes(), other.bytes()) === 0;
    if (a.length !== b.length) return false;
    if (typeof a === "string" || typeof b === "string") return this.text() === other.text();
    return samePieces(a.pieces, b.pieces);
  }
}

/** The same text cut into pieces two ways (the same total length): pieces both hold are the same at once. */
function samePieces(a: readonly string[], b: readonly string[]): boolean {
  let [i, j, x, y] = [0, 0, 0, 0];
  while (i < a.length && j < b.length) {
    const [p, q] = [a[i] as string, b[j] as string];
    if (x === 0 && y === 0 && p.length === q.length) {
      if (p !== q) return false;
      i++;
      j++;
      continue;
    }
    // Boundaries apart: the overlap of the two pieces, as slices (no copy).
    const n = Math.min(p.length - x, q.length - y);
    if (n > 0 && p.slice(x, x + n) !== q.slice(y, y + n)) return false;
    x += n;
    y += n;
    if (x === p.length) [i, x] = [i + 1, 0];
    if (y === q.length) [j, y] = [j + 1, 0];
  }
  return true;
}

let reused = Buffer.alloc(0);

function encodeReusing(pieces: readonly string[]): Buffer {
  let written = writePieces(reused, pieces);
  // A UTF-8 character takes up to 4 bytes: with 4 left over, none was cut off.
  if (written > reused.length - 4) {
    let bytes = 0;
    for (const piece of pieces) bytes += Buffer.byteLength(piece);
    reused = Buffer.allocUnsafeSlow(Math.ceil(bytes * 1.25) + 4);
    written = writePieces(reused, pieces);
  }
  return reused.subarray(0, written);
}

/** Bytes written; past `buffer.length - 4` a piece may have been cut off. */
function writePieces(buffer: Buffer, pieces: readonly string[]): number {
  let at = 0;
  for (const piece of pieces) {
    at += buffer.write(piece, at);
    if (at > buffer.length - 4) return at;
  }
  return at;
}

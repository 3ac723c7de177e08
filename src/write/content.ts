import { eachLeaf, TextPieces, textOf, type RenderedText, type TextNode, type TextPart } from "../render/rendered-text.js";

/**
 * A file's content, kept in the form it came in: text (a render, or what this process installed from
 * one, as one string or as the render's pieces) or bytes (read from disk, or given as bytes). The other
 * form is made only when asked: a diff wants text, a stage file bytes. Both the content to install and
 * the destination's old content.
 */
export class FileContent {
  private encoded: Buffer | undefined;

  /** Content a caller gives to install: bytes are copied, since the install cache may keep them. */
  static given(content: RenderedText | Uint8Array): FileContent {
    return new FileContent(typeof content === "string" || content instanceof TextPieces ? content : Buffer.from(content));
  }

  /** `held`: text or bytes of this value's own (nothing else changes them). */
  constructor(readonly held: RenderedText | Buffer) {}

  /** The text: as given, or the bytes decoded as UTF-8 (what a diff shows). */
  text(): string {
    return Buffer.isBuffer(this.held) ? this.held.toString("utf8") : textOf(this.held);
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
    return this.encoded ?? encodeReusing(partsOf(this.held));
  }

  /**
   * Whether the two are the same bytes. Text with text (a daemon's render against what it installed)
   * needs no encoding, and the pieces both hold compare by identity; anything read from disk is
   * compared byte for byte.
   */
  sameAs(other: FileContent): boolean {
    const [a, b] = [this.held, other.held];
    if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.compare(this.bytes(), other.bytes()) === 0;
    return a.length === b.length && sameParts(partsOf(a), partsOf(b));
  }
}

function partsOf(text: RenderedText): readonly TextPart[] {
  return typeof text === "string" ? [text] : text.parts;
}

/** Where a walk over a render's parts is: the part it is at, at each level of blocks it went into. */
class PartCursor {
  private readonly stack: Array<{ parts: readonly TextPart[]; at: number }>;

  constructor(parts: readonly TextPart[]) {
    this.stack = [{ parts, at: 0 }];
  }

  get current(): TextPart | undefined {
    for (let top = this.stack[this.stack.length - 1]; top !== undefined; top = this.stack[this.stack.length - 1]) {
      if (top.at < top.parts.length) return top.parts[top.at];
      this.stack.pop();
    }
    return undefined;
  }

  next(): void {
    (this.stack[this.stack.length - 1] as { at: number }).at++;
  }

  /** Into the block it is at: its first child is current. */
  open(block: TextNode): void {
    this.next();
    this.stack.push({ parts: block.children as readonly TextNode[], at: 0 });
  }
}

const isBlock = (part: TextPart): part is TextNode & { children: readonly TextNode[] } => typeof part !== "string" && part.children !== undefined;

/**
 * The same text (the same total length) cut into parts two ways. At the same place in both, the same piece (a block or
 * run the memo reused, an unchanged string) is equal at once; other blocks are opened, and flat texts compared, by
 * slices where their boundaries are apart (no copy).
 */
function sameParts(a: readonly TextPart[], b: readonly TextPart[]): boolean {
  const [x, y] = [new PartCursor(a), new PartCursor(b)];
  // Where the comparison is in the flat text x and y are at (0 at a boundary of each).
  let [i, j] = [0, 0];
  for (let p = x.current, q = y.current; p !== undefined && q !== undefined; p = x.current, q = y.current) {
    if (i === 0 && j === 0 && p === q) {
      x.next();
      y.next();
      continue;
    }
    if (isBlock(p)) {
      x.open(p);
      continue;
    }
    if (isBlock(q)) {
      y.open(q);
      continue;
    }
    const [s, t] = [typeof p === "string" ? p : p.output, typeof q === "string" ? q : q.output];
    const n = Math.min(s.length - i, t.length - j);
    if (n > 0 && s.slice(i, i + n) !== t.slice(j, j + n)) return false;
    i += n;
    j += n;
    if (i === s.length) {
      i = 0;
      x.next();
    }
    if (j === t.length) {
      j = 0;
      y.next();
    }
  }
  // The lengths are equal, and so is all of one: what is left of the other is empty.
  return true;
}

let reused = Buffer.alloc(0);

function encodeReusing(parts: readonly TextPart[]): Buffer {
  let written = writeParts(reused, parts);
  // A UTF-8 character takes up to 4 bytes: with 4 left over, none was cut off.
  if (written > reused.length - 4) {
    let bytes = 0;
    eachLeaf(parts, (text) => {
      bytes += Buffer.byteLength(text);
      return true;
    });
    reused = Buffer.allocUnsafeSlow(Math.ceil(bytes * 1.25) + 4);
    written = writeParts(reused, parts);
  }
  return reused.subarray(0, written);
}

/** Bytes written, leaf by leaf (a block's joined text is never made flat); past `buffer.length - 4` one may have been cut off. */
function writeParts(buffer: Buffer, parts: readonly TextPart[]): number {
  let at = 0;
  eachLeaf(parts, (text) => {
    at += buffer.write(text, at);
    return at <= buffer.length - 4;
  });
  return at;
}

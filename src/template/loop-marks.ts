/**
 * The output of a memoized loop at a template's top level stands in the render's string as a mark; the marks are then
 * replaced by the loop's pieces, which yields the render as parts (rendered-text.ts) rather than as one string: the
 * writer compares and encodes them piece by piece, and no flat copy of the whole file is made for it.
 */
import { randomBytes } from "node:crypto";
import type { TextNode, TextPart } from "../render/rendered-text.js";

/** Noncharacters around a mark: never meant for interchange, and a mark also carries a nonce no template can know. */
const OPEN = "\uFDD0";
const CLOSE = "\uFDD1";

export class LoopMarks {
  private readonly nonce = randomBytes(8).toString("hex");
  private readonly pattern = new RegExp(`${OPEN}${this.nonce}:(\\d+)${CLOSE}`, "g");
  /** Each marked loop's pieces, in the order the marks were made. */
  private loops: Array<readonly TextNode[]> = [];

  begin(): void {
    this.loops = [];
  }

  /** The mark that stands for a loop whose output is its `pieces`' texts, joined. */
  mark(pieces: readonly TextNode[]): string {
    this.loops.push(pieces);
    return `${OPEN}${this.nonce}:${this.loops.length - 1}${CLOSE}`;
  }

  /**
   * The render's parts: the text between the marks, and each loop's pieces in its mark's place. `output` itself when
   * nothing was marked; undefined when the marks are not each there once, in order (a helper that changed the text
   * around a loop), and the render must be made again without marks.
   */
  piecesOf(output: string): string | TextPart[] | undefined {
    if (this.loops.length === 0) return output;
    const pieces: TextPart[] = [];
    let [at, next] = [0, 0];
    this.pattern.lastIndex = 0;
    for (let match = this.pattern.exec(output); match !== null; match = this.pattern.exec(output)) {
      const loop = this.loops[next];
      if (loop === undefined || match[1] !== String(next)) return undefined;
      if (match.index > at) pieces.push(output.slice(at, match.index));
      for (const piece of loop) pieces.push(piece);
      at = match.index + match[0].length;
      next++;
    }
    if (next !== this.loops.length) return undefined;
    if (at < output.length) pieces.push(output.slice(at));
    return pieces;
  }
}

/**
 * The output of a memoized loop at a template's top level stands in the render's string as a mark; the marks are then
 * replaced by the loop's runs, which yields the render as pieces (rendered-text.ts) rather than as one string: the
 * writer compares and encodes them one by one, and no flat copy of the whole file is made for it.
 */
import { randomBytes } from "node:crypto";

/** Noncharacters around a mark: never meant for interchange, and a mark also carries a nonce no template can know. */
const OPEN = "\uFDD0";
const CLOSE = "\uFDD1";

export class LoopMarks {
  private readonly nonce = randomBytes(8).toString("hex");
  private readonly pattern = new RegExp(`${OPEN}${this.nonce}:(\\d+)${CLOSE}`, "g");
  /** Each marked loop's text, run by run, in the order the marks were made. */
  private loops: string[][] = [];

  begin(): void {
    this.loops = [];
  }

  /** The mark that stands for a loop whose output is `runs`, joined. */
  mark(runs: string[]): string {
    this.loops.push(runs);
    return `${OPEN}${this.nonce}:${this.loops.length - 1}${CLOSE}`;
  }

  /**
   * The render's pieces: the text between the marks, and each loop's runs in its mark's place. `output` itself when
   * nothing was marked; undefined when the marks are not each there once, in order (a helper that changed the text
   * around a loop), and the render must be made again without marks.
   */
  piecesOf(output: string): string | string[] | undefined {
    if (this.loops.length === 0) return output;
    const pieces: string[] = [];
    let [at, next] = [0, 0];
    this.pattern.lastIndex = 0;
    for (let match = this.pattern.exec(output); match !== null; match = this.pattern.exec(output)) {
      const runs = this.loops[next];
      if (runs === undefined || match[1] !== String(next)) return undefined;
      if (match.index > at) pieces.push(output.slice(at, match.index));
      for (const run of runs) pieces.push(run);
      at = match.index + match[0].length;
      next++;
    }
    if (next !== this.loops.length) return undefined;
    if (at < output.length) pieces.push(output.slice(at));
    return pieces;
  }
}

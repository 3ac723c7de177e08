/**
 * A render's output: one string, or (a daemon's render, whose loops the memo keeps) the pieces it is made of, in order.
 * The pieces of loops are the memo's own runs, unchanged ones the same strings from one render to the next: the writer
 * compares them by identity and encodes them one by one, with no flat copy of the whole file.
 */
export class TextPieces {
  /** In UTF-16 code units, as a string's length. */
  readonly length: number;

  constructor(readonly pieces: readonly string[]) {
    let length = 0;
    for (const piece of pieces) length += piece.length;
    this.length = length;
  }

  /** The whole text, as one string (a rope of the pieces until something reads it). */
  joined(): string {
    let text = "";
    for (const piece of this.pieces) text += piece;
    return text;
  }
}

export type RenderedText = string | TextPieces;

export function textOf(rendered: RenderedText): string {
  return typeof rendered === "string" ? rendered : rendered.joined();
}

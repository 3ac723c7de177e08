/**
 * A render's output: one string, or (a daemon's render, whose loops the memo keeps) the parts it is made of, in order:
 * the text around its top-level loops, and each loop's pieces as the memo keeps them (runs of iterations under blocks).
 * Unchanged pieces are the same objects from one render to the next: the writer compares them by identity and encodes
 * the runs one by one, with no flat copy of the whole file, and handing them over costs the render nothing per run.
 */

/** A run (a leaf: its text is flat) or a block of them (its text their texts joined, never read whole by the writer). */
export interface TextNode {
  readonly output: string;
  readonly children: readonly TextNode[] | undefined;
}

export type TextPart = string | TextNode;

export class TextPieces {
  /** In UTF-16 code units, as a string's length. */
  readonly length: number;

  constructor(readonly parts: readonly TextPart[]) {
    let length = 0;
    for (const part of parts) length += typeof part === "string" ? part.length : part.output.length;
    this.length = length;
  }

  /** The whole text, as one string (a rope of the parts until something reads it). */
  joined(): string {
    let text = "";
    for (const part of this.parts) text += typeof part === "string" ? part : part.output;
    return text;
  }
}

export type RenderedText = string | TextPieces;

export function textOf(rendered: RenderedText): string {
  return typeof rendered === "string" ? rendered : rendered.joined();
}

/** Calls `leaf` with each flat text below `parts`, in order; stops when it returns false. */
export function eachLeaf(parts: readonly TextPart[], leaf: (text: string) => boolean): boolean {
  for (const part of parts) {
    if (typeof part === "string" || part.children === undefined) {
      if (!leaf(typeof part === "string" ? part : part.output)) return false;
    } else if (!eachLeaf(part.children, leaf)) return false;
  }
  return true;
}

/**
 * A loop's last output as a tree of pieces: runs of consecutive iterations (one flat text, their items and entries)
 * and blocks of runs or of blocks (their children's texts joined by `+`, which V8 keeps as a rope: no copy). A change
 * opens the pieces on its path down to the iterations it touched and rebuilds only those blocks: O(log N) pieces a
 * change, where runs alone cost O(√N).
 */
import type { ListEdit } from "../mirror/list-edits.js";
import { PlaceBit } from "./iteration-frame.js";

/** Iterations per run, at most. */
export const RUN = 32;
/** Pieces per block, at most. */
const FANOUT = 16;

/** What a run keeps of each of its iterations: its text, as offsets into the run's. */
export interface RunEntry<E> {
  output: string | undefined;
  start: number;
  end: number;
  place: number;
  chunk: Piece<E> | undefined;
}

/** A run (level 0, `children` undefined) or a block. One shape for both: the walk reads them in its hottest loop. */
export interface Piece<E> {
  level: number;
  /** A block's pieces, in order. */
  children: Array<Piece<E>> | undefined;
  /** A run's items and their entries (a run with an item that has none is never reused whole, see `spoiled`). */
  items: unknown[];
  entries: E[];
  output: string;
  /** Items below it, and entries below it. */
  size: number;
  held: number;
  /**
   * Which positions its iterations read that can tell where it is: @index read by any, @first by its first, @last by
   * its last (no other iteration in it can be first or last, here or anywhere it is reused).
   */
  readsIndex: boolean;
  readsFirst: boolean;
  readsLast: boolean;
  /** The render that last used it whole. */
  met: number;
  /** One of its entries went stale or was used apart from it: never reused whole again, nor its blocks above. */
  spoiled: boolean;
  /** The site's env epoch its entries were rendered or reused in. */
  epoch: number;
  /** Where it started in its list, and the list's length, when it was made: at the same place, no position differs. */
  start: number;
  count: number;
  /** The block it is in: a spoiled run spoils the blocks above it. undefined at the top, or once it is opened. */
  parent: Piece<E> | undefined;
}

const NONE: never[] = [];

export function newRun<E>(generation: number, epoch: number, start: number, count: number): Piece<E> {
  return { level: 0, children: undefined, items: [], entries: [], output: "", size: 0, held: 0, readsIndex: false, readsFirst: false, readsLast: false, met: generation, spoiled: false, epoch, start, count, parent: undefined };
}

/** A run's text is final: its entries keep offsets into it, and it is flattened once (see flatten). */
export function closeRun<E extends RunEntry<E>>(run: Piece<E>): void {
  flatten(run.output);
  for (const entry of run.entries) {
    entry.chunk = run;
    entry.output = undefined;
  }
  run.held = run.entries.length;
  const reads = (entry: E | undefined, bit: number) => entry !== undefined && (entry.place & bit) !== 0;
  run.readsIndex = run.entries.some((entry) => reads(entry, PlaceBit.ReadIndex));
  run.readsFirst = reads(run.entries[0], PlaceBit.ReadFirst);
  run.readsLast = reads(run.entries[run.entries.length - 1], PlaceBit.ReadLast);
}

/** A piece no longer holds what it held: neither it nor a block above it is reused whole again. */
export function spoil<E>(piece: Piece<E> | undefined): void {
  // A spoiled piece's blocks were spoiled with it: the walk up stops there.
  for (let at = piece; at !== undefined && !at.spoiled; at = at.parent) at.spoiled = true;
}

/** Used whole in render `generation`, itself or in a block. */
export function metIn<E>(piece: Piece<E> | undefined, generation: number): boolean {
  for (let at = piece; at !== undefined; at = at.parent) if (at.met === generation) return true;
  return false;
}

/** Whether a piece made at its start and list length reads the same positions at `start` in a list of `count`. */
export function samePlaces<E>(piece: Piece<E>, start: number, count: number): boolean {
  if (piece.readsIndex && piece.start !== start) return false;
  if (piece.readsFirst && (piece.start === 0) !== (start === 0)) return false;
  return !(piece.readsLast && (piece.start + piece.size === piece.count) !== (start + piece.size === count));
}

/**
 * Adjacent runs among a render's pieces that fit in one, none spoiled, joined into one: an edit splits a run (32 and
 * 1 after an insert), and runs left that short would grow the tree with every change. Only what the change opened
 * is here, so this copies at most a few runs' text.
 */
export function joinShortRuns<E extends RunEntry<E>>(pieces: Array<Piece<E>>, generation: number, count: number): Array<Piece<E>> {
  const out: Array<Piece<E>> = [];
  let start = 0;
  for (const piece of pieces) {
    const last = out[out.length - 1];
    if (last !== undefined && joinable(last, piece)) out[out.length - 1] = joined(last, piece, generation, start - last.size, count);
    else out.push(piece);
    start += piece.size;
  }
  return out;
}

function joinable<E>(a: Piece<E>, b: Piece<E>): boolean {
  return a.children === undefined && b.children === undefined && !a.spoiled && !b.spoiled && a.size + b.size <= RUN;
}

/** Both at their place now (`start` in a list of `count`): the entries of each read their positions there. */
function joined<E extends RunEntry<E>>(a: Piece<E>, b: Piece<E>, generation: number, start: number, count: number): Piece<E> {
  const run = newRun<E>(generation, a.epoch, start, count);
  run.items = [...a.items, ...b.items];
  run.entries = [...a.entries, ...b.entries];
  for (const entry of b.entries) {
    entry.start += a.output.length;
    entry.end += a.output.length;
  }
  run.output = a.output + b.output;
  run.size = a.size + b.size;
  closeRun(run);
  return run;
}

/** Levels of blocks over the runs of a list of `count`, so that at most about FANOUT pieces are at the top. */
export function heightFor(count: number): number {
  let height = 0;
  for (let span = RUN * FANOUT; span < count; span *= FANOUT) height++;
  return height;
}

/**
 * The pieces of a render, in order, made into a tree `height` levels above the runs: consecutive pieces below a
 * level (those of blocks opened, new runs) go into new blocks of that level, pieces reused whole stay as they are.
 */
export function intoBlocks<E>(pieces: Array<Piece<E>>, height: number, generation: number, epoch: number, count: number): Array<Piece<E>> {
  let row = pieces;
  for (let level = 1; level <= height; level++) {
    const next: Array<Piece<E>> = [];
    let start = 0;
    for (let k = 0; k < row.length; ) {
      let end = k;
      while (end < row.length && (row[end] as Piece<E>).level < level) end++;
      if (end === k) {
        const piece = row[k++] as Piece<E>;
        next.push(piece);
        start += piece.size;
        continue;
      }
      let group = row.slice(k, end);
      // A block beside them with room for them takes them in: blocks that only split would grow the top with every change.
      const before = next[next.length - 1];
      if (before !== undefined && hasRoom(before, level, group.length)) {
        next.pop();
        start -= before.size;
        group = [...(before.children as Array<Piece<E>>), ...group];
      }
      const after = row[end];
      if (after !== undefined && hasRoom(after, level, group.length)) {
        group = [...group, ...(after.children as Array<Piece<E>>)];
        end++;
      }
      // Split evenly: a block opened and grown by one piece becomes two halves, not a full one and a stub.
      const blocks = Math.ceil(group.length / FANOUT);
      for (let b = 0; b < blocks; b++) {
        const block = newBlock(group.slice(Math.floor((group.length * b) / blocks), Math.floor((group.length * (b + 1)) / blocks)), level, generation, epoch, start, count);
        next.push(block);
        start += block.size;
      }
      k = end;
    }
    row = next;
  }
  for (const piece of row) piece.parent = undefined;
  return row;
}

function hasRoom<E>(piece: Piece<E>, level: number, pieces: number): boolean {
  return piece.level === level && piece.children !== undefined && piece.children.length + pieces <= FANOUT;
}

function newBlock<E>(children: Array<Piece<E>>, level: number, generation: number, epoch: number, start: number, count: number): Piece<E> {
  const block: Piece<E> = { level, children, items: NONE, entries: NONE, output: "", size: 0, held: 0, readsIndex: false, readsFirst: false, readsLast: false, met: generation, spoiled: false, epoch, start, count, parent: undefined };
  for (const child of children) {
    child.parent = block;
    block.output += child.output;
    block.size += child.size;
    block.held += child.held;
    block.readsIndex ||= child.readsIndex;
    block.spoiled ||= child.spoiled;
  }
  block.readsFirst = (children[0] as Piece<E>).readsFirst;
  block.readsLast = (children[children.length - 1] as Piece<E>).readsLast;
  return block;
}

/** How many runs are below `pieces`. */
export function runsBelow<E>(pieces: Array<Piece<E>>): number {
  let count = 0;
  for (const piece of pieces) count += piece.children === undefined ? 1 : runsBelow(piece.children);
  return count;
}

/** The runs below `pieces` (a list at `at`) that lie wholly in [from, to), by their first item, none spoiled. */
export function runsWithin<E>(pieces: Array<Piece<E>>, at: number, from: number, to: number, out: Map<unknown, Piece<E>>): void {
  for (const piece of pieces) {
    const end = at + piece.size;
    if (end > from && at < to) {
      if (piece.children !== undefined) runsWithin(piece.children, at, from, to, out);
      else if (at >= from && end <= to && !piece.spoiled) out.set(piece.items[0], piece);
    }
    at = end;
  }
}

/** The one splice that makes `items` from `last`: what they share at the start and at the end is kept. */
export function spliceBetween(last: readonly unknown[], items: readonly unknown[]): ListEdit {
  const shorter = Math.min(last.length, items.length);
  let head = 0;
  while (head < shorter && last[head] === items[head]) head++;
  let tail = 0;
  while (tail < shorter - head && last[last.length - 1 - tail] === items[items.length - 1 - tail]) tail++;
  return { at: head, removed: last.length - head - tail, inserted: items.length - head - tail };
}

/**
 * V8 keeps a `+`-built string as a rope, and flattening a rope leaves the ropes inside it: a run's output is
 * flattened once (reading a character does it), not walked again by every later render's conversion to bytes.
 */
function flatten(output: string): void {
  output.charCodeAt(0);
}

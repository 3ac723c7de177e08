// Over 300 lines: one state machine (loop sites, runs, entries and the reads that invalidate them) whose invariants span its methods.
/**
 * Incremental rendering: a `{{#each}}` iteration is reused while its item, what it read, the position it read
 * (if any) and what it sees of the loop's surroundings (loop-env.ts) are unchanged; loops inside it are memoized
 * in it the same way. Sound because templates read only through the helpers and the environment is fixed.
 */
import type { KeyIndex } from "../mirror/key-index.js";
import { editSince, movedTo, versionOf, type ListEdit } from "../mirror/list-edits.js";
import { ancestors, Dep, type ReadTracker, type Versions } from "../mirror/versions.js";
import { placeBits, Position, samePlace, type PositionPart } from "./iteration-frame.js";
import { captureEnv, sameEnv, type LoopCaller, type LoopEnv } from "./loop-env.js";
import { distinctReads, ReadIndex, type Reads } from "./memo-reads.js";
import type { TextPart } from "../render/rendered-text.js";
import { LoopMarks } from "./loop-marks.js";
import { closeRun, heightFor, intoBlocks, joinShortRuns, metIn, newRun, RUN, runsBelow, runsWithin, samePlaces, spliceBetween, spoil, type Piece } from "./memo-runs.js";

/** The loops met in one scope (the whole render, or one iteration), by "<line>:<column>#<visit>". */
class Scope {
  readonly sites = new Map<string, LoopSite>();
  /** How often each loop was entered in this scope's last render: a loop in a partial used twice is two loops. */
  visits = new Map<string, number>();
  visited = new Set<LoopSite>();

  reset(): void {
    this.visits = new Map();
    this.visited = new Set();
  }
}

/** One iteration's output in the last render, and what it depended on. */
interface Entry {
  /**
   * Its text while it is in no run; in one (`chunk`), that run's output from `start` to `end`: a loop's text is kept
   * once, by its runs.
   */
  output: string | undefined;
  start: number;
  end: number;
  stale: boolean;
  /** The render that last used it on its own (see seenNow): entries a render did not use are dropped at the end of their scope. */
  seen: number;
  /** The run it was last remembered in: a piece reused whole marks its entries used by its own `met`. */
  chunk: Run | undefined;
  /** Every read, its nested loops' included, each once: registered in RenderMemo.readers. */
  reads: Reads;
  /** Its index in the list, and what it read of its position (PlaceBit): what a reuse compares of its Position. */
  index: number;
  place: number;
  /** The site's env epoch it was rendered in: one no longer listed may outlive several. */
  epoch: number;
  /** Positions of the iterations around it that it read, as "<levels up> <part>": reused, it reads them again. */
  outerReads: Set<string> | undefined;
  /** The loops inside it, if any. */
  scope: Scope | undefined;
}

type Run = Piece<Entry>;

/** One entry into a loop. Items are looked up by themselves (a cached listing's names and pairs keep their identity). */
export class LoopSite {
  /** Strings, numbers, booleans. */
  readonly byValue = new Map<string | number | boolean, Entry>();
  /** Frozen objects (the mirror's pairs), by identity. */
  readonly byObject = new Map<object, Entry>();
  /** Other plain data (json's objects), by their JSON text. */
  readonly byJson = new Map<string, Entry>();
  /** Entries used in the current render. */
  used = 0;
  /** What the iterations saw of the loop's surroundings in the last render. */
  env: LoopEnv | undefined;
  /** Counts the renders whose env differed from the one before: only entries of the current epoch are reused. */
  epoch = 0;
  /** The last render's output as a tree of runs (memo-runs.ts): the pieces at its top, in order. */
  pieces: Run[] = [];
  /**
   * The list the last loop went over, and its version then: the mirror patches its listings and glob results in
   * place, and the splices since that version say where each piece went.
   */
  lastItems: readonly unknown[] | undefined;
  lastVersion = 0;

  get size(): number {
    return this.byValue.size + this.byObject.size + this.byJson.size;
  }

  maps(): Array<Map<unknown, Entry>> {
    return [this.byValue, this.byObject, this.byJson] as Array<Map<unknown, Entry>>;
  }
}

/** Plain frames (position undefined) keep none: no entry is made of them. */
function addOuterRead(frame: Frame, read: string): void {
  if (frame.position === undefined) return;
  (frame.outerReads ??= new Set()).add(read);
}

/** What a render is inside: the whole template (reads not kept) or an iteration. */
interface Frame {
  /** Made when a loop is first entered in it. */
  scope: Scope | undefined;
  /** undefined: outside every iteration, where reads decide nothing. */
  reads: Reads | undefined;
  /** Inside an iteration that is not remembered, loops render plainly. */
  plain: boolean;
  /** The iteration's position, and those of iterations around it that it read (see Entry.outerReads). */
  position?: Position;
  outerReads?: Set<string>;
}

export class RenderMemo implements ReadTracker {
  private readonly root = new Scope();
  /** Which entries read each path: a change marks only those stale. */
  private readonly readers = new ReadIndex<Entry>();
  private frames: Frame[] = [];
  private generation = 0;
  /** Loops at the template's top level, marked in its output: the render comes out as pieces (piecesOf). */
  private readonly marks = new LoopMarks();
  /** The parent contexts and partials of the template code running now (set around every program, see compile.ts). */
  callerDepths: unknown;
  callerPartials: unknown;
  /**
   * Iterations reused and rendered in the last render, how many of them were looked at one by one (those in a piece
   * reused whole are not), the pieces reused whole and opened, and how many items were compared with the last list's
   * or a run's: for tests and debug logs.
   */
  stats = { reused: 0, rendered: 0, visited: 0, runs: 0, opened: 0, compared: 0 };

  /** Every position's onRead: one function, not one per iteration. */
  private readonly onPositionRead = (position: Position, part: PositionPart) => this.positionRead(position, part);

  constructor(readonly view: KeyIndex) {
    const versions: Versions = view.trackVersions();
    versions.listeners.push((key, structural) => this.invalidate(key, structural));
  }

  begin(): void {
    this.generation++;
    this.root.reset();
    this.frames = [{ scope: this.root, reads: undefined, plain: false }];
    this.marks.begin();
    this.stats = { reused: 0, rendered: 0, visited: 0, runs: 0, opened: 0, compared: 0 };
    this.view.tracker = this;
  }

  /**
   * The render's output as parts, its top-level loops' pieces in their places; the output itself when it has no such
   * loop; undefined when their marks did not come through as made (then render again without the memo).
   */
  piecesOf(output: string): string | TextPart[] | undefined {
    return this.marks.piecesOf(output);
  }

  /** `complete`: the render succeeded; a failed one keeps nothing (the next renders afresh). */
  end(complete: boolean): void {
    this.view.tracker = undefined;
    this.frames = [];
    if (complete) this.prune(this.root);
    else this.forget();
  }

  record(kind: Dep, path: string): void {
    this.frames[this.frames.length - 1]?.reads?.push(kind, path);
  }

  /** Inside an iteration that is not remembered: loops there render as Handlebars' own each. */
  get plain(): boolean {
    return this.frames[this.frames.length - 1]?.plain ?? true;
  }

  /** This entry into the loop at `location`, with what its iterations see of their surroundings. */
  enter(location: string, caller: LoopCaller): LoopSite {
    const frame = this.frame();
    const scope = (frame.scope ??= new Scope());
    const n = (scope.visits.get(location) ?? 0) + 1;
    scope.visits.set(location, n);
    const id = `${location}#${n}`;
    let site = scope.sites.get(id);
    if (site === undefined) scope.sites.set(id, (site = new LoopSite()));
    scope.visited.add(site);
    site.used = 0;
    const env = captureEnv(caller);
    if (site.env === undefined || !sameEnv(site.env, env)) site.epoch++;
    site.env = env;
    return site;
  }

  /**
   * The loop's output: the last render's pieces (memo-runs.ts) reused whole where the edit that made this list from
   * the last one left them, the pieces on the edit's path opened down to their iterations, reused or rendered one by
   * one; then blocks are made anew above what was opened.
   */
  loop(site: LoopSite, items: readonly unknown[], render: (i: number, position: Position) => string): string {
    const count = items.length;
    const edit = this.editOf(site, items);
    const [removedEnd, insertedEnd] = [edit.at + edit.removed, edit.at + edit.inserted];
    // Runs the edit removed whole, by their first item: where it only moved them, the inserted items find them.
    const spare = new Map<unknown, Run>();
    if (edit.inserted > 0 && edit.removed > 0) runsWithin(site.pieces, 0, edit.at, removedEnd, spare);
    const pieces: Run[] = [];
    let i = 0;
    // The run of iterations being rendered: made at its first, so that reusing every piece allocates none.
    let run: Run | undefined;
    let inserted = false;
    const close = () => {
      if (run === undefined) return;
      closeRun(run);
      pieces.push(run);
      run = undefined;
    };
    const reuse = (piece: Run) => {
      close();
      this.reusePiece(site, piece);
      pieces.push(piece);
      i += piece.size;
    };
    const iterate = () => {
      const { output, entry } = this.iteration(site, items[i], i, count, render);
      run ??= newRun(this.generation, site.epoch, i, count);
      run.items.push(items[i]);
      if (entry === undefined) run.spoiled = true;
      else {
        // Its text until the run is closed, then where it is in the run's.
        entry.start = run.output.length;
        entry.end = entry.start + output.length;
        run.entries.push(entry);
      }
      run.output += output;
      i++;
      if (++run.size === RUN) close();
    };
    const insert = () => {
      if (inserted) return;
      inserted = true;
      while (i < insertedEnd) {
        const found = spare.get(items[i]);
        if (found !== undefined && this.sameItems(found, items, i, insertedEnd) && this.reusable(site, found, i, count)) reuse(found);
        else iterate();
      }
    };
    const visit = (piece: Run, at: number) => {
      if (at >= removedEnd) insert();
      const to = movedTo(edit, at, piece.size);
      if (to >= 0 && this.reusable(site, piece, to, count)) return reuse(piece);
      this.stats.opened++;
      // Opened, it is in no block: one kept by an entry of a removed item would keep the old block's text.
      piece.parent = undefined;
      if (piece.children !== undefined) {
        for (const child of piece.children) {
          visit(child, at);
          at += child.size;
        }
        return;
      }
      for (let j = at; j < at + piece.size; j++) {
        if (j >= edit.at) insert();
        if (j < edit.at || j >= removedEnd) iterate();
      }
    };
    let at = 0;
    for (const piece of site.pieces) {
      visit(piece, at);
      at += piece.size;
    }
    insert();
    close();
    site.lastItems = items;
    site.lastVersion = versionOf(items);
    site.pieces = intoBlocks(joinShortRuns(pieces, this.generation, count), heightFor(count), this.generation, site.epoch, count);
    // At the top level the loop's pieces go to the writer as they are (piecesOf).
    if (this.frames.length === 1) return this.marks.mark(site.pieces);
    // A fresh rope over the top pieces: flattening it leaves their texts as they are.
    let out = "";
    for (const piece of site.pieces) out += piece.output;
    return out;
  }

  /**
   * The splice that made this list from the site's last one: recorded by the mirror when it patched the list, or
   * found by comparing the two while the last one is as it was then; else the list is taken as new.
   */
  private editOf(site: LoopSite, items: readonly unknown[]): ListEdit {
    const last = site.lastItems;
    if (last === undefined) return { at: 0, removed: 0, inserted: items.length };
    const asNew = () => ({ at: 0, removed: site.pieces.reduce((sum, piece) => sum + piece.size, 0), inserted: items.length });
    if (items === last) return editSince(items, site.lastVersion) ?? asNew();
    if (versionOf(last) !== site.lastVersion) return asNew();
    const edit = spliceBetween(last, items);
    this.stats.compared += last.length - edit.removed;
    return edit;
  }

  /** A piece is reused where none of its entries is stale or used yet, and none at a position it read anew. */
  private reusable(site: LoopSite, piece: Run, start: number, count: number): boolean {
    return !piece.spoiled && piece.epoch === site.epoch && piece.met !== this.generation && samePlaces(piece, start, count);
  }

  /** A run the edit removed holds the items at `start` (before `end`) in the new list. */
  private sameItems(run: Run, items: readonly unknown[], start: number, end: number): boolean {
    if (start + run.size > end) return false;
    this.stats.compared += run.size;
    for (let j = 0; j < run.size; j++) if (items[start + j] !== run.items[j]) return false;
    return true;
  }

  /** Used in this render: on its own, or in a piece reused whole. */
  private seenNow(entry: Entry): boolean {
    return entry.seen === this.generation || metIn(entry.chunk, this.generation);
  }

  /** One iteration, reused or rendered and remembered; an item that cannot be keyed or comes twice has no entry. */
  private iteration(site: LoopSite, item: unknown, index: number, count: number, render: (i: number, position: Position) => string): { output: string; entry?: Entry } {
    this.stats.visited++;
    const slot = slotOf(site, item);
    if (slot === undefined) return { output: this.plainIteration(new Position(index, count), render) };
    const [map, key] = slot;
    let entry = map.get(key);
    // The same item twice in one list: the second renders plainly; the entry stays the first one's.
    if (entry !== undefined && this.seenNow(entry)) return { output: this.plainIteration(new Position(index, count), render) };
    // Used apart from its run: that run no longer holds what it held.
    spoil(entry?.chunk);
    if (entry !== undefined && entry.epoch === site.epoch && !entry.stale && samePlace(entry.index, entry.place, index, count)) {
      this.reuse(site, entry);
      entry.output ??= (entry.chunk as Run).output.slice(entry.start, entry.end);
      return { output: entry.output, entry };
    }
    const position = new Position(index, count);
    position.onRead = this.onPositionRead;
    const frame: Frame = { scope: entry?.scope, reads: [], plain: false, position, outerReads: undefined };
    const { output, reads: allReads } = this.tracked(frame, () => render(position.index, position));
    const { scope, outerReads } = frame;
    const [reads, place] = [distinctReads(allReads), placeBits(position)];
    if (entry === undefined) {
      entry = { output, start: 0, end: 0, stale: false, seen: this.generation, chunk: undefined, reads, index, place, scope, epoch: site.epoch, outerReads };
      map.set(key, entry);
    } else {
      this.unregister(entry, false);
      Object.assign(entry, { output, stale: false, seen: this.generation, reads, index, place, scope, epoch: site.epoch, outerReads });
    }
    this.readers.add(entry);
    site.used++;
    this.stats.rendered++;
    return { output, entry };
  }

  /** reuse() for a piece, without a call per entry at the top level (a 100,000-item loop reuses them all): its `met` marks them used. */
  private reusePiece(site: LoopSite, piece: Run): void {
    piece.met = this.generation;
    this.stats.runs++;
    if (this.frames.length > 1) {
      this.reuseEntries(site, piece);
      return;
    }
    site.used += piece.held;
    this.stats.reused += piece.held;
  }

  private reuseEntries(site: LoopSite, piece: Run): void {
    if (piece.children === undefined) for (const entry of piece.entries) this.reuse(site, entry);
    else for (const child of piece.children) this.reuseEntries(site, child);
  }

  private reuse(site: LoopSite, entry: Entry): void {
    entry.seen = this.generation;
    site.used++;
    this.stats.reused++;
    if (this.frames.length > 1) this.readAgain(entry);
  }

  /** A reused iteration inside one being rendered: that one depends on what this one read. */
  private readAgain(entry: Entry): void {
    const reads = this.frame().reads;
    if (reads !== undefined) for (const read of entry.reads) reads.push(read);
    if (entry.outerReads === undefined) return;
    // It would sit one level below the top frame: its reads of positions around it count again.
    const level = this.frames.length;
    for (const read of entry.outerReads) {
      const space = read.indexOf(" ");
      this.markPosition(level - Number(read.slice(0, space)), read.slice(space + 1) as PositionPart);
    }
  }

  /** A position getter fired: the iterations being rendered inside the one it belongs to read it. */
  private positionRead(position: Position, part: PositionPart): void {
    for (let level = this.frames.length - 1; level > 0; level--) {
      if (this.frames[level]?.position !== position) continue;
      for (let inner = level + 1; inner < this.frames.length; inner++) addOuterRead(this.frames[inner] as Frame, `${inner - level} ${part}`);
      return;
    }
  }

  /** The iteration rendered at `level` read its `part`, and so did those inside it being rendered. */
  private markPosition(level: number, part: PositionPart): void {
    const position = this.frames[level]?.position;
    if (position === undefined) return;
    if (part === "index") position.readIndex = true;
    else if (part === "first") position.readFirst = true;
    else position.readLast = true;
    for (let inner = level + 1; inner < this.frames.length; inner++) addOuterRead(this.frames[inner] as Frame, `${inner - level} ${part}`);
  }

  /** Renders in a frame of its own and returns what it read; its scope then keeps only the loops it entered. */
  private tracked(frame: Frame, render: () => string): { output: string; reads: Reads } {
    frame.scope?.reset();
    this.frames.push(frame);
    let output: string;
    try {
      output = render();
    } finally {
      // On an error the render is abandoned; end(false) drops everything it remembered.
      this.frames.pop();
    }
    if (frame.scope !== undefined) this.prune(frame.scope);
    const reads = frame.reads ?? [];
    const outer = this.frame().reads;
    if (outer !== undefined) for (const read of reads) outer.push(read);
    return { output, reads };
  }

  /** An iteration that is not remembered: what it read counts for the iteration around it. */
  private plainIteration(position: Position, render: (i: number, position: Position) => string): string {
    return this.tracked({ scope: undefined, reads: [], plain: true }, () => render(position.index, position)).output;
  }

  private frame(): Frame {
    return this.frames[this.frames.length - 1] as Frame;
  }

  /** Keep only what the scope's last render used: a loop not entered, an item no longer listed, goes. */
  private prune(scope: Scope): void {
    for (const [id, site] of scope.sites) {
      if (!scope.visited.has(site)) {
        scope.sites.delete(id);
        for (const map of site.maps()) for (const entry of map.values()) this.unregister(entry, true);
        continue;
      }
      // Entries of items no longer listed stay, still registered (a change still makes them stale), until
      // they are many: dropping them at every render would scan every entry of a 100,000-item loop.
      if (site.size - site.used <= Math.max(RUN, site.used >> 3)) continue;
      for (const map of site.maps()) {
        for (const [item, entry] of map) {
          if (!this.seenNow(entry)) {
            map.delete(item);
            this.unregister(entry, true);
          }
        }
      }
    }
  }

  /** A key changed: the iterations that read it, or listed or globbed a directory above it, are stale. */
  private invalidate(key: string, structural: boolean): void {
    this.markStale(Dep.Key, key);
    for (const dir of ancestors(key)) {
      this.markStale(Dep.Deep, dir);
      if (structural) this.markStale(Dep.Children, dir);
    }
  }

  private markStale(kind: Dep, path: string): void {
    for (const entry of this.readers.take(kind, path)) {
      entry.stale = true;
      spoil(entry.chunk);
    }
  }

  /** `nested`: the loops inside it go too (the entry is dropped, not re-rendered). */
  private unregister(entry: Entry, nested: boolean): void {
    this.readers.remove(entry);
    if (!nested || entry.scope === undefined) return;
    for (const site of entry.scope.sites.values()) for (const map of site.maps()) for (const inner of map.values()) this.unregister(inner, true);
  }

  /** The iterations it remembers, nested ones included, the paths their reads register and the runs that hold their text: for tests of what it keeps. */
  held(): { entries: number; paths: number; runs: number } {
    return { entries: entriesIn(this.root), paths: this.readers.size, runs: runsIn(this.root) };
  }

  private forget(): void {
    this.root.sites.clear();
    this.readers.clear();
  }
}

function entriesIn(scope: Scope): number {
  let count = 0;
  for (const site of scope.sites.values()) for (const map of site.maps()) for (const entry of map.values()) count += 1 + (entry.scope === undefined ? 0 : entriesIn(entry.scope));
  return count;
}

function runsIn(scope: Scope): number {
  let count = 0;
  for (const site of scope.sites.values()) {
    count += runsBelow(site.pieces);
    for (const map of site.maps()) for (const entry of map.values()) if (entry.scope !== undefined) count += runsIn(entry.scope);
  }
  return count;
}

/** The map an item's entry is kept in, and its key there; undefined for an item that cannot be keyed. */
function slotOf(site: LoopSite, item: unknown): [Map<unknown, Entry>, unknown] | undefined {
  if (typeof item === "string" || typeof item === "number" || typeof item === "boolean") return [site.byValue as Map<unknown, Entry>, item];
  if (typeof item !== "object" || item === null) return undefined;
  if (Object.isFrozen(item)) return [site.byObject as Map<unknown, Entry>, item];
  return isJsonData(item, 0) ? [site.byJson as Map<unknown, Entry>, JSON.stringify(item)] : undefined;
}

/** Data JSON text says all of (no functions, undefined or non-finite numbers): equal text, equal rendering. */
function isJsonData(value: unknown, depth: number): boolean {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (typeof value !== "object" || depth > 64) return false;
  if (Array.isArray(value)) return value.every((v) => isJsonData(v, depth + 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(value).every((v) => isJsonData(v, depth + 1));
}

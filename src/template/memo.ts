// Over 300 lines: one state machine (loop sites, runs, entries and the reads that invalidate them) whose invariants span its methods.
/**
 * Incremental rendering: a `{{#each}}` iteration is reused while its item, what it read, the position it read
 * (if any) and what it sees of the loop's surroundings (loop-env.ts) are unchanged; loops inside it are memoized
 * in it the same way. Sound because templates read only through the helpers and the environment is fixed.
 */
import type { KeyIndex } from "../mirror/key-index.js";
import { editFrom, movedTo, type ListEdit } from "../mirror/list-edits.js";
import { ancestors, Dep, type ReadTracker, type Versions } from "../mirror/versions.js";
import { PlaceBit, placeBits, Position, samePlace, type PositionPart } from "./iteration-frame.js";
import { captureEnv, sameEnv, type LoopCaller, type LoopEnv } from "./loop-env.js";
import { distinctReads, ReadIndex, type Reads } from "./memo-reads.js";

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
   * Its text while it is in no remembered run; in one (`chunk`), that run's output from `start` to `end`: a loop's
   * text is kept once, by its runs.
   */
  output: string | undefined;
  start: number;
  end: number;
  stale: boolean;
  /** The render that last used it on its own (see seenIn): entries a render did not use are dropped at the end of their scope. */
  seen: number;
  /** The run it was last remembered in: a run reused whole marks its entries used by its own `met`. */
  chunk: Chunk | undefined;
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
  /** The last render's output in runs of up to CHUNK iterations, by the run's first item. */
  chunks = new Map<unknown, Chunk>();
  /**
   * The list the last loop went over: lists are never changed once handed out (the mirror's listings and glob
   * results), so where the same list comes again, a run at the place it was holds the same items.
   */
  lastItems: readonly unknown[] | undefined;

  get size(): number {
    return this.byValue.size + this.byObject.size + this.byJson.size;
  }

  maps(): Array<Map<unknown, Entry>> {
    return [this.byValue, this.byObject, this.byJson] as Array<Map<unknown, Entry>>;
  }
}

/**
 * Iterations per run, at least: where the list goes on as last time (the mirror keeps unchanged pairs and listings
 * the same objects), a run of unchanged iterations is one flat string found by one lookup, so a render
 * looks up and joins N/32 pieces, not N.
 */
const CHUNK = 32;

/**
 * Iterations per run in a list of `count`: √count above CHUNK², so that a change costs as many runs looked up as
 * iterations looked at in the run it touched, O(√count) each, not N/32 lookups.
 */
function runLength(count: number): number {
  return count <= CHUNK * CHUNK ? CHUNK : Math.ceil(Math.sqrt(count));
}

/** The same list: every run is where it was. */
const NO_EDIT: ListEdit = { at: 0, removed: 0, inserted: 0 };

/** Consecutive iterations' joined (flat) output, their items and their entries. */
interface Chunk {
  items: unknown[];
  output: string;
  entries: Entry[];
  /**
   * Which of its iterations' positions can tell where it is: @index read by any, @first by its first, @last by its
   * last (no other iteration in it can be first or last, here or anywhere it is reused). Set when it is remembered.
   */
  readsIndex: boolean;
  readsFirst: boolean;
  readsLast: boolean;
  /** The render that last used it. */
  met: number;
  /**
   * One of its entries went stale or was used apart from it: never reused whole again. Kept per run so that
   * reusing one looks at its items, not at each entry's fields (at 100,000 items those reads are most of a render).
   */
  spoiled: boolean;
  /** The site's env epoch its entries were rendered or reused in. */
  epoch: number;
  /** Where it started in its list, and the list's length: at the same place, no entry's position can differ. */
  start: number;
  count: number;
  /** Where it was in the site's last list (LoopSite.lastItems). */
  at: number;
}

/** Plain frames (position undefined) keep none: no entry is made of them. */
function addOuterRead(frame: Frame, read: string): void {
  if (frame.position === undefined) return;
  (frame.outerReads ??= new Set()).add(read);
}

function newRun(generation: number, epoch: number, start: number, count: number): Chunk & { remembered: boolean } {
  return { items: [], output: "", entries: [], readsIndex: false, readsFirst: false, readsLast: false, met: generation, spoiled: false, epoch, start, count, at: start, remembered: true };
}

/** A run's position reads (see Chunk.readsIndex), from its entries'. */
function notePositionReads(run: Chunk): void {
  const reads = (entry: Entry | undefined, bit: number) => entry !== undefined && (entry.place & bit) !== 0;
  run.readsIndex = run.entries.some((entry) => reads(entry, PlaceBit.ReadIndex));
  run.readsFirst = reads(run.entries[0], PlaceBit.ReadFirst);
  run.readsLast = reads(run.entries[run.entries.length - 1], PlaceBit.ReadLast);
}

/** Whether a run remembered at its start and list length reads the same positions at `start` in a list of `count`. */
function samePlaces(chunk: Chunk, start: number, count: number): boolean {
  if (chunk.readsIndex && chunk.start !== start) return false;
  if (chunk.readsFirst && (chunk.start === 0) !== (start === 0)) return false;
  const length = chunk.items.length;
  return !(chunk.readsLast && (chunk.start + length === chunk.count) !== (start + length === count));
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
  /** The parent contexts and partials of the template code running now (set around every program, see compile.ts). */
  callerDepths: unknown;
  callerPartials: unknown;
  /**
   * Iterations reused and rendered in the last render, how many of them were looked at one by one (a run reused
   * whole is not), the runs reused whole, and how many items were compared with a run's: for tests and debug logs.
   */
  stats = { reused: 0, rendered: 0, visited: 0, runs: 0, compared: 0 };

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
    this.stats = { reused: 0, rendered: 0, visited: 0, runs: 0, compared: 0 };
    this.view.tracker = this;
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

  /** The loop's output: runs of iterations reused whole where the list goes on as it did, the rest item by item. */
  loop(site: LoopSite, items: readonly unknown[], render: (i: number, position: Position) => string): string {
    // Kept in place (a new map each render would rehash thousands of runs); runs not met go at the end.
    const chunks = site.chunks;
    let met = 0;
    const count = items.length;
    const length = runLength(count);
    const fromLast = items === site.lastItems ? NO_EDIT : editFrom(items, site.lastItems);
    let out = "";
    // The run of iterations being rendered: made at its first, so that reusing every run allocates none.
    let run: (Chunk & { remembered: boolean }) | undefined;
    const close = () => {
      if (run === undefined) return;
      flatten(run.output);
      if (run.remembered && chunks.get(run.items[0])?.met !== this.generation) {
        chunks.set(run.items[0], run);
        for (const entry of run.entries) {
          entry.chunk = run;
          entry.output = undefined;
        }
        notePositionReads(run);
        met++;
      }
      out += run.output;
      run = undefined;
    };
    for (let i = 0; i < count; ) {
      const chunk = chunks.get(items[i]);
      if (chunk !== undefined && chunk.met !== this.generation && this.reusable(site, chunk, items, i, fromLast)) {
        close();
        this.reuseRun(site, chunk);
        chunk.at = i;
        met++;
        out += chunk.output;
        i += chunk.items.length;
        continue;
      }
      const { output, entry } = this.iteration(site, items[i], i, count, render);
      run ??= newRun(this.generation, site.epoch, i, count);
      run.items.push(items[i]);
      if (entry === undefined) run.remembered = false;
      else {
        // Its text until the run is remembered (close), then where it is in the run's.
        entry.start = run.output.length;
        entry.end = entry.start + output.length;
        run.entries.push(entry);
      }
      run.output += output;
      i++;
      if (run.items.length === length) close();
    }
    close();
    site.lastItems = items;
    if (met < chunks.size) for (const [first, chunk] of chunks) if (chunk.met !== this.generation) chunks.delete(first);
    return out;
  }

  /** A run is reused where the list holds the same items, none stale, none used yet, none at a position it read anew. */
  private reusable(site: LoopSite, chunk: Chunk, items: readonly unknown[], start: number, fromLast: ListEdit | undefined): boolean {
    if (chunk.spoiled || chunk.epoch !== site.epoch || start + chunk.items.length > items.length) return false;
    // Every run in the map was met in the site's last loop, at `at` in its list: `fromLast` made this list from that one.
    if (fromLast !== undefined && movedTo(fromLast, chunk.at, chunk.items.length) === start) return samePlaces(chunk, start, items.length);
    this.stats.compared += chunk.items.length;
    for (let j = 0; j < chunk.items.length; j++) if (items[start + j] !== chunk.items[j]) return false;
    return samePlaces(chunk, start, items.length);
  }

  /** Used in this render: on its own, or in a run reused whole. */
  private seenNow(entry: Entry): boolean {
    return entry.seen === this.generation || entry.chunk?.met === this.generation;
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
    if (entry?.chunk !== undefined) entry.chunk.spoiled = true;
    if (entry !== undefined && entry.epoch === site.epoch && !entry.stale && samePlace(entry.index, entry.place, index, count)) {
      this.reuse(site, entry);
      entry.output ??= (entry.chunk as Chunk).output.slice(entry.start, entry.end);
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

  /** reuse() for a run, without a call per entry at the top level (a 100,000-item loop reuses them all): its `met` marks them used. */
  private reuseRun(site: LoopSite, chunk: Chunk): void {
    chunk.met = this.generation;
    this.stats.runs++;
    if (this.frames.length > 1) {
      for (const entry of chunk.entries) this.reuse(site, entry);
      return;
    }
    site.used += chunk.entries.length;
    this.stats.reused += chunk.entries.length;
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
      if (site.size - site.used <= Math.max(CHUNK, site.used >> 3)) continue;
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
      if (entry.chunk !== undefined) entry.chunk.spoiled = true;
    }
  }

  /** `nested`: the loops inside it go too (the entry is dropped, not re-rendered). */
  private unregister(entry: Entry, nested: boolean): void {
    this.readers.remove(entry);
    if (!nested || entry.scope === undefined) return;
    for (const site of entry.scope.sites.values()) for (const map of site.maps()) for (const inner of map.values()) this.unregister(inner, true);
  }

  /** The iterations it remembers, nested ones included, and the paths their reads register: for tests of what it keeps. */
  held(): { entries: number; paths: number } {
    return { entries: entriesIn(this.root), paths: this.readers.size };
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

/**
 * V8 keeps a `+`-built string as a rope, and flattening a rope leaves the ropes inside it: a run's output is
 * flattened once (reading a character does it), not walked again by every later render's conversion to bytes.
 */
function flatten(output: string): void {
  output.charCodeAt(0);
}

/**
 * Incremental rendering: a `{{#each}}` iteration is reused while its item, what it read, the position it read
 * (if any) and what it sees of the loop's surroundings (loop-env.ts) are unchanged; loops inside it are memoized
 * in it the same way. Sound because templates read only through the helpers and the environment is fixed.
 */
import type { KeyIndex } from "../mirror/key-index.js";
import { ancestors, Dep, type ReadTracker, type Versions } from "../mirror/versions.js";
import { Position } from "./iteration-frame.js";
import { captureEnv, sameEnv, type LoopCaller, type LoopEnv } from "./loop-env.js";

/** Reads as "<kind><path>". */
type Reads = string[];

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
  output: string;
  stale: boolean;
  /** The render that last used it: entries a render did not use are dropped at the end of their scope. */
  seen: number;
  /** "<kind><path>" of every read, its nested loops' included: registered in RenderMemo.readers. */
  paths: string[];
  /** Its place in the list, and which of index/first/last it read. */
  position: Position;
  /** The loops inside it. */
  scope: Scope;
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
  /** Whether that equals this render's: if not, no iteration is reused. */
  sameEnv = false;
  /** The list the loop went over in the last render, and its output in runs of CHUNK iterations. */
  items: readonly unknown[] | undefined;
  chunks: Array<Chunk | undefined> = [];

  get size(): number {
    return this.byValue.size + this.byObject.size + this.byJson.size;
  }

  maps(): Array<Map<unknown, Entry>> {
    return [this.byValue, this.byObject, this.byJson] as Array<Map<unknown, Entry>>;
  }
}

/**
 * Iterations per chunk: over the very same list as last time (a cached listing: no host came or went),
 * a chunk of unchanged iterations is one flat string, so a render joins N/32 pieces, not N.
 */
const CHUNK = 32;

/** CHUNK consecutive iterations' joined (flat) output, and their entries. */
interface Chunk {
  output: string;
  entries: Entry[];
}

/** What a render is inside: the whole template (reads not kept) or an iteration. */
interface Frame {
  scope: Scope;
  /** undefined: outside every iteration, where reads decide nothing. */
  reads: Reads | undefined;
  /** Inside an iteration that is not remembered, loops render plainly. */
  plain: boolean;
}

export class RenderMemo implements ReadTracker {
  private readonly root = new Scope();
  /** "<kind><path>" → the entries that read it: a change marks only those stale. */
  private readonly readers = new Map<string, Set<Entry>>();
  private frames: Frame[] = [];
  private generation = 0;
  /** The parent contexts and partials of the template code running now (set around every program, see compile.ts). */
  callerDepths: unknown;
  callerPartials: unknown;
  /** Iterations reused and rendered in the last render (for tests and debug logs). */
  stats = { reused: 0, rendered: 0 };

  constructor(readonly view: KeyIndex) {
    const versions: Versions = view.trackVersions();
    versions.listeners.push((key, structural) => this.invalidate(key, structural));
  }

  begin(): void {
    this.generation++;
    this.root.reset();
    this.frames = [{ scope: this.root, reads: undefined, plain: false }];
    this.stats = { reused: 0, rendered: 0 };
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
    this.frames[this.frames.length - 1]?.reads?.push(`${kind}${path}`);
  }

  /** Inside an iteration that is not remembered: loops there render as Handlebars' own each. */
  get plain(): boolean {
    return this.frames[this.frames.length - 1]?.plain ?? true;
  }

  /** This entry into the loop at `location`, with what its iterations see of their surroundings. */
  enter(location: string, caller: LoopCaller): LoopSite {
    const { scope } = this.frame();
    const n = (scope.visits.get(location) ?? 0) + 1;
    scope.visits.set(location, n);
    const id = `${location}#${n}`;
    let site = scope.sites.get(id);
    if (site === undefined) scope.sites.set(id, (site = new LoopSite()));
    scope.visited.add(site);
    site.used = 0;
    const env = captureEnv(caller);
    site.sameEnv = site.env !== undefined && sameEnv(site.env, env);
    site.env = env;
    return site;
  }

  /** The loop's output: each iteration reused unless it changed, whole chunks when the list is the same array. */
  loop(site: LoopSite, items: readonly unknown[], render: (i: number, position: Position) => string): string {
    // The identity check keeps a list built afresh (split's) to per-item reuse.
    const sameList = site.sameEnv && site.items === items;
    if (!sameList) site.chunks = [];
    site.items = items;
    let out = "";
    for (let c = 0, start = 0; start < items.length; c++, start += CHUNK) {
      const end = Math.min(start + CHUNK, items.length);
      const chunk = sameList ? site.chunks[c] : undefined;
      if (chunk !== undefined && chunk.entries.every((e) => !e.stale)) {
        for (const entry of chunk.entries) this.reuse(site, entry);
        out += chunk.output;
        continue;
      }
      let text = "";
      const entries: Entry[] = [];
      // A chunk with an iteration that is not remembered (see iteration) renders every time.
      let remembered = true;
      for (let i = start; i < end; i++) {
        const { output, entry } = this.iteration(site, items[i], new Position(i, items.length), render);
        text += output;
        if (entry === undefined) remembered = false;
        else entries.push(entry);
      }
      flatten(text);
      site.chunks[c] = remembered ? { output: text, entries } : undefined;
      out += text;
    }
    return out;
  }

  /** One iteration, reused or rendered and remembered; an item that cannot be keyed or comes twice has no entry. */
  private iteration(site: LoopSite, item: unknown, position: Position, render: (i: number, position: Position) => string): { output: string; entry?: Entry } {
    const slot = slotOf(site, item);
    if (slot === undefined) return { output: this.plainIteration(position, render) };
    const [map, key] = slot;
    let entry = map.get(key);
    // The same item twice in one list: the second renders plainly; the entry stays the first one's.
    if (entry !== undefined && entry.seen === this.generation) return { output: this.plainIteration(position, render) };
    if (entry !== undefined && site.sameEnv && !entry.stale && samePlace(entry.position, position)) {
      this.reuse(site, entry);
      return { output: entry.output, entry };
    }
    const scope = entry?.scope ?? new Scope();
    const { output, reads: paths } = this.tracked({ scope, reads: [], plain: false }, () => render(position.index, position));
    flatten(output);
    if (entry === undefined) {
      entry = { output, stale: false, seen: this.generation, paths, position, scope };
      map.set(key, entry);
    } else {
      this.unregister(entry, false);
      Object.assign(entry, { output, stale: false, seen: this.generation, paths, position });
    }
    this.register(entry);
    site.used++;
    this.stats.rendered++;
    return { output, entry };
  }

  private reuse(site: LoopSite, entry: Entry): void {
    entry.seen = this.generation;
    site.used++;
    this.stats.reused++;
    // The iteration around this one depends on everything this one read.
    const reads = this.frame().reads;
    if (reads !== undefined) for (const path of entry.paths) reads.push(path);
  }

  /** Renders in a frame of its own and returns what it read; its scope then keeps only the loops it entered. */
  private tracked(frame: Frame, render: () => string): { output: string; reads: Reads } {
    frame.scope.reset();
    this.frames.push(frame);
    let output: string;
    try {
      output = render();
    } finally {
      // On an error the render is abandoned; end(false) drops everything it remembered.
      this.frames.pop();
    }
    this.prune(frame.scope);
    const reads = frame.reads ?? [];
    const outer = this.frame().reads;
    if (outer !== undefined) for (const read of reads) outer.push(read);
    return { output, reads };
  }

  /** An iteration that is not remembered: what it read counts for the iteration around it. */
  private plainIteration(position: Position, render: (i: number, position: Position) => string): string {
    return this.tracked({ scope: new Scope(), reads: [], plain: true }, () => render(position.index, position)).output;
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
      if (site.used === site.size) continue;
      for (const map of site.maps()) {
        for (const [item, entry] of map) {
          if (entry.seen !== this.generation) {
            map.delete(item);
            this.unregister(entry, true);
          }
        }
      }
    }
  }

  /** A key changed: the iterations that read it, or listed or globbed a directory above it, are stale. */
  private invalidate(key: string, structural: boolean): void {
    this.markStale(`${Dep.Key}${key}`);
    for (const dir of ancestors(key)) {
      this.markStale(`${Dep.Deep}${dir}`);
      if (structural) this.markStale(`${Dep.Children}${dir}`);
    }
  }

  private markStale(path: string): void {
    const entries = this.readers.get(path);
    if (entries === undefined) return;
    for (const entry of entries) entry.stale = true;
    // Re-rendering registers the iterations' reads anew.
    this.readers.delete(path);
  }

  private register(entry: Entry): void {
    for (const path of entry.paths) {
      let entries = this.readers.get(path);
      if (entries === undefined) this.readers.set(path, (entries = new Set()));
      entries.add(entry);
    }
  }

  /** `nested`: the loops inside it go too (the entry is dropped, not re-rendered). */
  private unregister(entry: Entry, nested: boolean): void {
    for (const path of entry.paths) {
      const entries = this.readers.get(path);
      // An empty set goes too: paths of hosts long gone would otherwise stay for the process's life.
      if (entries?.delete(entry) && entries.size === 0) this.readers.delete(path);
    }
    if (!nested) return;
    for (const site of entry.scope.sites.values()) for (const map of site.maps()) for (const inner of map.values()) this.unregister(inner, true);
  }

  private forget(): void {
    this.root.sites.clear();
    this.readers.clear();
  }
}

/** Reusable at this place: the same position, or one that differs only in what the iteration did not read. */
function samePlace(was: Position, now: Position): boolean {
  if (was.readIndex && was.index !== now.index) return false;
  if (was.readFirst && was.first !== now.first) return false;
  return !(was.readLast && was.last !== now.last);
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
 * V8 keeps a `+`-built string as a rope, and flattening a rope leaves the ropes inside it: a remembered iteration is
 * flattened once (reading a character does it), not walked again by every later render's conversion to bytes.
 */
function flatten(output: string): void {
  output.charCodeAt(0);
}

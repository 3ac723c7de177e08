/**
 * Incremental rendering: an outermost `{{#each}}` iteration is reused while nothing it read, nor anything read
 * outside iterations, has changed. Sound because templates read only through the helpers and the environment is fixed.
 */
import type { KeyIndex } from "../mirror/key-index.js";
import { ancestors, Dep, type ReadTracker, type Versions } from "../mirror/versions.js";

/** Reads as flat triples (kind, path, version), cheap to record. */
type Reads = Array<Dep | string | number>;

/** One iteration's output in the last render, and the reader paths it is registered under. */
interface Entry {
  output: string;
  stale: boolean;
  /** The render that last used it: entries a render did not use are dropped at its end. */
  seen: number;
  paths: string[];
}

/**
 * One entry into an outermost loop. Items are looked up by themselves: a name from a listing keeps
 * its hash, where a key built from it would be hashed again on every lookup of every render.
 */
export class LoopSite {
  /** ls/lsdir names and other primitive items. */
  readonly byValue = new Map<string | number | boolean, Entry>();
  /** {key, value} pairs from gets, as "key\0value". */
  readonly byPair = new Map<string, Entry>();
  /** Entries used in the current render. */
  used = 0;
  /** The list the loop went over in the last render, and its output in runs of CHUNK iterations. */
  items: readonly unknown[] | undefined;
  chunks: Array<Chunk | undefined> = [];
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

export class RenderMemo implements ReadTracker {
  private readonly versions: Versions;
  /** "<line>:<column>#<visit>" → the loop's entries in the last render. */
  private sites = new Map<string, LoopSite>();
  /** "<kind><path>" → the entries that read it: a change marks only those stale. */
  private readonly readers = new Map<string, Set<Entry>>();
  /** Reads made outside iterations during the last complete render. */
  private outerReads: Reads | undefined;
  /** frames[0]: reads outside iterations; frames[1]: the iteration being rendered, if any. */
  private frames: Reads[] = [];
  private reuseAllowed = false;
  private generation = 0;
  /** How often each loop was entered in this render: a loop in a partial used twice is two loops. */
  private visits = new Map<string, number>();
  /** Sites entered in this render. */
  private visited = new Set<LoopSite>();
  /** Iterations reused and rendered in the last render (for tests and debug logs). */
  stats = { reused: 0, rendered: 0 };

  constructor(readonly view: KeyIndex) {
    this.versions = view.trackVersions();
    this.versions.listeners.push((key, structural) => this.invalidate(key, structural));
  }

  begin(): void {
    this.reuseAllowed = this.outerReads !== undefined && this.unchanged(this.outerReads);
    if (!this.reuseAllowed) this.forget();
    this.generation++;
    this.frames = [[]];
    this.visits = new Map();
    this.visited = new Set();
    this.stats = { reused: 0, rendered: 0 };
    this.view.tracker = this;
  }

  /** `complete`: the render succeeded; a failed one keeps nothing (the next renders afresh). */
  end(complete: boolean): void {
    this.view.tracker = undefined;
    this.outerReads = complete ? this.frames[0] : undefined;
    this.frames = [];
    if (!complete) {
      this.forget();
      return;
    }
    // Keep only what this render used: a site not entered, an item no longer listed, goes.
    for (const [id, site] of this.sites) {
      if (!this.visited.has(site)) {
        this.sites.delete(id);
        for (const map of [site.byValue, site.byPair]) for (const entry of map.values()) this.unregister(entry);
      } else if (site.used < site.byValue.size + site.byPair.size) {
        for (const map of [site.byValue, site.byPair]) {
          for (const [item, entry] of map as Map<unknown, Entry>) {
            if (entry.seen !== this.generation) {
              map.delete(item as never);
              this.unregister(entry);
            }
          }
        }
      }
    }
  }

  record(kind: Dep, path: string, version: number): void {
    this.frames[this.frames.length - 1]?.push(kind, path, version);
  }

  /** Inside an iteration, nested loops render plainly: their reads count for the iteration. */
  get inIteration(): boolean {
    return this.frames.length > 1;
  }

  /** This entry into the loop at `location`, the same site in every render that may reuse. */
  enter(location: string): LoopSite {
    const n = (this.visits.get(location) ?? 0) + 1;
    this.visits.set(location, n);
    const id = `${location}#${n}`;
    let site = this.sites.get(id);
    if (site === undefined) this.sites.set(id, (site = new LoopSite()));
    site.used = 0;
    this.visited.add(site);
    return site;
  }

  /** The loop's output: each iteration reused unless what it read changed, whole chunks when the list is the same array. */
  loop(site: LoopSite, items: readonly unknown[], render: (i: number) => string): string {
    // Reuse is allowed only while everything read outside the iterations, the list's inputs among
    // them, is unchanged; the identity check also keeps a list built afresh (split's) to per-item reuse.
    const sameList = this.reuseAllowed && site.items === items;
    if (!sameList) site.chunks = [];
    site.items = items;
    let out = "";
    for (let c = 0, start = 0; start < items.length; c++, start += CHUNK) {
      const end = Math.min(start + CHUNK, items.length);
      const chunk = sameList ? site.chunks[c] : undefined;
      if (chunk !== undefined && chunk.entries.every((e) => !e.stale)) {
        for (const entry of chunk.entries) entry.seen = this.generation;
        site.used += chunk.entries.length;
        this.stats.reused += chunk.entries.length;
        out += chunk.output;
        continue;
      }
      let text = "";
      const entries: Entry[] = [];
      // A chunk with an iteration that is not remembered (see iteration) renders every time.
      let remembered = true;
      for (let i = start; i < end; i++) {
        const { output, entry } = this.iteration(site, items[i], () => render(i));
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
  private iteration(site: LoopSite, item: unknown, render: () => string): { output: string; entry?: Entry } {
    let map: Map<string | number | boolean, Entry>;
    let key: string | number | boolean;
    if (typeof item === "string" || typeof item === "number" || typeof item === "boolean") {
      map = site.byValue;
      key = item;
    } else {
      const pair = pairKey(item);
      if (pair === undefined) return { output: this.plain(render) };
      map = site.byPair;
      key = pair;
    }
    let entry = map.get(key);
    // The same item twice in one list: the second renders plainly; the entry stays the first one's.
    if (entry !== undefined && entry.seen === this.generation) return { output: this.plain(render) };
    if (entry !== undefined && this.reuseAllowed && !entry.stale) {
      entry.seen = this.generation;
      site.used++;
      this.stats.reused++;
      return { output: entry.output, entry };
    }
    const { output, reads } = this.tracked(render);
    flatten(output);
    const paths: string[] = [];
    for (let i = 0; i < reads.length; i += 3) paths.push(`${reads[i] as Dep}${reads[i + 1] as string}`);
    if (entry === undefined) {
      entry = { output, stale: false, seen: this.generation, paths };
      map.set(key, entry);
    } else {
      this.unregister(entry);
      entry.output = output;
      entry.stale = false;
      entry.seen = this.generation;
      entry.paths = paths;
    }
    for (const path of paths) {
      let entries = this.readers.get(path);
      if (entries === undefined) this.readers.set(path, (entries = new Set()));
      entries.add(entry);
    }
    site.used++;
    this.stats.rendered++;
    return { output, entry };
  }

  /** Renders in a frame of its own (so nested loops render plainly) and returns what it read. */
  private tracked(render: () => string): { output: string; reads: Reads } {
    this.frames.push([]);
    try {
      const output = render();
      return { output, reads: this.frames.pop() as Reads };
    } catch (err) {
      // The render is abandoned; end(false) drops everything it remembered.
      this.frames.pop();
      throw err;
    }
  }

  /** An iteration that is not remembered: what it read counts as read outside iterations. */
  private plain(render: () => string): string {
    const { output, reads } = this.tracked(render);
    const outer = this.frames[0];
    if (outer !== undefined) for (const read of reads) outer.push(read);
    return output;
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

  private unregister(entry: Entry): void {
    for (const path of entry.paths) {
      const entries = this.readers.get(path);
      // An empty set goes too: paths of hosts long gone would otherwise stay for the process's life.
      if (entries?.delete(entry) && entries.size === 0) this.readers.delete(path);
    }
  }

  private forget(): void {
    this.sites.clear();
    this.readers.clear();
  }

  private unchanged(reads: Reads): boolean {
    for (let i = 0; i < reads.length; i += 3) {
      if (this.versions.version(reads[i] as Dep, reads[i + 1] as string) !== reads[i + 2]) return false;
    }
    return true;
  }
}

/**
 * V8 keeps a `+`-built string as a rope, and flattening a rope leaves the ropes inside it: a remembered iteration is
 * flattened once (reading a character does it), not walked again by every later render's conversion to bytes.
 */
function flatten(output: string): void {
  output.charCodeAt(0);
}

/** A {key, value} pair from gets as a map key; undefined for anything else (it cannot be keyed). */
function pairKey(item: unknown): string | undefined {
  if (typeof item === "object" && item !== null && "key" in item && "value" in item) {
    const { key, value } = item as { key: unknown; value: unknown };
    if (typeof key === "string" && typeof value === "string") return `${key}\0${value}`;
  }
  return undefined;
}

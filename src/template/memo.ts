/**
 * Incremental rendering. A resource's RenderMemo remembers, for each iteration of each outermost
 * `{{#each}}` over a list, the output and every read the iteration made (keys, directory
 * listings, globs — with their change versions). The next render reuses an iteration whose reads
 * are all unchanged, so a change to one node of a 5,000-node mesh renders one iteration, not
 * 5,000. Reuse is allowed only while everything the template read outside iterations is
 * unchanged too (that is what the iterations' surroundings — `let` variables, block params —
 * derive from); otherwise the whole template renders afresh. The list itself is computed outside
 * the iteration, so an item cannot change position (@index, @first, @last) while reuse is allowed.
 * The output is always what a full render would give; test/unit/memo.test.ts checks exactly that
 * over random changes. Templates must read the store through the helpers (they do: the view is
 * all they are given) and the environment must not change between renders (it is fixed per
 * process).
 */
import type { KeyIndex } from "../mirror/key-index.js";
import { ancestors, Dep, type ReadTracker, type Versions } from "../mirror/versions.js";

/** Reads as flat triples (kind, path, version), cheap to record. */
type Reads = Array<Dep | string | number>;

export class RenderMemo implements ReadTracker {
  private readonly versions: Versions;
  /** Iteration id → its output in the last render. */
  private entries = new Map<string, string>();
  private next = new Map<string, string>();
  /** "<kind><path>" → ids of the iterations that read it: a change marks only those stale. */
  private readers = new Map<string, Set<string>>();
  private readonly stale = new Set<string>();
  /** Reads made outside iterations during the last complete render. */
  private outerReads: Reads | undefined;
  /** frames[0]: reads outside iterations; frames[1]: the iteration being rendered, if any. */
  private frames: Reads[] = [];
  private reuseAllowed = false;
  /** How often each loop was entered in this render: a loop in a partial used twice is two loops. */
  private visits = new Map<string, number>();
  /** Iterations reused and rendered in the last render (for tests and debug logs). */
  stats = { reused: 0, rendered: 0 };

  constructor(readonly view: KeyIndex) {
    this.versions = view.trackVersions();
    this.versions.listener = (key, structural) => this.invalidate(key, structural);
  }

  begin(): void {
    this.reuseAllowed = this.outerReads !== undefined && this.unchanged(this.outerReads);
    if (!this.reuseAllowed) this.forget();
    this.frames = [[]];
    this.next = new Map();
    this.visits = new Map();
    this.stats = { reused: 0, rendered: 0 };
    this.view.tracker = this;
  }

  /** `complete`: the render succeeded; a failed one keeps nothing (the next renders afresh). */
  end(complete: boolean): void {
    this.view.tracker = undefined;
    this.outerReads = complete ? this.frames[0] : undefined;
    this.entries = this.next;
    this.next = new Map();
    this.frames = [];
    // Every entry kept was rendered or found fresh just now.
    this.stale.clear();
    if (!complete) this.forget();
  }

  record(kind: Dep, path: string, version: number): void {
    this.frames[this.frames.length - 1]?.push(kind, path, version);
  }

  /** Inside an iteration, nested loops render plainly: their reads count for the iteration. */
  get inIteration(): boolean {
    return this.frames.length > 1;
  }

  /** An identity for this entry into the loop at `site`, the same in every render that may reuse. */
  enter(site: string): string {
    const n = (this.visits.get(site) ?? 0) + 1;
    this.visits.set(site, n);
    return `${site}#${n}`;
  }

  /** The iteration's output: reused when nothing it read has changed, else rendered and remembered. */
  iteration(id: string, render: () => string): string {
    const kept = this.reuseAllowed && !this.stale.has(id) ? this.entries.get(id) : undefined;
    if (kept !== undefined) {
      this.stats.reused++;
      this.next.set(id, kept);
      return kept;
    }
    this.frames.push([]);
    let output: string;
    try {
      output = render();
    } catch (err) {
      // The render is abandoned; end(false) drops everything it remembered.
      this.frames.pop();
      throw err;
    }
    const reads = this.frames.pop() as Reads;
    for (let i = 0; i < reads.length; i += 3) {
      const path = `${reads[i] as Dep}${reads[i + 1] as string}`;
      let ids = this.readers.get(path);
      if (ids === undefined) this.readers.set(path, (ids = new Set()));
      ids.add(id);
    }
    this.next.set(id, output);
    this.stats.rendered++;
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
    const ids = this.readers.get(path);
    if (ids === undefined) return;
    for (const id of ids) this.stale.add(id);
    // Re-rendering registers the iterations' reads anew.
    this.readers.delete(path);
  }

  private forget(): void {
    this.entries.clear();
    this.readers.clear();
    this.stale.clear();
  }

  private unchanged(reads: Reads): boolean {
    for (let i = 0; i < reads.length; i += 3) {
      if (this.versions.version(reads[i] as Dep, reads[i + 1] as string) !== reads[i + 2]) return false;
    }
    return true;
  }
}

/**
 * A stable identity for a list item, or undefined when the item cannot be keyed (then the
 * iteration renders every time): names from ls/lsdir, values, and {key, value} pairs from gets.
 */
export function itemKey(item: unknown): string | undefined {
  if (typeof item === "string") return `s${item}`;
  if (typeof item === "number" || typeof item === "boolean") return `p${String(item)}`;
  if (typeof item === "object" && item !== null && "key" in item && "value" in item) {
    const { key, value } = item as { key: unknown; value: unknown };
    if (typeof key === "string" && typeof value === "string") return `k${key}\0${value}`;
  }
  return undefined;
}

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
import { Dep, type ReadTracker, type Versions } from "../mirror/versions.js";

/** Reads as flat triples (kind, path, version), cheap to record and to check. */
type Reads = Array<Dep | string | number>;

interface Entry {
  output: string;
  reads: Reads;
}

export class RenderMemo implements ReadTracker {
  private readonly versions: Versions;
  private entries = new Map<string, Entry>();
  private next = new Map<string, Entry>();
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
  }

  begin(): void {
    this.reuseAllowed = this.outerReads !== undefined && this.unchanged(this.outerReads);
    if (!this.reuseAllowed) this.entries.clear();
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
    this.entries = complete ? this.next : new Map();
    this.next = new Map();
    this.frames = [];
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

  /** The iteration's output: reused when its reads are unchanged, else rendered and remembered. */
  iteration(id: string, render: () => string): string {
    const entry = this.reuseAllowed ? this.entries.get(id) : undefined;
    if (entry !== undefined && this.unchanged(entry.reads)) {
      this.stats.reused++;
      this.next.set(id, entry);
      return entry.output;
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
    this.next.set(id, { output, reads });
    this.stats.rendered++;
    return output;
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

/**
 * A sorted key → value index with memkv's read semantics (get, `path.Match` globs, `ls`/`lsdir` by whole
 * segments), changed in place so that a render never re-reads or re-sorts the whole store.
 */
import { literalPrefix } from "./glob.js";
import { GlobResults, type KVPair } from "./glob-results.js";
import { listChildren, Listings, type ListingKind } from "./listings.js";
import { compareBytes, itself, lowerBound } from "./sorted.js";
import { Dep, dirOf, Versions, type ReadTracker } from "./versions.js";

export { compareBytes } from "./sorted.js";

/** Above this many pending inserts/deletes, one full re-sort beats many splices. */
const SPLICE_LIMIT = 256;

export class KeyIndex {
  private readonly values = new Map<string, string>();
  private sorted: string[] = [];
  private readonly pendingAdd = new Set<string>();
  private readonly pendingDelete = new Set<string>();
  /** Kept only once a render has asked to track reads (watch mode); listing pays nothing for it. */
  private versions: Versions | undefined;
  /** Listings by directory, patched as keys below come and go (only with versions kept: a one-shot lists once). */
  private listings: Listings | undefined;
  /**
   * gets/getvs results by pattern, kept up to date, from the first gets on: a render and a daemon hand out the same
   * pair objects for the same pattern, which Handlebars' `../` tells apart (it skips a context equal to the one below).
   */
  private globs: GlobResults | undefined;
  /** Told about every read while set: see RenderMemo. */
  tracker: ReadTracker | undefined;

  get size(): number {
    return this.values.size;
  }

  /** Start keeping change versions (from now on; earlier changes count as version 0). */
  trackVersions(): Versions {
    this.versions ??= new Versions();
    this.listings ??= new Listings({ keysWithPrefix: (prefix) => this.keysWithPrefix(prefix), hasKey: (key) => this.values.has(key), hasKeyBelow: (prefix) => this.hasKeyBelow(prefix) });
    return this.versions;
  }

  get(key: string): string | undefined {
    this.read(Dep.Key, key);
    return this.values.get(key);
  }

  has(key: string): boolean {
    this.read(Dep.Key, key);
    return this.values.has(key);
  }

  /** Returns true when the index changed. */
  set(key: string, value: string): boolean {
    const old = this.values.get(key);
    if (old === value) return false;
    if (old === undefined) {
      if (!this.pendingDelete.delete(key)) this.pendingAdd.add(key);
    }
    this.values.set(key, value);
    if (old === undefined) this.listings?.changed(key);
    this.globs?.changed(key);
    this.versions?.changed(key, old === undefined);
    return true;
  }

  /** Returns true when the key was present. */
  delete(key: string): boolean {
    if (!this.values.delete(key)) return false;
    if (!this.pendingAdd.delete(key)) this.pendingDelete.add(key);
    this.listings?.changed(key);
    this.globs?.changed(key);
    this.versions?.changed(key, true);
    return true;
  }

  clear(): void {
    this.values.clear();
    this.listings?.clear();
    this.globs?.clear();
    this.sorted = [];
    this.pendingAdd.clear();
    this.pendingDelete.clear();
  }

  /** All keys in byte order. */
  keys(): readonly string[] {
    this.settle();
    return this.sorted;
  }

  entries(): Array<[string, string]> {
    return this.keys().map((k) => [k, this.values.get(k) as string]);
  }

  /** Keys starting with `prefix` (a plain string prefix), in byte order. */
  keysWithPrefix(prefix: string): readonly string[] {
    const keys = this.keys();
    if (prefix === "") return keys;
    const start = lowerBound(keys, prefix, itself);
    let end = start;
    while (end < keys.length && (keys[end] as string).startsWith(prefix)) end++;
    return keys.slice(start, end);
  }

  /** memkv GetAll: the pairs of the keys matching a `path.Match` glob, sorted by key. */
  glob(pattern: string): readonly KVPair[] {
    this.read(Dep.Deep, dirOf(literalPrefix(pattern)));
    return this.globResults().pairs(pattern);
  }

  /** Which key of glob(pattern)'s answer holds a value (the last one that does). */
  globKeyOf(pattern: string): (value: string) => string | undefined {
    const globs = this.globResults();
    return (value) => globs.keyOf(pattern, value);
  }

  /** memkv GetAllValues: the values of glob(pattern)'s answer, sorted. */
  globValues(pattern: string): readonly string[] {
    return this.globResults().values(pattern);
  }

  private globResults(): GlobResults {
    this.globs ??= new GlobResults({ keysWithPrefix: (prefix) => this.keysWithPrefix(prefix), valueOf: (key) => this.values.get(key) });
    return this.globs;
  }

  /**
   * memkv List: sorted unique names of the immediate children of `dir` (leaves and directories),
   * comparing whole segments; when `dir` is itself a key, its base name is included.
   */
  list(dir: string): readonly string[] {
    return this.children(dir, false);
  }

  /** memkv ListDir: like `list`, only children that have keys beneath them. */
  listDirs(dir: string): readonly string[] {
    return this.children(dir, true);
  }

  /** A cached listing goes to every caller; a patch changes it in place, under a new version (list-edits.ts). */
  private children(dir: string, dirsOnly: boolean): readonly string[] {
    const base = trimTrailingSlash(dir);
    this.read(Dep.Children, base);
    const kind: ListingKind = { base, dirsOnly, isKey: !dirsOnly && this.has(base) };
    return this.listings === undefined ? listChildren(this, kind) : this.listings.names(kind);
  }

  private hasKeyBelow(prefix: string): boolean {
    const keys = this.keys();
    return keys[lowerBound(keys, prefix, itself)]?.startsWith(prefix) ?? false;
  }

  private read(kind: Dep, path: string): void {
    this.tracker?.record(kind, path);
  }

  private settle(): void {
    const changes = this.pendingAdd.size + this.pendingDelete.size;
    if (changes === 0) return;
    if (changes > SPLICE_LIMIT || this.sorted.length === 0) {
      this.sorted = [...this.values.keys()].sort(compareBytes);
    } else {
      for (const key of this.pendingDelete) {
        const i = lowerBound(this.sorted, key, itself);
        if (this.sorted[i] === key) this.sorted.splice(i, 1);
      }
      for (const key of this.pendingAdd) this.sorted.splice(lowerBound(this.sorted, key, itself), 0, key);
    }
    this.pendingAdd.clear();
    this.pendingDelete.clear();
  }
}

function trimTrailingSlash(p: string): string {
  let end = p.length;
  while (end > 0 && p[end - 1] === "/") end--;
  return p.slice(0, end);
}

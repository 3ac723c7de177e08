/**
 * What memoized iterations read, and which iterations read each path: a change marks only those stale. Kept compact
 * because a mesh remembers an iteration per host, each reading a few keys of its own and a few shared by all.
 */
import type { Dep } from "../mirror/versions.js";

/** `[kind, path, kind, path, …]`: one array per iteration, no string made per read. */
export type Reads = Array<Dep | string>;

/** Something that read paths: an iteration's entry. */
export interface Reader {
  reads: Reads;
}

/** Readers of a path read by more than one: it keeps the one copy of the path they all share. */
class SharedReaders<R> extends Set<R> {
  constructor(readonly path: string) {
    super();
  }
}

/** Above this many reads, distinctReads looks them up in sets; below, scanning what it kept is cheaper than sets. */
const SCAN_LIMIT = 32;

/** Each read once, in an array of its own exactly as long (a pushed-to array keeps spare room). */
export function distinctReads(reads: Reads): Reads {
  const seen: Array<Set<string>> | undefined = reads.length > SCAN_LIMIT ? [new Set(), new Set(), new Set()] : undefined;
  const out: Reads = [];
  for (let i = 0; i < reads.length; i += 2) {
    const [kind, path] = [reads[i] as Dep, reads[i + 1] as string];
    if (seen === undefined ? indexOfRead(out, kind, path) >= 0 : !addNew(seen[kind] as Set<string>, path)) continue;
    out.push(kind, path);
  }
  return out.slice();
}

function addNew(paths: Set<string>, path: string): boolean {
  if (paths.has(path)) return false;
  paths.add(path);
  return true;
}

function indexOfRead(reads: Reads, kind: Dep, path: string): number {
  for (let i = 0; i < reads.length; i += 2) if (reads[i] === kind && reads[i + 1] === path) return i;
  return -1;
}

/** path → its reader, per kind of read. A path most often has one reader, kept as itself: no set per path. */
export class ReadIndex<R extends Reader> {
  private readonly byKind: Array<Map<string, R | SharedReaders<R>>> = [new Map(), new Map(), new Map()];

  /** Registers every read of `reader`; a path others read too is replaced in its reads by their shared copy. */
  add(reader: R): void {
    const reads = reader.reads;
    for (let i = 0; i < reads.length; i += 2) {
      const map = this.paths(reads[i] as Dep);
      const path = reads[i + 1] as string;
      const held = map.get(path);
      if (held === undefined) {
        map.set(path, reader);
      } else if (held instanceof SharedReaders) {
        held.add(reader);
        reads[i + 1] = held.path;
      } else if (held !== reader) {
        // The held reader's copy is the index's key: the shared one.
        const shared = new SharedReaders<R>(held.reads[indexOfRead(held.reads, reads[i] as Dep, path) + 1] as string);
        shared.add(held).add(reader);
        map.set(path, shared);
        reads[i + 1] = shared.path;
      }
    }
  }

  remove(reader: R): void {
    const reads = reader.reads;
    for (let i = 0; i < reads.length; i += 2) {
      const map = this.paths(reads[i] as Dep);
      const path = reads[i + 1] as string;
      const held = map.get(path);
      // An empty path goes too: paths of hosts long gone would otherwise stay for the process's life.
      if (held === reader || (held instanceof SharedReaders && held.delete(reader) && held.size === 0)) map.delete(path);
    }
  }

  /** The readers of a path, no longer registered (re-rendering them registers their reads anew). */
  take(kind: Dep, path: string): Iterable<R> {
    const map = this.paths(kind);
    const held = map.get(path);
    if (held === undefined) return [];
    map.delete(path);
    return held instanceof SharedReaders ? held : [held];
  }

  clear(): void {
    for (const map of this.byKind) map.clear();
  }

  private paths(kind: Dep): Map<string, R | SharedReaders<R>> {
    return this.byKind[kind] as Map<string, R | SharedReaders<R>>;
  }

  /** Paths registered, of every kind. */
  get size(): number {
    return this.byKind.reduce((sum, map) => sum + map.size, 0);
  }
}


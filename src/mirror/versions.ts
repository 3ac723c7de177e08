/**
 * Change versions for incremental rendering: a change bumps its key and every directory above it, so a memoized
 * output checks what it read in a few lookups. Coarse on purpose: it may invalidate more than it must, never less.
 */

/** What a read depended on: one key's value, the set of keys below a directory, or everything below it. */
export const Dep = { Key: 0, Children: 1, Deep: 2 } as const;
export type Dep = (typeof Dep)[keyof typeof Dep];

export interface ReadTracker {
  record(kind: Dep, path: string): void;
}

export class Versions {
  private clock = 0;
  /**
   * Told of every change: the memo of each resource rendered from the view (it marks what the
   * change makes stale). Several resources can share one view (see Mirror).
   */
  readonly listeners: Array<(key: string, structural: boolean) => void> = [];
  private readonly maps: readonly [Map<string, number>, Map<string, number>, Map<string, number>] = [new Map(), new Map(), new Map()];

  version(kind: Dep, path: string): number {
    return this.maps[kind].get(path) ?? 0;
  }

  /** `structural`: the key appeared or disappeared (not just a new value). */
  changed(key: string, structural: boolean): void {
    const v = ++this.clock;
    const [keys, children, deep] = this.maps;
    keys.set(key, v);
    for (const dir of ancestors(key)) {
      deep.set(dir, v);
      if (structural) children.set(dir, v);
    }
    for (const listener of this.listeners) listener(key, structural);
  }
}

/** The directories above a key, root ("") first: "/a/b/c" → "", "/a", "/a/b". */
export function ancestors(key: string): string[] {
  const dirs = [""];
  for (let i = key.indexOf("/", 1); i > 0; i = key.indexOf("/", i + 1)) dirs.push(key.slice(0, i));
  return dirs;
}

/** The directory a path or glob prefix lies in, as `ancestors` names it: "/a/b/" → "/a/b", "/a/k" → "/a". */
export function dirOf(prefix: string): string {
  const i = prefix.lastIndexOf("/");
  return i <= 0 ? "" : prefix.slice(0, i);
}

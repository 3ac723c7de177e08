/**
 * Kept answers (glob results, listings) patched into new lists, and the one splice that made a list from another (an
 * answer patched for one changed key): a loop that went over the old list finds its unchanged runs in the new one by
 * arithmetic, without comparing their items.
 */

/**
 * Keys come or gone under a kept answer (a glob result, a listing) above which making it again beats patching it; past
 * it the answer stops collecting them, so one that no render asks for again holds no more.
 */
export const PATCH_LIMIT = 64;

/** `removed` items at `at` in `from` replaced by `inserted` items. */
export interface ListEdit {
  at: number;
  removed: number;
  inserted: number;
}

/** By the new list; the old one is held weakly, so a chain of edits keeps no list alive. */
const origins = new WeakMap<readonly unknown[], { from: WeakRef<readonly unknown[]>; edit: ListEdit }>();

export function recordEdit(list: readonly unknown[], from: readonly unknown[], edit: ListEdit): void {
  origins.set(list, { from: new WeakRef(from), edit });
}

/** The one splice that made `list` from `from`, if that is how it was made. */
export function editFrom(list: readonly unknown[], from: readonly unknown[] | undefined): ListEdit | undefined {
  const origin = origins.get(list);
  return origin !== undefined && from !== undefined && origin.from.deref() === from ? origin.edit : undefined;
}

/** Where the `length` items at `at` in the old list are in the new one, or -1 when the edit touched them. */
export function movedTo(edit: ListEdit, at: number, length: number): number {
  if (at + length <= edit.at) return at;
  if (at >= edit.at + edit.removed) return at + edit.inserted - edit.removed;
  return -1;
}

/**
 * A list handed out, edited into a new one: the first edit makes the copy with the edit in it (one pass over the list,
 * where a copy and then a splice into the middle of it are two), later edits change that copy in place. A list made
 * by one edit says so (recordEdit).
 */
export class Edited<T> {
  private readonly original: readonly T[];
  /** The edits made so far: the first, or undefined (none, or more than one). */
  private edit: ListEdit | undefined;
  private edits = 0;

  constructor(public list: readonly T[]) {
    this.original = list;
  }

  splice(start: number, deleteCount: number, ...items: T[]): void {
    if (this.edits++ > 0) {
      (this.list as T[]).splice(start, deleteCount, ...items);
      this.edit = undefined;
      return;
    }
    // Array.prototype.toSpliced is in Node 20; the project's TypeScript lib (ES2022) does not declare it.
    this.list = (this.list as unknown as { toSpliced(start: number, deleteCount: number, ...items: T[]): T[] }).toSpliced(start, deleteCount, ...items);
    this.edit = { at: start, removed: deleteCount, inserted: items.length };
  }

  done(): readonly T[] {
    if (this.edit !== undefined) recordEdit(this.list, this.original, this.edit);
    return this.list;
  }
}

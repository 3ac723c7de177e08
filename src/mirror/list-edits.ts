/**
 * Lists made from another by one splice (a glob result patched for one changed key): a loop that went over the old
 * list finds its unchanged runs in the new one by arithmetic, without comparing their items.
 */

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

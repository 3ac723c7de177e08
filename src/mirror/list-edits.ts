/**
 * Kept answers (glob results, listings) patched in place, with a version per patch and the splice each patch made: a
 * loop that went over the list at one version finds its unchanged runs at the next by arithmetic, without comparing
 * their items, and without a copy of the list per change.
 */

/**
 * Keys come or gone under a kept answer (a glob result, a listing) above which making it again beats patching it; past
 * it the answer stops collecting them, so one that no render asks for again holds no more.
 */
export const PATCH_LIMIT = 64;

/** Patches of one list whose splices are kept: a reader further behind takes the list as new. */
const HISTORY = 16;

/** `removed` items at `at` in `from` replaced by `inserted` items. */
export interface ListEdit {
  at: number;
  removed: number;
  inserted: number;
}

/** No change: every item is where it was. */
const NO_EDIT: ListEdit = Object.freeze({ at: 0, removed: 0, inserted: 0 });

/** A patched list's version, and the splice of each of its last patches (`edits[i]` made version `version - i`). */
interface History {
  version: number;
  edits: ListEdit[];
}

/** By the list itself: held weakly, so a list nobody renders any more takes its history with it. */
const histories = new WeakMap<readonly unknown[], History>();

/** How many times `list` was patched: 0 for a list never patched (and for any list that is not a kept answer). */
export function versionOf(list: readonly unknown[]): number {
  return histories.get(list)?.version ?? 0;
}

/**
 * One splice that covers every patch of `list` since `version` (items outside it are the same items, shifted), or
 * undefined when its history no longer reaches back that far.
 */
export function editSince(list: readonly unknown[], version: number): ListEdit | undefined {
  const history = histories.get(list);
  const now = history?.version ?? 0;
  if (version === now) return NO_EDIT;
  if (history === undefined || version > now || now - version > history.edits.length) return undefined;
  let cover: ListEdit | undefined;
  for (let i = now - version - 1; i >= 0; i--) cover = followedBy(cover, history.edits[i] as ListEdit);
  return cover;
}

/** The splice that covers `first` and then `next` (made on `first`'s result); the result of `next` alone without a first. */
export function followedBy(first: ListEdit | undefined, next: ListEdit): ListEdit {
  if (first === undefined) return next;
  const at = Math.min(first.at, next.at);
  // Where the two touched ends, in the list between them; what follows is only shifted by each.
  const end = Math.max(first.at + first.inserted, next.at + next.removed);
  return { at, removed: end - first.inserted + first.removed - at, inserted: end - next.removed + next.inserted - at };
}

/** Where the `length` items at `at` in the old list are in the new one, or -1 when the edit touched them. */
export function movedTo(edit: ListEdit, at: number, length: number): number {
  if (at + length <= edit.at) return at;
  if (at >= edit.at + edit.removed) return at + edit.inserted - edit.removed;
  return -1;
}

/** A kept answer patched in place: its splices are covered by one edit, recorded as a new version when done. */
export class Edited<T> {
  private cover: ListEdit | undefined;

  constructor(readonly list: T[]) {}

  splice(start: number, deleteCount: number, ...items: T[]): void {
    this.list.splice(start, deleteCount, ...items);
    this.cover = followedBy(this.cover, { at: start, removed: deleteCount, inserted: items.length });
  }

  /** The patched list, one version on when a splice changed it. */
  done(): readonly T[] {
    if (this.cover === undefined) return this.list;
    let history = histories.get(this.list);
    if (history === undefined) histories.set(this.list, (history = { version: 0, edits: [] }));
    history.version++;
    history.edits.unshift(this.cover);
    if (history.edits.length > HISTORY) history.edits.pop();
    return this.list;
  }
}

/**
 * `ls`/`lsdir` answers by directory, kept in watch mode: a key that comes or goes below a listed directory puts at most
 * one name in or out of its listing when it is next asked for (a binary search or two), instead of listing the
 * directory again; the listing is patched in place and records that edit (list-edits.ts), as a `gets` answer does.
 */
import { Edited, PATCH_LIMIT } from "./list-edits.js";
import { compareBytes, itself, lowerBound } from "./sorted.js";
import { ancestors } from "./versions.js";

/** What listings are made from: the index's sorted keys. */
export interface ListingSource {
  keysWithPrefix(prefix: string): readonly string[];
  hasKey(key: string): boolean;
  /** Whether some key starts with `prefix`. */
  hasKeyBelow(prefix: string): boolean;
}

/** What a listing holds: the children of `base`, only those with keys beneath (`dirsOnly`), and base's own name (`isKey`). */
export interface ListingKind {
  base: string;
  dirsOnly: boolean;
  isKey: boolean;
}

interface Listing extends ListingKind {
  /** Sorted; a patch changes it in place (list-edits.ts: its version says so), listing again makes a new one. */
  names: string[];
  /** Keys that came or went below `base` since `names` was made. */
  pending: Set<string>;
}

export class Listings {
  private readonly byKind = new Map<string, Listing>();
  /** By the directory listed: a key that comes or goes looks only at its ancestors'. */
  private readonly byBase = new Map<string, Listing[]>();

  constructor(private readonly source: ListingSource) {}

  names(kind: ListingKind): readonly string[] {
    const id = `${kind.dirsOnly ? "d" : kind.isKey ? "k" : "l"}${kind.base}`;
    let listing = this.byKind.get(id);
    if (listing === undefined) {
      listing = { ...kind, names: listChildren(this.source, kind), pending: new Set() };
      this.byKind.set(id, listing);
      const listings = this.byBase.get(kind.base);
      if (listings === undefined) this.byBase.set(kind.base, [listing]);
      else listings.push(listing);
    } else if (listing.pending.size > PATCH_LIMIT) {
      listing.names = listChildren(this.source, listing);
      listing.pending.clear();
    } else if (listing.pending.size > 0) {
      this.patch(listing);
    }
    return listing.names;
  }

  /** A key came or went. */
  changed(key: string): void {
    if (this.byKind.size === 0) return;
    for (const dir of ancestors(key)) {
      const listings = this.byBase.get(dir);
      // Past the limit the listing is made again when next asked for: a listing no render asks for again keeps no more.
      if (listings !== undefined) for (const listing of listings) if (listing.pending.size <= PATCH_LIMIT) listing.pending.add(key);
    }
  }

  clear(): void {
    this.byKind.clear();
    this.byBase.clear();
  }

  /** Each key come or gone names one child: it is listed when, now, it is a key or has keys below it. */
  private patch(listing: Listing): void {
    const prefix = prefixOf(listing.base);
    const names = new Edited(listing.names);
    for (const key of listing.pending) {
      if (!key.startsWith(prefix)) continue;
      const slash = key.indexOf("/", prefix.length);
      const name = key.slice(prefix.length, slash < 0 ? undefined : slash);
      const i = lowerBound(names.list, name, itself);
      const listed = names.list[i] === name;
      if (listed === this.lists(listing, prefix, name)) continue;
      if (listed) names.splice(i, 1);
      else names.splice(i, 0, name);
    }
    names.done();
    listing.pending.clear();
  }

  private lists(listing: Listing, prefix: string, name: string): boolean {
    if (listing.isKey && name === baseName(listing.base)) return true;
    if (!listing.dirsOnly && this.source.hasKey(`${prefix}${name}`)) return true;
    return this.source.hasKeyBelow(`${prefix}${name}/`);
  }
}

/** memkv List/ListDir over the sorted keys below `base`. */
export function listChildren(source: Pick<ListingSource, "keysWithPrefix">, { base, dirsOnly, isKey }: ListingKind): string[] {
  const names = new Set<string>();
  if (isKey) names.add(baseName(base));
  const prefix = prefixOf(base);
  // The keys below one child sort together: while they last, one startsWith each and no slices
  // (the mesh lists thousands of hosts of several keys each).
  let childDir: string | undefined;
  for (const key of source.keysWithPrefix(prefix)) {
    if (childDir !== undefined && key.startsWith(childDir)) continue;
    const slash = key.indexOf("/", prefix.length);
    if (slash < 0) {
      if (!dirsOnly) names.add(key.slice(prefix.length));
      continue;
    }
    childDir = key.slice(0, slash + 1);
    names.add(key.slice(prefix.length, slash));
  }
  return [...names].sort(compareBytes);
}

function prefixOf(base: string): string {
  return base === "" ? "/" : `${base}/`;
}

function baseName(p: string): string {
  const i = p.lastIndexOf("/");
  return i < 0 ? p : p.slice(i + 1);
}


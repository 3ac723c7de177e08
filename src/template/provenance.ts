/**
 * Where a render's strings came from (value → key; the latest wins), so a formatter can name a bad value's key.
 * `ls`/`lsdir` names and `gets` pairs are kept per listing and indexed only when asked: a mesh lists every host on
 * every render.
 */
export class Provenance extends Map<string, string> {
  private readonly listings: Array<{ names: readonly string[]; dir: string }> = [];
  private readonly registered = new Set<readonly unknown[]>();
  /** value → key for the pairs of each `gets`/`getvs` answer, in the order they were handed out. */
  private readonly lookups: Array<(value: string) => string | undefined> = [];
  /** Listings already in `names`. */
  private indexed = 0;
  /** name → the directory it was listed in, for the listings indexed so far. */
  private readonly names = new Map<string, string>();

  /** Each name in `names` is the last segment of the path `<dir>/<name>`. */
  addNames(names: readonly string[], dir: string): void {
    // A cached listing is one array however often a template lists it.
    if (names.length === 0 || this.registered.has(names)) return;
    this.registered.add(names);
    this.listings.push({ names, dir: dir.replace(/\/+$/, "") });
  }

  /** The values in `pairs` came from their keys, which `lookup` finds. */
  addPairs(pairs: readonly unknown[], lookup: (value: string) => string | undefined): void {
    if (pairs.length === 0 || this.registered.has(pairs)) return;
    this.registered.add(pairs);
    this.lookups.push(lookup);
  }

  /** The key (or listed path) `value` came from, if it came from the store. */
  keyOf(value: string): string | undefined {
    const key = this.get(value);
    if (key !== undefined) return key;
    for (const lookup of this.lookups) {
      const fromPair = lookup(value);
      if (fromPair !== undefined) return fromPair;
    }
    for (; this.indexed < this.listings.length; this.indexed++) {
      const { names, dir } = this.listings[this.indexed] as { names: readonly string[]; dir: string };
      for (const name of names) this.names.set(name, dir);
    }
    const dir = this.names.get(value);
    return dir === undefined ? undefined : `${dir}/${value}`;
  }
}

/**
 * Where the strings of a render came from, so a validating formatter that rejects one can name its
 * key. Values are recorded as they are read (a Map: value → key; the latest wins). Names from
 * `ls`/`lsdir` are recorded by listing, not by name: a 5,000-host mesh lists its hosts on every
 * render, and the names are looked up only when a helper asks about one that is not a value.
 */
export class Provenance extends Map<string, string> {
  private readonly listings: Array<{ names: readonly string[]; dir: string }> = [];
  private readonly registered = new Set<readonly string[]>();
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

  /** The key (or listed path) `value` came from, if it came from the store. */
  keyOf(value: string): string | undefined {
    const key = this.get(value);
    if (key !== undefined) return key;
    for (; this.indexed < this.listings.length; this.indexed++) {
      const { names, dir } = this.listings[this.indexed] as { names: readonly string[]; dir: string };
      for (const name of names) this.names.set(name, dir);
    }
    const dir = this.names.get(value);
    return dir === undefined ? undefined : `${dir}/${value}`;
  }
}

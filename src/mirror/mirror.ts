/**
 * The in-memory mirror of every key a resource reads, with one prefix-relative view per distinct selection:
 * a change event updates it in place and names the resources it touched, so only those render again.
 */
import { KeyIndex } from "./key-index.js";
import type { ChangeEvent, KeyValue } from "../store/types.js";

/** Which keys a resource reads: full store paths, and the prefix its template does not see. */
export interface KeySelection {
  name: string;
  /** Stripped from every key the template sees ("" keeps full keys). */
  prefix: string;
  /** Full store paths; a key is selected when it equals a path or lies below it. */
  paths: readonly string[];
}

/** One index per distinct selection: resources selecting the same keys the same way share it. */
interface View {
  /** The prefix and paths of every resource in `names`. */
  selection: KeySelection;
  /** The resources that read this view (bird and bird6 select the same keys). */
  names: string[];
  index: KeyIndex;
  /** `path/` for each path, so a key test is two string comparisons. */
  dirs: string[];
  /**
   * Whether two of this view's keys can meet in one relative key (twinKey): not when every path lies
   * below `prefix/`, for then no path selects a key's twin without the slash.
   */
  twins: boolean;
}

export class Mirror {
  revision = 0;
  private readonly all = new Map<string, string>();
  private readonly views: View[];
  private readonly byName = new Map<string, View>();

  constructor(selections: readonly KeySelection[]) {
    // Shared views halve the listing's ingest and each change's index work for the full mesh, and
    // the mirror's memory: the same key would otherwise sit in two indexes with the same relative key.
    const bySelection = new Map<string, View>();
    const views: View[] = [];
    for (const selection of selections) {
      const identity = JSON.stringify([selection.prefix, [...new Set(selection.paths)].sort()]);
      let view = bySelection.get(identity);
      if (view === undefined) {
        view = {
          selection,
          names: [],
          index: new KeyIndex(),
          dirs: selection.paths.map((p) => (p.endsWith("/") ? p : `${p}/`)),
          twins: !selection.paths.every((p) => p.startsWith(`${selection.prefix}/`)),
        };
        bySelection.set(identity, view);
        views.push(view);
      }
      view.names.push(selection.name);
      this.byName.set(selection.name, view);
    }
    this.views = views;
  }

  /** The store prefixes to list and watch: every path, without those inside another. */
  watchPrefixes(): string[] {
    return minimalPrefixes(this.views.flatMap((v) => v.selection.paths));
  }

  get size(): number {
    return this.all.size;
  }

  view(name: string): KeyIndex {
    const v = this.byName.get(name);
    if (v === undefined) throw new Error(`no view for resource ${name}`);
    return v.index;
  }

  /** Full key → value of everything mirrored (for snapshots and the resync diff). */
  entries(): IterableIterator<[string, string]> {
    return this.all.entries();
  }

  /**
   * Replace the content with a complete listing (initial sync, compaction recovery, periodic
   * resync). Only the differences are applied, so unchanged resources stay clean.
   */
  replace(kvs: readonly KeyValue[], revision: number): Set<string> {
    // The initial sync: nothing to diff against (and nothing to delete).
    if (this.all.size === 0) return this.apply(kvs.map(({ key, value }) => ({ type: "put", key, value, revision })), revision);
    const seen = new Set<string>();
    const events: ChangeEvent[] = [];
    for (const { key, value } of kvs) {
      if (!this.selected(key)) continue;
      seen.add(key);
      if (this.all.get(key) !== value) events.push({ type: "put", key, value, revision });
    }
    for (const key of this.all.keys()) {
      if (!seen.has(key)) events.push({ type: "delete", key, revision });
    }
    return this.apply(events, revision);
  }

  /** Apply change events; returns the names of the resources whose view changed. */
  apply(events: readonly ChangeEvent[], revision: number): Set<string> {
    const dirty = new Set<string>();
    for (const ev of events) {
      if (ev.type === "delete" && !this.all.delete(ev.key)) continue;
      // A put is stored once some view selects it: each view is matched once per event.
      let stored = false;
      for (const v of this.views) {
        if (!matches(v, ev.key)) continue;
        if (!stored && ev.type === "put") {
          this.all.set(ev.key, ev.value);
          stored = true;
        }
        const rel = relativeKey(v.selection.prefix, ev.key);
        // Keys differing only by the slash after the prefix (`/calico`, `/calico/`: both "/") meet; the
        // view holds the one with the slash in any order of arrival, as a fresh listing would.
        const twin = v.twins ? twinKey(v.selection.prefix, ev.key) : undefined;
        const twinValue = twin !== undefined && matches(v, twin) ? this.all.get(twin) : undefined;
        let changed: boolean;
        if (twinValue !== undefined && (twin as string).length > ev.key.length) changed = false;
        else if (ev.type === "put") changed = v.index.set(rel, ev.value);
        else changed = twinValue !== undefined ? v.index.set(rel, twinValue) : v.index.delete(rel);
        if (changed) for (const name of v.names) dirty.add(name);
      }
    }
    if (revision > this.revision) this.revision = revision;
    return dirty;
  }

  private selected(key: string): boolean {
    return this.views.some((v) => matches(v, key));
  }
}

function matches(v: View, key: string): boolean {
  const { paths } = v.selection;
  for (let i = 0; i < paths.length; i++) {
    if (key === paths[i] || key.startsWith(v.dirs[i] as string)) return true;
  }
  return false;
}

/**
 * The key as the template sees it: the prefix removed, always starting with one `/`. Keys are not
 * path-cleaned, so a key containing `..` cannot pose as another key.
 */
export function relativeKey(prefix: string, key: string): string {
  const rest = prefix !== "" && key.startsWith(prefix) ? key.slice(prefix.length) : key;
  return rest.startsWith("/") ? rest : `/${rest}`;
}

/** The other key with the same relative key (see relativeKey): one slash more or less after the prefix. */
function twinKey(prefix: string, key: string): string | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const rest = key.slice(prefix.length);
  if (!rest.startsWith("/")) return `${prefix}/${rest}`;
  return rest[1] === "/" ? undefined : prefix + rest.slice(1);
}

export function minimalPrefixes(paths: readonly string[]): string[] {
  const sorted = [...new Set(paths)].sort();
  const out: string[] = [];
  for (const p of sorted) {
    const covered = out.some((q) => q === "/" || p === q || p.startsWith(q.endsWith("/") ? q : `${q}/`));
    if (!covered) out.push(p);
  }
  return out;
}

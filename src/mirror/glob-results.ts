/**
 * `gets`/`getvs` results by pattern, for every render; in watch mode a change patches the results whose pattern matches its
 * key, so a render over 100,000 keys neither scans them nor makes new pairs; an unchanged key keeps its pair
 * (the same frozen object), which is how the render memo knows the iteration over it.
 */
import { compareBytes, itself, lowerBound } from "./sorted.js";
import { globToRegExp, literalPrefix } from "./glob.js";
import { ancestors, dirOf } from "./versions.js";
import { Edited, PATCH_LIMIT } from "./list-edits.js";

/** memkv's KVPair as templates see it; `Key`/`Value` keep confd templates' spelling working. */
export interface KVPair {
  readonly key: string;
  readonly value: string;
  readonly Key: string;
  readonly Value: string;
}

export function kvPair(key: string, value: string): KVPair {
  return Object.freeze({ key, value, Key: key, Value: value });
}

/** What the results are computed from: the index's sorted keys and its values. */
export interface GlobSource {
  keysWithPrefix(prefix: string): readonly string[];
  valueOf(key: string): string | undefined;
}

/** Patterns kept; a template building one per host keeps the hosts it rendered last. */
const MAX_PATTERNS = 4096;

interface Result {
  re: RegExp;
  prefix: string;
  dir: string;
  /** Sorted by key; a patch changes it in place (list-edits.ts: its version says so), a scan makes a new one. */
  pairs: KVPair[];
  /** The values sorted (getvs), made at the first getvs; patched with `pairs`. */
  values: string[] | undefined;
  /** Keys that changed since `pairs` was made. */
  pending: Set<string>;
  /** value → the keys holding it, sorted (provenance names the last), made when first asked and patched with `pairs`. */
  keys: Map<string, string[]> | undefined;
}

export class GlobResults {
  /** By pattern, least recently used first. */
  private readonly results = new Map<string, Result>();
  /** By the directory of the pattern's literal prefix: a key's change looks only at its ancestors'. */
  private readonly byDir = new Map<string, Set<Result>>();

  constructor(private readonly source: GlobSource) {}

  pairs(pattern: string): readonly KVPair[] {
    return this.result(pattern).pairs;
  }

  values(pattern: string): readonly string[] {
    const result = this.result(pattern);
    result.values ??= result.pairs.map((p) => p.value).sort(compareBytes);
    return result.values;
  }

  /** Which key of the pattern's answer holds `value`, for provenance (the pattern was just asked for). */
  keyOf(pattern: string, value: string): string | undefined {
    const result = this.results.get(pattern);
    if (result === undefined) return undefined;
    if (result.keys === undefined) {
      result.keys = new Map();
      for (const pair of result.pairs) addKey(result.keys, pair.value, pair.key);
    }
    const keys = result.keys.get(value);
    return keys?.[keys.length - 1];
  }

  /** A key was set or deleted. */
  changed(key: string): void {
    if (this.results.size === 0) return;
    for (const dir of ancestors(key)) {
      const results = this.byDir.get(dir);
      if (results === undefined) continue;
      // Past the limit the result is scanned again when next asked for: a pattern no render asks for again keeps no more.
      for (const result of results) if (result.pending.size <= PATCH_LIMIT && key.startsWith(result.prefix) && result.re.test(key)) result.pending.add(key);
    }
  }

  clear(): void {
    this.results.clear();
    this.byDir.clear();
  }

  private result(pattern: string): Result {
    let result = this.results.get(pattern);
    if (result === undefined) {
      const prefix = literalPrefix(pattern);
      result = { re: globToRegExp(pattern), prefix, dir: dirOf(prefix), pairs: [], values: undefined, pending: new Set(), keys: undefined };
      this.scan(result);
      this.add(pattern, result);
    } else {
      // Most recently used last.
      this.results.delete(pattern);
      this.results.set(pattern, result);
      if (result.pending.size > PATCH_LIMIT) this.scan(result);
      else if (result.pending.size > 0) this.patch(result);
    }
    return result;
  }

  private scan(result: Result): void {
    const pairs: KVPair[] = [];
    for (const key of this.source.keysWithPrefix(result.prefix)) {
      if (result.re.test(key)) pairs.push(kvPair(key, this.source.valueOf(key) as string));
    }
    result.pairs = pairs;
    result.values = undefined;
    result.keys = undefined;
    result.pending.clear();
  }

  private patch(result: Result): void {
    const pairs = new Edited(result.pairs);
    const values = result.values === undefined ? undefined : new Edited(result.values);
    for (const key of result.pending) {
      const i = lowerBound(pairs.list, key, (p) => p.key);
      const old = pairs.list[i]?.key === key ? pairs.list[i] : undefined;
      const now = this.source.valueOf(key);
      if (old?.value === now) continue;
      if (values !== undefined && old !== undefined) values.splice(lowerBound(values.list, old.value, itself), 1);
      if (values !== undefined && now !== undefined) values.splice(lowerBound(values.list, now, itself), 0, now);
      if (result.keys !== undefined && old !== undefined) removeKey(result.keys, old.value, key);
      if (result.keys !== undefined && now !== undefined) addKey(result.keys, now, key);
      if (now === undefined) pairs.splice(i, 1);
      else pairs.splice(i, old === undefined ? 0 : 1, kvPair(key, now));
    }
    pairs.done();
    values?.done();
    result.pending.clear();
  }

  private add(pattern: string, result: Result): void {
    this.results.set(pattern, result);
    let results = this.byDir.get(result.dir);
    if (results === undefined) this.byDir.set(result.dir, (results = new Set()));
    results.add(result);
    if (this.results.size <= MAX_PATTERNS) return;
    const [oldest, evicted] = this.results.entries().next().value as [string, Result];
    this.results.delete(oldest);
    const set = this.byDir.get(evicted.dir);
    if (set?.delete(evicted) && set.size === 0) this.byDir.delete(evicted.dir);
  }
}

function addKey(keys: Map<string, string[]>, value: string, key: string): void {
  const list = keys.get(value);
  if (list === undefined) keys.set(value, [key]);
  else list.splice(lowerBound(list, key, itself), 0, key);
}

function removeKey(keys: Map<string, string[]>, value: string, key: string): void {
  const list = keys.get(value);
  const i = list === undefined ? -1 : list.indexOf(key);
  if (i < 0) return;
  if ((list as string[]).length === 1) keys.delete(value);
  else (list as string[]).splice(i, 1);
}

/**
 * The store helpers, with confd's (memkv's) semantics exactly: they are what template authors know. Every value
 * handed out is recorded in the provenance, so a formatter that rejects it can name its key.
 */
import { PerchError } from "../../errors.js";
import { kvPair, type KVPair } from "../../mirror/glob-results.js";
import { describeValue } from "../../util/describe-value.js";
import type { HelperTable, RenderScope } from "../helper-spec.js";

export type { KVPair } from "../../mirror/glob-results.js";

function pair(key: string, value: string, scope: RenderScope): KVPair {
  scope.provenance.set(value, key);
  return kvPair(key, value);
}

/** The values came from these pairs' keys; indexed only if a formatter asks (a gets lists thousands). */
function fromPairs<T>(result: T, pattern: string, pairs: readonly KVPair[], scope: RenderScope): T {
  scope.provenance.addPairs(pairs, scope.view.globKeyOf(pattern));
  return result;
}

function keyArg(args: unknown[], helper: string): string {
  const key = args[0];
  if (typeof key !== "string") {
    throw new PerchError(`${helper} needs a key string, got ${describeValue(key)}`);
  }
  return key;
}

/**
 * A name from `ls`/`lsdir` is part of a key too (Calico's mesh puts host names in BIRD comments):
 * remember the path it names, so a formatter that rejects it can say where it came from.
 */
function named(names: readonly string[], dir: string, scope: RenderScope): readonly string[] {
  scope.provenance.addNames(names, dir);
  return names;
}

function missing(key: string): PerchError {
  return new PerchError(`key does not exist: ${key}`, { key });
}

export const storeHelpers: HelperTable = {
  getv: {
    arity: [1, 2],
    doc: "getv KEY [DEFAULT]: the value of KEY; missing with no default is an error",
    fn(args, scope) {
      const key = keyArg(args, "getv");
      const value = scope.view.get(key);
      if (value !== undefined) {
        scope.provenance.set(value, key);
        return value;
      }
      if (args.length > 1) return String(args[1]);
      throw missing(key);
    },
  },
  get: {
    arity: [1, 1],
    doc: "get KEY: {key, value} of KEY; missing is an error",
    fn(args, scope) {
      const key = keyArg(args, "get");
      const value = scope.view.get(key);
      if (value === undefined) throw missing(key);
      return pair(key, value, scope);
    },
  },
  exists: {
    arity: [1, 1],
    doc: "exists KEY: true only when KEY itself has a value (a directory is not a key)",
    fn(args, scope) {
      return scope.view.has(keyArg(args, "exists"));
    },
  },
  gets: {
    arity: [1, 1],
    doc: "gets PATTERN: {key, value} of every key matching the glob (* stops at /), sorted by key",
    fn(args, scope) {
      const pattern = keyArg(args, "gets");
      const pairs = scope.view.glob(pattern);
      return fromPairs(pairs, pattern, pairs, scope);
    },
  },
  getvs: {
    arity: [1, 1],
    doc: "getvs PATTERN: the values of every key matching the glob, sorted by value",
    fn(args, scope) {
      const pattern = keyArg(args, "getvs");
      const pairs = scope.view.glob(pattern);
      return fromPairs(scope.view.globValues(pattern), pattern, pairs, scope);
    },
  },
  ls: {
    arity: [1, 1],
    doc: "ls PATH: sorted unique names of the immediate children of PATH",
    fn(args, scope) {
      const dir = keyArg(args, "ls");
      return named(scope.view.list(dir), dir, scope);
    },
  },
  lsdir: {
    arity: [1, 1],
    doc: "lsdir PATH: like ls, only the children that have children",
    fn(args, scope) {
      const dir = keyArg(args, "lsdir");
      return named(scope.view.listDirs(dir), dir, scope);
    },
  },
  getenv: {
    arity: [1, 2],
    doc: "getenv NAME [DEFAULT]: an environment variable; DEFAULT when it is unset or empty",
    fn(args, scope) {
      const name = keyArg(args, "getenv");
      const value = scope.env[name];
      if ((value === undefined || value === "") && args.length > 1) return String(args[1]);
      return value ?? "";
    },
  },
};

/**
 * The store helpers, with confd's (memkv's) semantics exactly: they are what template authors know. Every value
 * handed out is recorded in the provenance, so a formatter that rejects it can name its key.
 */
import { PerchError } from "../../errors.js";
import { compareBytes } from "../../mirror/key-index.js";
import { describeValue } from "../../util/describe-value.js";
import type { HelperTable, RenderScope } from "../helper-spec.js";

/** A key/value pair as templates see it; `Key`/`Value` keep confd templates' spelling working. */
export interface KVPair {
  key: string;
  value: string;
  Key: string;
  Value: string;
}

function pair(key: string, value: string, scope: RenderScope): KVPair {
  scope.provenance.set(value, key);
  return { key, value, Key: key, Value: value };
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
      return scope.view.glob(keyArg(args, "gets")).map((kv) => pair(kv.key, kv.value, scope));
    },
  },
  getvs: {
    arity: [1, 1],
    doc: "getvs PATTERN: the values of every key matching the glob, sorted by value",
    fn(args, scope) {
      const kvs = scope.view.glob(keyArg(args, "getvs"));
      for (const kv of kvs) scope.provenance.set(kv.value, kv.key);
      return kvs.map((kv) => kv.value).sort(compareBytes);
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

#!/usr/bin/env node
/**
 * The shipped `perch`: runs the bundle (perch.cjs) with a V8 code cache, as Node 20 has no compile cache of its own,
 * so a cold start skips compiling what earlier runs compiled. V8 rejects data that does not fit; that is rewritten.
 * The data holds the functions of every kind of run it has met (run-kind.ts): the first run of a new kind adds
 * its own at exit, so a `perch --version` or an example render first does not leave a cache without the rest.
 * A command's V8 flags (v8-flags.ts) are set before the program is compiled, and each set of flags has its own cache.
 */
import { readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";
import { openCacheDirectory, writeCacheEntry } from "../util/cache-dir.js";
import { cacheToWrite, decodeCodeCache, encodeCodeCache, type CodeCache } from "./code-cache-file.js";
import { reportedRunKind } from "./run-kind.js";
import { launchV8Flags } from "./v8-flags.js";

/** Every build has its own code cache: older ones serve only another checkout or Node version. */
const CODE_CACHES_KEPT = 4;

type CommonJsWrapper = (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void;

const program = fileURLToPath(new URL("./perch.cjs", import.meta.url));
const source = readFileSync(program, "utf8");

/** Where this build's cached data goes for this Node and these V8 flags: a new build, Node version or flag set gets its own file. */
function cacheFile(v8Flags: readonly string[]): string | undefined {
  const dir = openCacheDirectory();
  if (dir === undefined) return undefined;
  const { size, mtimeMs } = statSync(program);
  const flags = v8Flags.map((f) => `+${f.replace(/^--/, "").replace(/[^\w.=-]/g, "_")}`).join("");
  return path.join(dir, `code-${process.version}-${process.arch}-${size}-${Math.trunc(mtimeMs)}${flags}.v8cache`);
}

/** node:v8 is loaded only when there is a flag to set: a one-shot does not pay for it. */
function setV8Flags(flags: readonly string[]): void {
  if (flags.length === 0) return;
  const { setFlagsFromString } = createRequire(program)("node:v8") as typeof import("node:v8");
  for (const flag of flags) setFlagsFromString(flag);
}

function readCache(file: string | undefined): CodeCache | undefined {
  try {
    return file === undefined ? undefined : decodeCodeCache(readFileSync(file));
  } catch {
    return undefined;
  }
}

const v8Flags = launchV8Flags(process.argv.slice(2));
setV8Flags(v8Flags);
const file = cacheFile(v8Flags);
const cache = readCache(file);
// The CommonJS wrapper Node itself puts around a module's source.
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: program, cachedData: cache?.data });
if (file !== undefined) {
  const accepted = cache !== undefined && script.cachedDataRejected !== true;
  // At exit, not now: the data then holds every function the command compiled, not just the top level.
  process.once("exit", () => {
    const update = cacheToWrite(cache, accepted, reportedRunKind(), () => script.createCachedData());
    if (update !== undefined) writeCacheEntry(file, encodeCodeCache(update), CODE_CACHES_KEPT);
  });
}
const run = script.runInThisContext() as CommonJsWrapper;
const module = { exports: {} };
run.call(module.exports, module.exports, createRequire(program), module, program, path.dirname(program));

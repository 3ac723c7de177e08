#!/usr/bin/env node
/**
 * The shipped `perch` (dist/bundle/perch.js): runs the bundled program, perch.cjs beside it, with a
 * V8 code cache. Node 20 has no compile cache of its own (module.enableCompileCache is Node 22), so
 * every cold start parsed and compiled the bundle and then, lazily, each function a render calls.
 * The first run writes V8's cached data for everything it compiled into the cache directory
 * (src/util/cache-dir.ts: owned by the user, private); later runs skip that work (~20-30 ms of a
 * one-shot on the bench machine). V8 checks the data against its version, flags and the source and
 * rejects what does not fit; a rejected or missing cache is written anew at exit.
 */
import { readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";
import { cacheDirectory, writeCacheEntry } from "../util/cache-dir.js";

/**
 * Code caches kept (each about half a megabyte): every build has its own, so older ones only serve
 * another checkout or Node version sharing the directory.
 */
const CODE_CACHES_KEPT = 4;

type CommonJsWrapper = (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void;

const program = fileURLToPath(new URL("./perch.cjs", import.meta.url));
const source = readFileSync(program, "utf8");

/** Where this build's cached data goes for this Node: a new build or Node version gets its own file. */
function cacheFile(): string | undefined {
  const dir = cacheDirectory();
  if (dir === undefined) return undefined;
  const { size, mtimeMs } = statSync(program);
  return path.join(dir, `code-${process.version}-${process.arch}-${size}-${Math.trunc(mtimeMs)}.v8cache`);
}

function readCache(file: string | undefined): Buffer | undefined {
  try {
    return file === undefined ? undefined : readFileSync(file);
  } catch {
    return undefined;
  }
}

const file = cacheFile();
const cachedData = readCache(file);
// The CommonJS wrapper Node itself puts around a module's source.
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: program, cachedData });
if (file !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) {
  // At exit, not now: the data then holds every function the command compiled, not just the top level.
  process.once("exit", () => writeCacheEntry(file, script.createCachedData(), CODE_CACHES_KEPT));
}
const run = script.runInThisContext() as CommonJsWrapper;
const module = { exports: {} };
run.call(module.exports, module.exports, createRequire(program), module, program, path.dirname(program));

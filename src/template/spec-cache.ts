/**
 * Compiling is most of a cold render, and its output depends only on the template's text, Handlebars'
 * version and the options: kept on disk under a hash of those, in the private cache directory (it is code).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { openCacheDirectory, writeCacheEntry } from "../util/cache-dir.js";

export interface SpecCache {
  get(source: string): string | undefined;
  set(source: string, spec: string): void;
}

/** Undefined when there is no usable cache directory (see openCacheDirectory). */
export function openSpecCache(salt: string, env: NodeJS.ProcessEnv = process.env): SpecCache | undefined {
  const dir = openCacheDirectory(env);
  if (dir === undefined) return undefined;
  const file = (source: string) => path.join(dir, `${createHash("sha256").update(salt).update("\0").update(source).digest("hex")}.js`);
  return {
    get(source) {
      try {
        return readFileSync(file(source), "utf8");
      } catch {
        return undefined;
      }
    },
    set(source, spec) {
      writeCacheEntry(file(source), spec);
    },
  };
}

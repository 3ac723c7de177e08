/**
 * A disk cache of compiled templates. Handlebars spends most of a cold `perch render` parsing and
 * generating code for the templates; the generated code depends only on the template's text, the
 * Handlebars and perch versions and the compile options, so it is kept under a hash of those and
 * reused by the next process. The cache holds code that perch runs, so it is used only in a
 * directory that belongs to the current user and that no one else can write.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { cacheDirectory, writeCacheEntry } from "../util/cache-dir.js";

export interface SpecCache {
  get(source: string): string | undefined;
  set(source: string, spec: string): void;
}

/** Undefined when there is no usable cache directory (see cacheDirectory). */
export function openSpecCache(salt: string, env: NodeJS.ProcessEnv = process.env): SpecCache | undefined {
  const dir = cacheDirectory(env);
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

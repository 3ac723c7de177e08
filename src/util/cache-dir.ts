/**
 * The cache directory of the template spec cache and the launcher's V8 code cache. Both hold code perch runs,
 * so it is used only when it belongs to the current user and no one else can write to it.
 */
import { mkdirSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";

/** Beyond this many entries of one kind (by default), the oldest half is removed when a new one is written. */
const MAX_ENTRIES = 256;

/**
 * `PERCH_CACHE_DIR` (empty: no cache), else `$XDG_CACHE_HOME/perch`, else `~/.cache/perch`, created when missing.
 * Undefined when the directory cannot be made safe to use.
 */
export function openCacheDirectory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = env.PERCH_CACHE_DIR ?? path.join(env.XDG_CACHE_HOME || path.join(homedir(), ".cache"), "perch");
  return dir !== "" && makePrivateDirectory(dir) ? dir : undefined;
}

/**
 * By rename, so a reader never sees half a file; then entries of its extension beyond `maxEntries` are pruned to half.
 * Best effort: a cache that cannot be written is only a slower start.
 */
export function writeCacheEntry(file: string, contents: string | Uint8Array, maxEntries = MAX_ENTRIES): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, contents, { mode: 0o600 });
    renameSync(temp, file);
    prune(path.dirname(file), path.extname(file), maxEntries);
  } catch {
    try {
      unlinkSync(temp);
    } catch {
      // Never written, or already renamed.
    }
  }
}

/** Creates `dir` when missing; true when it is then the current user's and no one else can write it. */
function makePrivateDirectory(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = statSync(dir);
    return st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

function prune(dir: string, extension: string, maxEntries: number): void {
  const names = readdirSync(dir).filter((n) => n.endsWith(extension));
  if (names.length <= maxEntries) return;
  const byAge = names.map((n) => ({ n, t: statSync(path.join(dir, n)).mtimeMs })).sort((a, b) => a.t - b.t);
  for (const { n } of byAge.slice(0, names.length - Math.floor(maxEntries / 2))) unlinkSync(path.join(dir, n));
}

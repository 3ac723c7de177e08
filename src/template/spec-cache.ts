/**
 * A disk cache of compiled templates. Handlebars spends most of a cold `perch render` parsing and
 * generating code for the templates; the generated code depends only on the template's text, the
 * Handlebars and perch versions and the compile options, so it is kept under a hash of those and
 * reused by the next process. The cache holds code that perch runs, so it is used only in a
 * directory that belongs to the current user and that no one else can write.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";

/** Beyond this many entries, the oldest half is removed when a new one is written. */
const MAX_ENTRIES = 256;

export interface SpecCache {
  get(source: string): string | undefined;
  set(source: string, spec: string): void;
}

/**
 * `PERCH_CACHE_DIR` (empty: no cache), else `$XDG_CACHE_HOME/perch`, else `~/.cache/perch`.
 * Undefined when the directory cannot be made safe to use.
 */
export function openSpecCache(salt: string, env: NodeJS.ProcessEnv = process.env): SpecCache | undefined {
  const dir = env.PERCH_CACHE_DIR ?? path.join(env.XDG_CACHE_HOME || path.join(homedir(), ".cache"), "perch");
  if (dir === "" || !ownedAndPrivate(dir)) return undefined;
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
      const target = file(source);
      const temp = `${target}.${process.pid}.tmp`;
      try {
        writeFileSync(temp, spec, { mode: 0o600 });
        renameSync(temp, target);
        prune(dir);
      } catch {
        // A cache that cannot be written is only a slower start.
      }
    },
  };
}

function ownedAndPrivate(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = statSync(dir);
    return st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

function prune(dir: string): void {
  const names = readdirSync(dir).filter((n) => n.endsWith(".js"));
  if (names.length <= MAX_ENTRIES) return;
  const byAge = names.map((n) => ({ n, t: statSync(path.join(dir, n)).mtimeMs })).sort((a, b) => a.t - b.t);
  for (const { n } of byAge.slice(0, names.length - MAX_ENTRIES / 2)) unlinkSync(path.join(dir, n));
}

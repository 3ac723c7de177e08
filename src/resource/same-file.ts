/**
 * Which file a destination names, so two spellings of one file (`out//a`, `out/../out/a`, a symlinked
 * directory) are one destination: the nearest existing directory is resolved through its symlinks, the rest
 * is cleaned lexically (a directory that does not exist yet holds no links). The last segment is kept as
 * written: a destination that is a symlink is replaced by the writer, not followed.
 */
import { realpath } from "node:fs/promises";
import path from "node:path";

export async function destinationFile(dest: string): Promise<string> {
  const name = path.basename(dest);
  const missing: string[] = [];
  // The directory as written (not cleaned first): `link/..` is the kernel's parent of the link's target.
  let dir = path.dirname(dest);
  for (;;) {
    try {
      return path.join(await realpath(dir), ...missing, name);
    } catch {
      const parent = path.dirname(dir);
      if (parent === dir) return path.resolve(dest);
      missing.unshift(path.basename(dir));
      dir = parent;
    }
  }
}

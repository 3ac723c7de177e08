/**
 * The install cache: what this process last installed at each destination, and the file's identity
 * then. While lstat shows that identity, that content is the file's, and no read of megabytes is
 * needed. It is kept in the one form it was given in: text stays text, never encoded a second time.
 */
import { lstatSync, type BigIntStats } from "node:fs";
import type { FileContent } from "./content.js";

interface Installed {
  content: FileContent["held"];
  identity: string;
}

const installed = new Map<string, Installed>();

// Linux gives a file written or replaced since a new ctime (or inode).
function identityOf(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** What this process installed at `dest` (text, or bytes when given as bytes), when `st` (its lstat) shows it is still there. */
export function stillInstalled(dest: string, st: BigIntStats): FileContent["held"] | undefined {
  const last = installed.get(dest);
  return last !== undefined && last.identity === identityOf(st) ? last.content : undefined;
}

/** Remember what was installed at `dest` (best effort: without it, the next write reads the file). */
export function recordInstalled(dest: string, content: FileContent): void {
  try {
    installed.set(dest, { content: content.held, identity: identityOf(lstatSync(dest, { bigint: true })) });
  } catch {
    installed.delete(dest);
  }
}

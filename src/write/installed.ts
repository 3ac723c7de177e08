/**
 * The install cache: what this process last installed at each destination, and the file's identity
 * then. While lstat shows that identity, those bytes are its content, and no read of megabytes is needed.
 */
import { lstatSync, type BigIntStats } from "node:fs";

interface Installed {
  bytes: Buffer;
  /** The text the bytes were encoded from, when the content was given as text. */
  text: string | undefined;
  identity: string;
}

const installed = new Map<string, Installed>();

// Linux gives a file written or replaced since a new ctime (or inode).
function identityOf(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** What this process installed at `dest`, when `st` (its lstat) shows it is still there. */
export function stillInstalled(dest: string, st: BigIntStats): Installed | undefined {
  const last = installed.get(dest);
  return last !== undefined && last.identity === identityOf(st) ? last : undefined;
}

/** Remember what was installed at `dest` (best effort: without it, the next write reads the file). */
export function recordInstalled(dest: string, bytes: Buffer, text: string | undefined): void {
  try {
    installed.set(dest, { bytes, text, identity: identityOf(lstatSync(dest, { bigint: true })) });
  } catch {
    installed.delete(dest);
  }
}

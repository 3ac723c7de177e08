/** Destination directories made under --root (PassOptions.createDirs): a daemon makes each once. */
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";

const createdDirs = new Set<string>();

/** Makes `dest`'s directory unless this process already has (a write that failed since forgot it). */
export async function ensureDestDir(dest: string): Promise<void> {
  const dir = dirname(dest);
  if (createdDirs.has(dir)) return;
  await mkdir(dir, { recursive: true }).catch(() => undefined);
  createdDirs.add(dir);
}

/** After a failed write: the directory may be gone, so the next write makes it again. */
export function forgetDestDir(dest: string): void {
  createdDirs.delete(dirname(dest));
}

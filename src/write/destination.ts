/**
 * The destination look: what is at the destination before a write, taken before the content renders
 * (lookAtDestination). Its lstat is made on this thread: a thread-pool call's answer would wait for
 * the render to end and then for a turn of the event loop, on the way to the write.
 */
import { lstatSync, type BigIntStats, type Stats } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { FileContent } from "./content.js";
import { stillInstalled } from "./installed.js";
import { hasOwnership, type FileAttributes, type Ownership } from "./ownership.js";
import { describeErrno, errnoCode } from "./step.js";

export interface Destination {
  /** What reading the destination returns, the old side of a diff: the text this process installed there, or the bytes read. */
  content: FileContent | null;
  /** The regular file at the destination; null when there is none (missing, or a symlink). */
  file: FileAttributes | null;
}

/** What the destination is, or why it cannot be written (it is not a regular file). */
export type DestinationLook = Promise<Destination | string>;

/** Why nothing can be written at the destination, and whether the write would have changed it. */
export interface Refusal {
  reason: string;
  changed: boolean;
}

/**
 * Starts the look (lstat; a read, on the thread pool, unless this process installed what is there:
 * then the look is complete when this returns). A file changed after it is replaced when the new
 * content differs from what it saw, as if changed just after the write.
 */
export function lookAtDestination(dest: string): DestinationLook {
  const pending = look(dest);
  // Awaited by writeFile, which reports a failure; unhandled until then (a render can fail first).
  pending.catch(() => undefined);
  return pending;
}

/**
 * A symlink is not followed: the new file replaces the link (as rename does), so perch changes no file
 * it was not asked to manage. Its target's content is still read, as what readers of the link saw.
 */
async function look(dest: string): Promise<Destination | string> {
  let st: BigIntStats;
  try {
    st = lstatSync(dest, { bigint: true });
  } catch (err) {
    if (errnoCode(err) !== "ENOENT") throw err;
    return { content: null, file: null };
  }
  if (st.isSymbolicLink()) {
    const target = await stat(dest).catch(() => null);
    return { content: target?.isFile() ? new FileContent(await readFile(dest)) : null, file: null };
  }
  if (!st.isFile()) return `it is ${fileKind(st)}, not a regular file`;
  const file = { mode: Number(st.mode) & 0o7777, uid: Number(st.uid), gid: Number(st.gid) };
  const last = stillInstalled(dest, st);
  if (last !== undefined) return { content: new FileContent(last), file };
  return { content: new FileContent(await readFile(dest)), file };
}

/** The look's outcome for a write: what is there, or why nothing can be written. */
export async function settleLook(look: DestinationLook, dest: string): Promise<Destination | Refusal> {
  try {
    const found = await look;
    if (typeof found === "string") return { reason: found, changed: false };
    if (found.content === null && found.file === null) {
      const dir = path.dirname(dest);
      const dirStat = await stat(dir).catch((err: unknown) => (errnoCode(err) === "ENOENT" ? null : Promise.reject(err)));
      if (dirStat === null) return { reason: `directory ${dir} does not exist`, changed: true };
      if (!dirStat.isDirectory()) return { reason: `${dir} is not a directory`, changed: true };
    }
    return found;
  } catch (err) {
    return { reason: `${describeErrno(err)} (reading it)`, changed: false };
  }
}

/** The destination already is what the write would make: same bytes, mode and owner. */
export function upToDate(found: Destination, content: FileContent, want: Ownership): boolean {
  if (found.file === null || found.content === null) return false;
  return found.content.sameAs(content) && hasOwnership(found.file, want);
}

function fileKind(st: Stats | BigIntStats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO";
  if (st.isSocket()) return "a socket";
  return "a device";
}

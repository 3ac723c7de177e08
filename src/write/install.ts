/** The stage file put in the destination's place: a rename, or an in-place write where none is possible. */
import { close, constants, ftruncateSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import path from "node:path";
import type { FileContent } from "./content.js";
import { fillSyncAndClose } from "./fill.js";
import { closeQuietly, syncDirectory } from "./fsync.js";
import { recordInstalled } from "./installed.js";
import type { Ownership } from "./ownership.js";
import { describeErrno, errnoCode, failedStep, InPlaceError, step } from "./step.js";

/**
 * Renames the stage file over `dest`. True when the rename was refused (EBUSY: a bind-mounted file;
 * EXDEV) and the bytes went into the file in place: not atomic, but the only way; the stage file stays.
 */
export async function install(stage: string, dest: string, content: FileContent, want: Ownership): Promise<boolean> {
  const old = holdOldFile(dest);
  try {
    renameSync(stage, dest);
  } catch (err) {
    if (old !== undefined) closeQuietly(old);
    const code = errnoCode(err);
    if (code !== "EBUSY" && code !== "EXDEV") failedStep("renaming the stage file over it", err);
    await writeInPlace(dest, code, content.bytes(), want);
    recordInstalled(dest, content);
    return true;
  }
  if (old !== undefined) close(old, () => undefined);
  recordInstalled(dest, content);
  await syncDirectory(path.dirname(dest));
  return false;
}

/**
 * A descriptor on the file the rename replaces. Without one, the rename drops the old file's last
 * link and frees its blocks (with a discard, on a filesystem mounted so) before it returns; with
 * one, that waits for the descriptor's close, made on the thread pool once the new file is in place.
 * Undefined where there is no file to hold (or it cannot be opened): the rename then frees it.
 */
function holdOldFile(dest: string): number | undefined {
  try {
    return openSync(dest, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
}

/**
 * Writes `bytes` into `dest` in place without ever losing the old content: the part beyond the old
 * length is written first (the filesystem's room is then secured: overwriting allocated blocks
 * needs none), then the old bytes are overwritten, then the file is cut to length. A failure before
 * the overwrite leaves the old content (cut back to its length); one during it writes the old bytes
 * back. The error says which state the file is in.
 */
async function writeInPlace(dest: string, code: string, bytes: Uint8Array, want: Ownership): Promise<void> {
  // O_NOFOLLOW: never write through a symlink (see destination.ts). No O_TRUNC: the old bytes stay.
  const flags = constants.O_RDWR | constants.O_NOFOLLOW;
  const fd = step(`opening it for an in-place write after ${code}`, () => openSync(dest, flags));
  let old: Buffer;
  try {
    old = step("reading its old content before the in-place write", () => readFileSync(fd));
  } catch (err) {
    closeQuietly(fd);
    throw err;
  }
  let overwriting = false;
  try {
    if (bytes.length > old.length) step("securing the room for the in-place write", () => writeAll(fd, bytes.subarray(old.length), old.length));
    overwriting = true;
    step("writing in place", () => writeAll(fd, bytes.subarray(0, Math.min(old.length, bytes.length)), 0));
    if (bytes.length < old.length) step("cutting it to its new length", () => ftruncateSync(fd, bytes.length));
  } catch (err) {
    const state = overwriting ? restore(fd, old) : cutBack(fd, old.length);
    closeQuietly(fd);
    throw new InPlaceError(err, state);
  }
  await fillSyncAndClose(fd, new Uint8Array(0), want, false);
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}

/** The old bytes are untouched; only what was appended goes. */
function cutBack(fd: number, length: number): string {
  try {
    ftruncateSync(fd, length);
    return "the destination still holds its old content";
  } catch (err) {
    return `the destination holds its old content followed by part of the new (cutting it back failed: ${describeErrno(err)})`;
  }
}

function restore(fd: number, old: Buffer): string {
  try {
    writeAll(fd, old, 0);
    ftruncateSync(fd, old.length);
    return "the destination was restored to its old content";
  } catch (err) {
    return `the destination is partly written: restoring its old content failed (${describeErrno(err)})`;
  }
}

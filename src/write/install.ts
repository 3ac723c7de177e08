/** The stage file put in the destination's place: a rename, or an in-place write where none is possible. */
import { constants, ftruncateSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import path from "node:path";
import type { NewContent } from "./content.js";
import { fillSyncAndClose } from "./fill.js";
import { closeQuietly, syncDirectory } from "./fsync.js";
import { recordInstalled } from "./installed.js";
import type { Ownership } from "./ownership.js";
import { describeErrno, errnoCode, failedStep, InPlaceError, step } from "./step.js";

/**
 * Renames the stage file over `dest`. True when the rename was refused (EBUSY: a bind-mounted file;
 * EXDEV) and the bytes went into the file in place: not atomic, but the only way; the stage file stays.
 */
export async function install(stage: string, dest: string, content: NewContent, want: Ownership): Promise<boolean> {
  try {
    renameSync(stage, dest);
  } catch (err) {
    const code = errnoCode(err);
    if (code !== "EBUSY" && code !== "EXDEV") failedStep("renaming the stage file over it", err);
    await writeInPlace(dest, code, content.bytes(), want);
    recordInstalled(dest, content.bytes(), content.text);
    return true;
  }
  recordInstalled(dest, content.bytes(), content.text);
  await syncDirectory(path.dirname(dest));
  return false;
}

/**
 * Writes `bytes` into `dest` in place without ever losing the old content: the part beyond the old
 * length is written first (the filesystem's room is then secured: overwriting allocated blocks
 * needs none), then the old bytes are overwritten, then the file is cut to length. A failure before
 * the overwrite leaves the old content (cut back to its length); one during it writes the old bytes
 * back. The error says which state the file is in.
 */
async function writeInPlace(dest: string, code: string, bytes: Buffer, want: Ownership): Promise<void> {
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

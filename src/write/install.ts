/** The stage file put in the destination's place: a rename, or an in-place write where none is possible. */
import { constants, openSync, renameSync } from "node:fs";
import path from "node:path";
import type { NewContent } from "./content.js";
import { fillSyncAndClose } from "./fill.js";
import { syncDirectory } from "./fsync.js";
import { recordInstalled } from "./installed.js";
import type { Ownership } from "./ownership.js";
import { errnoCode, failedStep, step } from "./step.js";

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

async function writeInPlace(dest: string, code: string, bytes: Buffer, want: Ownership): Promise<void> {
  // O_NOFOLLOW: never write through a symlink (see destination.ts).
  const flags = constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW;
  const fd = step(`opening it for an in-place write after ${code}`, () => openSync(dest, flags));
  await fillSyncAndClose(fd, bytes, want, false);
}

/**
 * The bytes, owner and mode of a file through its descriptor: every byte first, then owner and mode,
 * since a write clears setuid/setgid bits (without CAP_FSETID) and so does chown.
 */
import { closeSync, writeFileSync } from "node:fs";
import { closeQuietly, timedFsync } from "./fsync.js";
import { applyOwnership, type Ownership } from "./ownership.js";
import { step } from "./step.js";

/**
 * Fills `fd`, fsyncs it (so the fsync covers the metadata too) and closes it; resolves to the
 * fsync's duration. `onWaiting` is called once the fsync is under way.
 */
export async function fillSyncAndClose(fd: number, bytes: Uint8Array, want: Ownership, fresh: boolean, onWaiting?: () => void): Promise<number> {
  try {
    fill(fd, bytes, want, fresh);
    const synced = timedFsync(fd);
    onWaiting?.();
    return await synced;
  } finally {
    closeQuietly(fd);
  }
}

/** Fills a stage file just created and closes it, unsynced. */
export function fillAndClose(fd: number, bytes: Uint8Array, want: Ownership): void {
  try {
    fill(fd, bytes, want, true);
  } catch (err) {
    closeQuietly(fd);
    throw err;
  }
  step("closing the stage file", () => closeSync(fd));
}

function fill(fd: number, bytes: Uint8Array, want: Ownership, fresh: boolean): void {
  step("writing", () => writeFileSync(fd, bytes));
  applyOwnership(fd, want, fresh);
}

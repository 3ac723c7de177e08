/** The mode and owner the installed file gets, and setting them on its descriptor. */
import { fchmodSync, fchownSync, fstatSync, type Stats } from "node:fs";
import { step } from "./step.js";

export interface Ownership {
  mode: number;
  /** Undefined: whatever a new file gets (the current user; the directory's group if setgid). */
  uid: number | undefined;
  gid: number | undefined;
}

/** The regular file at the destination, as lstat showed it. */
export interface FileAttributes {
  mode: number;
  uid: number;
  gid: number;
}

/** The policy's mode and owner; unset, the existing file's (0o644 and the current user for a new one). */
export function wantedOwnership(policy: { mode?: number; uid?: number; gid?: number }, file: FileAttributes | null): Ownership {
  return { mode: policy.mode ?? file?.mode ?? 0o644, uid: policy.uid ?? file?.uid, gid: policy.gid ?? file?.gid };
}

export function hasOwnership(file: FileAttributes, want: Ownership): boolean {
  return file.mode === want.mode && file.uid === want.uid && file.gid === want.gid;
}

/**
 * Sets owner and mode on a file just written. A stage file just created (`fresh`) has the wanted bits
 * already: chmod only when a chown cleared setuid/setgid, or a umask or default ACL took bits away.
 */
export function applyOwnership(fd: number, want: Ownership, fresh: boolean): void {
  if (fresh) {
    const st = step("reading its owner and mode", () => fstatSync(fd));
    const chowned = setOwner(fd, want, st);
    if (chowned || (st.mode & 0o7777) !== want.mode) setMode(fd, want);
    return;
  }
  // No owner wanted: the file keeps the one it has, so there is nothing to read.
  if (want.uid !== undefined || want.gid !== undefined) setOwner(fd, want, step("reading its owner", () => fstatSync(fd)));
  setMode(fd, want);
}

/** Gives the file the wanted owner when `st` shows another; true when it did. */
function setOwner(fd: number, want: Ownership, st: Stats): boolean {
  const uid = want.uid ?? st.uid;
  const gid = want.gid ?? st.gid;
  // Only when it differs: an unprivileged perch may not chown, even to its own ids.
  if (uid === st.uid && gid === st.gid) return false;
  step(`setting owner ${uid}:${gid}`, () => fchownSync(fd, uid, gid));
  return true;
}

function setMode(fd: number, want: Ownership): void {
  step(`setting mode ${want.mode.toString(8).padStart(4, "0")}`, () => fchmodSync(fd, want.mode));
}

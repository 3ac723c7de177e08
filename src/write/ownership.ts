/** The mode and owner the installed file gets, and setting them on its descriptor. */
import { fchmodSync, fchownSync, fstatSync, type Stats } from "node:fs";
import { errnoCode, failedStep, step } from "./step.js";

export interface Ownership {
  mode: number;
  /** Undefined: whatever a new file gets (the current user; the directory's group if setgid). */
  uid: number | undefined;
  gid: number | undefined;
  /**
   * Which of uid and gid are the existing file's, kept because conf.d sets none: kept when the
   * process may set them, else the file is installed with the process's own (onKeepRefused).
   */
  kept?: { uid: boolean; gid: boolean };
  /** A kept owner could not be set (EPERM): what the file got instead, in words. */
  onKeepRefused?: (message: string) => void;
}

/** The regular file at the destination, as lstat showed it. */
export interface FileAttributes {
  mode: number;
  uid: number;
  gid: number;
}

/** The policy's mode and owner; unset, the existing file's (0o644 and the current user for a new one). */
export function wantedOwnership(policy: { mode?: number; uid?: number; gid?: number }, file: FileAttributes | null): Ownership {
  return {
    mode: policy.mode ?? file?.mode ?? 0o644,
    uid: policy.uid ?? file?.uid,
    gid: policy.gid ?? file?.gid,
    kept: { uid: policy.uid === undefined, gid: policy.gid === undefined },
  };
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

/**
 * Gives the file the wanted owner when `st` shows another; true when it did. An owner conf.d set
 * that cannot be set is an error; a kept one (conf.d sets none) that the process may not set
 * (EPERM: not root, the file another user's) is left as the file has it, with onKeepRefused.
 */
function setOwner(fd: number, want: Ownership, st: Stats): boolean {
  const uid = want.uid ?? st.uid;
  const gid = want.gid ?? st.gid;
  // Only when it differs: an unprivileged perch may not chown, even to its own ids.
  if (uid === st.uid && gid === st.gid) return false;
  try {
    fchownSync(fd, uid, gid);
    return true;
  } catch (err) {
    if (errnoCode(err) !== "EPERM" || (!want.kept?.uid && !want.kept?.gid)) failedStep(`setting owner ${uid}:${gid}`, err);
  }
  // What conf.d set explicitly still has to hold.
  const setUid = want.kept?.uid ? st.uid : uid;
  const setGid = want.kept?.gid ? st.gid : gid;
  const chowned = setUid !== st.uid || setGid !== st.gid;
  if (chowned) step(`setting owner ${setUid}:${setGid}`, () => fchownSync(fd, setUid, setGid));
  want.onKeepRefused?.(`cannot keep the owner ${uid}:${gid} (EPERM: operation not permitted): installed owned by ${setUid}:${setGid}, perch's own; set uid/gid in conf.d to choose`);
  return chowned;
}

function setMode(fd: number, want: Ownership): void {
  step(`setting mode ${want.mode.toString(8).padStart(4, "0")}`, () => fchmodSync(fd, want.mode));
}

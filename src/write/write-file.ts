import { randomBytes } from "node:crypto";
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, fsync, lstatSync, openSync, renameSync, writeFileSync, type BigIntStats, type Stats } from "node:fs";
import { copyFile, lstat, readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { fillPlaceholder } from "../command/placeholders.js";
import { runCommand, type CommandResult } from "../command/run-command.js";

export interface WritePolicy {
  /** Unset: keep the existing file's mode, or 0o644 for a new file. */
  mode?: number;
  /** Unset: keep the existing file's owner, or the current user for a new file. */
  uid?: number;
  gid?: number;
  /** Raw confd-style command; `{{.src}}` and `{{src}}` are replaced by the stage file's path. */
  checkCmd?: string;
  checkTimeoutMs: number;
  /** Compare only: report what would change, touch nothing. */
  noop: boolean;
  /** Leave a copy of the stage file beside the destination (confd's `-keep-stage-file`), for debugging. */
  keepStageFile?: boolean;
  /**
   * Called at most once, when the write starts waiting on work that does not need this thread (the
   * stage file's fsync, or the check_cmd process): the caller may use the thread meanwhile.
   */
  onWaiting?: () => void;
  /**
   * The destination as lookAtDestination saw it, taken while the content was still rendering: the
   * comparison then needs no file system call of its own (an lstat took ~0.35 ms on the bench
   * machine, on the latency path). Without it, the writer looks now.
   */
  destination?: DestinationLook;
}

/** What the destination is (see inspect): started early by lookAtDestination, awaited by writeFile. */
export type DestinationLook = Promise<Current | string>;

export interface WriteResult {
  action: "unchanged" | "written" | "would-write" | "check-failed" | "failed";
  /** Content, mode or owner differ from the destination (false when the failure came first). */
  changed: boolean;
  /** The old content, for diffs; null when the destination did not exist. */
  previous: Buffer | null;
  check?: CommandResult;
  error?: string;
  /** The rename was refused (EBUSY: a bind-mounted file; EXDEV) and the file was written in place. */
  inPlace?: boolean;
  /**
   * The stage file's fsync, from the call to its completion as this thread saw it: the disk's share
   * of a write. It runs beside check_cmd when there is one, and then also holds the check's process
   * start (a fork of perch, on this thread). Absent when no fsync ran.
   */
  fsyncMs?: number;
  durationMs: number;
}

const STAGE_MARK = ".perch-stage-";

/** Destinations whose stale stage files this process has already removed (see writeFile). */
const cleanedAtStart = new Set<string>();

/**
 * What this process last installed at each destination, with the file's identity right after the
 * install. While lstat still shows that identity (same inode, size, mtime and ctime: nothing has
 * written or replaced the file since; Linux gives a changed file a new ctime), these bytes are its
 * content, and the comparison needs no read of a file that can be megabytes.
 */
const installed = new Map<string, { bytes: Buffer; text: string | undefined; identity: string }>();

function identityOf(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

interface Ownership {
  mode: number;
  /** Undefined: whatever a new file gets (the current user; the directory's group if setgid). */
  uid: number | undefined;
  gid: number | undefined;
}

export interface Current {
  /** What reading the destination returns: the old side of a diff. */
  content: Buffer | null;
  /** The regular file at the destination; null when there is none (missing, or a symlink). */
  file: { mode: number; uid: number; gid: number } | null;
  /** The text this process installed there, when it is still what is there and was given as text. */
  installedText?: string;
}

/** The step that failed, so that an error says more than the errno. */
class StepError extends Error {
  constructor(
    readonly step: string,
    readonly original: unknown,
  ) {
    super(step);
  }
}

/** Runs `action`, synchronous or not, naming `name` as the step of whatever it throws or rejects with. */
function step<T>(name: string, action: () => T): T {
  const named = (err: unknown): StepError => (err instanceof StepError ? err : new StepError(name, err));
  try {
    const result = action();
    return (result instanceof Promise ? result.catch((err: unknown) => Promise.reject(named(err))) : result) as T;
  } catch (err) {
    throw named(err);
  }
}

function errnoCode(err: unknown): string | undefined {
  return err instanceof Error && "code" in err && typeof err.code === "string" ? err.code : undefined;
}

/** "EACCES: permission denied" — Node's message without its trailing ", open '<path>'" (or bare ", write"). */
function describeErrno(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = errnoCode(err);
  if (code === undefined) return message;
  const description = message.startsWith(`${code}: `) ? message.slice(code.length + 2).replace(/, \w+(?: '.*)?$/s, "") : message;
  return `${code}: ${description}`;
}

function fileKind(st: Stats | BigIntStats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO";
  if (st.isSocket()) return "a socket";
  return "a device";
}

/**
 * A symlink at the destination is not followed: the new regular file replaces the link itself
 * (rename does not follow links). Writing through it would change a file perch was not asked to
 * manage, possibly outside the destination's directory and filesystem, and the atomic rename would
 * be impossible. Its target's content is still read, as what readers of the destination saw.
 */
async function inspect(dest: string): Promise<Current | string> {
  let st: BigIntStats;
  try {
    st = await lstat(dest, { bigint: true });
  } catch (err) {
    if (errnoCode(err) !== "ENOENT") throw err;
    return { content: null, file: null };
  }
  if (st.isSymbolicLink()) {
    const target = await stat(dest).catch(() => null);
    return { content: target?.isFile() ? await readFile(dest) : null, file: null };
  }
  if (!st.isFile()) return `it is ${fileKind(st)}, not a regular file`;
  const file = { mode: Number(st.mode) & 0o7777, uid: Number(st.uid), gid: Number(st.gid) };
  const last = installed.get(dest);
  if (last !== undefined && last.identity === identityOf(st)) return { content: last.bytes, file, installedText: last.text };
  return { content: await readFile(dest), file };
}

/**
 * Starts looking at `dest` (lstat; a read when this process did not install what is there) for a
 * writeFile to come. The comparison is then with the destination as it was when the look began: a
 * file changed by someone else in the meantime is still replaced when the new content differs from
 * what was seen, as it would be had it changed just after the comparison.
 */
export function lookAtDestination(dest: string): DestinationLook {
  const look = inspect(dest);
  // Awaited by writeFile, which reports a failure; unhandled until then (a render can fail first).
  look.catch(() => undefined);
  return look;
}

/** Remember what was installed at `dest` (best effort: without it, the next write reads the file). */
function recordInstalled(dest: string, bytes: Buffer, text: string | undefined): void {
  try {
    installed.set(dest, { bytes, text, identity: identityOf(lstatSync(dest, { bigint: true })) });
  } catch {
    installed.delete(dest);
  }
}

/*
 * The quick calls of a write (create, write into the page cache, fstat, chmod, close, rename, lstat,
 * the open and close around an fsync) are made on this thread; only an fsync, which waits for the
 * disk, goes to the thread pool. Each thread-pool round trip cost 0.05–0.35 ms on the bench machine,
 * the most after the CPU sat idle, as it does between a daemon's changes: a whole write of a
 * 1,000-node bird.cfg went from 2.57 to 2.15 ms. On a filesystem that stops answering, these calls
 * hold the thread, and /healthz with it, until it answers: the write would wait for it either way.
 */
const fsyncDescriptor = promisify(fsync);

/**
 * Writes every byte, then sets owner and mode: in that order, since a write clears setuid/setgid
 * bits (without CAP_FSETID) and so does chown. A stage file just created (`fresh`: with the wanted
 * permission bits, so no setuid/setgid bit for the write to clear) has its mode set only when it is
 * not already the wanted one (a umask or a default ACL can take bits away).
 */
function prepare(fd: number, bytes: Uint8Array, want: Ownership, fresh: boolean): void {
  step("writing", () => writeFileSync(fd, bytes));
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

/** Runs `sync` and resolves to how long it took. */
async function timedSync(sync: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await step("fsync", sync);
  return performance.now() - started;
}

/** prepare, then fsync (so the fsync covers the metadata too). Resolves to the fsync's duration; the caller closes. */
async function fillAndSync(fd: number, bytes: Uint8Array, want: Ownership, fresh: boolean, onWaiting?: () => void): Promise<number> {
  prepare(fd, bytes, want, fresh);
  const synced = timedSync(() => fsyncDescriptor(fd));
  onWaiting?.();
  return await synced;
}

/** For a descriptor whose fsync has run, or whose write failed: its close has nothing to add. */
function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Nothing to report: the fsync had the last word on the data, or an earlier failure has it.
  }
}

function stagePrefix(base: string): string {
  return `.${base}${STAGE_MARK}`;
}

/**
 * Random once per process, then counted: unique within the process, and with the pid unlikely to
 * meet another process's names (O_EXCL refuses one that does). randomBytes per name cost 0.07 ms
 * on the latency path after the daemon sat idle.
 */
let stageToken: string | undefined;
let stageCount = 0;

function newStagePath(dir: string, base: string): string {
  stageToken ??= randomBytes(6).toString("hex");
  return path.join(dir, `${stagePrefix(base)}${process.pid}-${stageToken}${(stageCount++).toString(16)}`);
}

/** Stage files a crashed run left for this destination (only ours: `<pid>-<hex>` after the mark). */
async function removeStaleStages(dir: string, base: string): Promise<void> {
  const prefix = stagePrefix(base);
  // Best effort: a directory we cannot list or clean is reported by the stage file's creation.
  const names = await readdir(dir).catch(() => []);
  await Promise.all(
    names
      .filter((name) => name.startsWith(prefix) && /^\d+-[0-9a-f]+$/.test(name.slice(prefix.length)))
      .map((name) => rm(path.join(dir, name), { force: true }).catch(() => undefined)),
  );
}

/**
 * --keep-stage-file: a copy, so the stage file itself still follows one path (renamed, or removed
 * on failure) while the kept one survives both a failed check and a write, until the next write's
 * cleanup.
 */
async function keepCopy(policy: WritePolicy, stage: string, dir: string, base: string): Promise<void> {
  if (policy.keepStageFile) await step("keeping a copy of the stage file", () => copyFile(stage, newStagePath(dir, base), constants.COPYFILE_EXCL));
}

/** fsync through a read-only descriptor (Linux flushes the file's data and metadata all the same). */
async function syncPath(file: string): Promise<void> {
  const fd = openSync(file, constants.O_RDONLY);
  try {
    await fsyncDescriptor(fd);
  } finally {
    closeQuietly(fd);
  }
}

async function syncDirectory(dir: string): Promise<void> {
  // Best effort: the rename has happened, so the file is installed; failing now would skip the
  // reload of a file that did change. Some filesystems refuse fsync on a directory (EINVAL).
  await syncPath(dir).catch(() => undefined);
}

/**
 * Installs the stage file over `dest`, and records it (recordInstalled). Returns true when the
 * rename was refused because `dest` is a mount point (EBUSY: a file bind-mounted into a container)
 * or on another filesystem (EXDEV), and the bytes were written into the existing file instead — not
 * atomic, but the only way to update it; the stage file is then still there.
 */
async function commit(stage: string, dest: string, bytes: Buffer, text: string | undefined, want: Ownership): Promise<boolean> {
  try {
    renameSync(stage, dest);
  } catch (err) {
    const code = errnoCode(err);
    if (code !== "EBUSY" && code !== "EXDEV") throw new StepError("renaming the stage file over it", err);
    // O_NOFOLLOW: never write through a symlink (see inspect).
    const flags = constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW;
    const fd = step(`opening it for an in-place write after ${code}`, () => openSync(dest, flags));
    try {
      await fillAndSync(fd, bytes, want, false);
    } finally {
      closeQuietly(fd);
    }
    recordInstalled(dest, bytes, text);
    return true;
  }
  recordInstalled(dest, bytes, text);
  await syncDirectory(path.dirname(dest));
  return false;
}

/**
 * Installs `content` at `dest` following DESIGN.md "Writing files": compare, stage in dest's
 * directory, check, rename. Never throws for I/O problems: they are a `failed` result whose error
 * names the destination and the errno.
 */
export async function writeFile(content: string | Uint8Array, dest: string, policy: WritePolicy): Promise<WriteResult> {
  const started = performance.now();
  const finish = (result: Omit<WriteResult, "durationMs">): WriteResult => ({
    ...result,
    durationMs: performance.now() - started,
  });
  const fail = (changed: boolean, previous: Buffer | null, reason: string): WriteResult =>
    finish({ action: "failed", changed, previous, error: `cannot write ${dest}: ${reason}` });

  // Text is encoded only when its bytes are needed: compared with a file this process did not
  // install, or written (then while the stage file is being created).
  const text = typeof content === "string" ? content : undefined;
  let encoded: Buffer | undefined = typeof content === "string" ? undefined : Buffer.from(content);
  const bytesOf = (): Buffer => (encoded ??= Buffer.from(content as string, "utf8"));
  const dir = path.dirname(dest);
  const base = path.basename(dest);
  // A crashed run's stage files go on the first visit of each destination, even when there is
  // nothing to write: otherwise they would stay for as long as the destination stays up to date.
  if (!policy.noop && !cleanedAtStart.has(dest)) {
    cleanedAtStart.add(dest);
    await removeStaleStages(dir, base);
  }

  let current: Current;
  try {
    const inspected = await (policy.destination ?? inspect(dest));
    if (typeof inspected === "string") return fail(false, null, inspected);
    current = inspected;
    if (current.content === null && current.file === null) {
      const dirStat = await stat(dir).catch((err: unknown) => (errnoCode(err) === "ENOENT" ? null : Promise.reject(err)));
      if (dirStat === null) return fail(true, null, `directory ${dir} does not exist`);
      if (!dirStat.isDirectory()) return fail(true, null, `${dir} is not a directory`);
    }
  } catch (err) {
    return fail(false, null, `${describeErrno(err)} (reading it)`);
  }

  const previous = current.content;
  const want: Ownership = {
    mode: policy.mode ?? current.file?.mode ?? 0o644,
    uid: policy.uid ?? current.file?.uid,
    gid: policy.gid ?? current.file?.gid,
  };
  const { file } = current;
  if (
    file !== null &&
    current.content !== null &&
    (text !== undefined && current.installedText !== undefined ? current.installedText === text : Buffer.compare(current.content, bytesOf()) === 0) &&
    file.mode === want.mode &&
    file.uid === want.uid &&
    file.gid === want.gid
  ) {
    return finish({ action: "unchanged", changed: false, previous });
  }
  if (policy.noop) return finish({ action: "would-write", changed: true, previous });

  // The copies --keep-stage-file left go before the next one is made.
  if (policy.keepStageFile) await removeStaleStages(dir, base);
  const stage = newStagePath(dir, base);
  let stageExists = false;
  try {
    const bytes = bytesOf();
    // O_EXCL: never reuse a file someone else created. Created with the wanted permission bits
    // (setuid, setgid and sticky come with the final chmod): the stage file holds nothing that the
    // installed file will not show with the same permissions.
    const fd = step("creating the stage file", () => openSync(stage, "wx", want.mode & 0o777));
    stageExists = true;
    let check: CommandResult | undefined;
    let fsyncMs: number;
    if (policy.checkCmd === undefined) {
      try {
        fsyncMs = await fillAndSync(fd, bytes, want, true, policy.onWaiting);
      } finally {
        closeQuietly(fd);
      }
      await keepCopy(policy, stage, dir, base);
    } else {
      try {
        prepare(fd, bytes, want, true);
      } catch (err) {
        closeQuietly(fd);
        throw err;
      }
      // Closed before the check: a check_cmd that executes the staged file would get ETXTBSY
      // while a descriptor open for writing exists.
      step("closing the stage file", () => closeSync(fd));
      // The check reads the staged bytes (from the page cache) while the fsync takes them to disk:
      // only the rename has to wait for both, and a check no longer waits for the disk first.
      const synced = timedSync(() => syncPath(stage));
      synced.catch(() => undefined); // awaited below, after the check
      await keepCopy(policy, stage, dir, base);
      // cwd = dest's directory: BIRD resolves a relative `include "bird_ipam.cfg"` from there. So
      // the stage file's path must not be relative to perch's own directory (`--root out`).
      check = await runCommand(fillPlaceholder(policy.checkCmd, "src", path.resolve(stage)), { cwd: dir, timeoutMs: policy.checkTimeoutMs, onSpawned: policy.onWaiting });
      fsyncMs = await synced;
    }

    if (check !== undefined) {
      if (!check.ok) {
        return finish({
          action: "check-failed",
          changed: true,
          previous,
          check,
          fsyncMs,
          error: `check_cmd failed for ${dest}: ${check.error ?? "unknown error"}`,
        });
      }
    }

    const inPlace = await commit(stage, dest, bytes, text, want);
    stageExists = inPlace;
    return finish({ action: "written", changed: true, previous, fsyncMs, ...(check && { check }), ...(inPlace && { inPlace }) });
  } catch (err) {
    const reason = err instanceof StepError ? `${describeErrno(err.original)} (${err.step})` : describeErrno(err);
    return fail(true, previous, reason);
  } finally {
    if (stageExists) await rm(stage, { force: true }).catch(() => undefined);
  }
}
